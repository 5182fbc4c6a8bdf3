// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;
using Cocoon.Protocol.Internal;

namespace Cocoon.Protocol;

/// <summary>
/// The Linux limit on UNIX socket paths, which every Cocoon socket (vsock.sock, control.sock, the
/// per-port sockets, the device's front-end socket) must fit: <c>sockaddr_un.sun_path</c> is 108
/// bytes including the terminating NUL, so a path has at most 107 bytes of UTF-8.
/// </summary>
public static class UnixSocketPath
{
    /// <summary>The size of <c>sockaddr_un.sun_path</c> on Linux (<c>include/uapi/linux/un.h</c>).</summary>
    public const int SunPathSize = 108;

    /// <summary>The longest usable path in bytes: <see cref="SunPathSize"/> less the NUL.</summary>
    public const int MaxBytes = SunPathSize - 1;

    /// <summary>The path's length in bytes as the kernel counts it.</summary>
    /// <param name="path">The socket path.</param>
    /// <returns>Its UTF-8 byte count.</returns>
    public static int ByteLength(string path) => Encoding.UTF8.GetByteCount(path);

    /// <summary>Whether <paramref name="path"/> fits in <c>sun_path</c> with its NUL.</summary>
    /// <param name="path">The socket path.</param>
    /// <returns>True when it has at most <see cref="MaxBytes"/> bytes.</returns>
    public static bool Fits(string path) => ByteLength(path) <= MaxBytes;

    /// <summary>The one check and the one message: throws InvalidArgument naming the path, its length and the limit.</summary>
    /// <param name="path">The socket path.</param>
    /// <param name="what">What the path is, for the message (<c>vsock_ports[0].path</c>, <c>socket path of box 'web'</c>).</param>
    /// <param name="advice">What to do instead (<c>use a shorter path</c>).</param>
    /// <exception cref="CocoonException">InvalidArgument when the path does not fit.</exception>
    public static void EnsureFits(string path, string what, string advice)
    {
        ArgumentNullException.ThrowIfNull(path);
        var length = ByteLength(path);
        if (length > MaxBytes)
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                $"{what} '{path}' is {length} bytes, over the {MaxBytes}-byte limit of a UNIX socket path (sun_path is {SunPathSize} bytes with the NUL); {advice}");
        }
    }

    /// <summary>
    /// What is wrong with <paramref name="path"/> as a socket path to bind or connect: not absolute,
    /// a NUL byte, or longer than <see cref="MaxBytes"/>; null when it is fine.
    /// </summary>
    /// <param name="path">The socket path.</param>
    /// <returns>A phrase that completes "socket path '...' ..." (for example <c>is not absolute</c>), or null.</returns>
    public static string? Problem(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "is empty; give an absolute path";
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            return "contains a NUL byte";
        }

        if (path[0] != '/')
        {
            return "is not absolute; give a path that starts with '/'";
        }

        var length = ByteLength(path);
        return length > MaxBytes
            ? $"is {length} bytes, over the {MaxBytes}-byte limit of a UNIX socket path (sun_path is {SunPathSize} bytes with the NUL); use a shorter path"
            : null;
    }

    /// <summary>Throws InvalidArgument naming <paramref name="what"/> and the path when <see cref="Problem"/> finds one.</summary>
    /// <param name="path">The socket path.</param>
    /// <param name="what">What the path is, for the message (<c>--host-path</c>, <c>hostPath</c>).</param>
    /// <exception cref="CocoonException">InvalidArgument when the path is not usable.</exception>
    public static void EnsureValid(string? path, string what)
    {
        if (Problem(path) is { } problem)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{what} '{PrintableText.Of(path ?? string.Empty)}' {problem}");
        }
    }
}
