// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;

namespace Cocoon.Configuration;

/// <summary>
/// The Linux limit on UNIX socket paths: <c>sun_path</c> is 108 bytes including the terminating
/// NUL, so a path may have at most 107 bytes (UTF-8).
/// </summary>
internal static class SocketPathLimit
{
    /// <summary>The size of <c>sockaddr_un.sun_path</c> on Linux.</summary>
    public const int SunPathSize = 108;

    /// <summary>The longest usable path in bytes.</summary>
    public const int MaxPathBytes = SunPathSize - 1;

    /// <summary>The path's length in bytes as the kernel counts it.</summary>
    public static int ByteLength(string path) => Encoding.UTF8.GetByteCount(path);

    /// <summary>Whether <paramref name="path"/> fits in <c>sun_path</c>.</summary>
    public static bool Fits(string path) => ByteLength(path) <= MaxPathBytes;

    /// <summary>Throws InvalidArgument naming the path, its length and the limit, with <paramref name="advice"/>.</summary>
    public static void EnsureFits(string path, string what, string advice)
    {
        var length = ByteLength(path);
        if (length > MaxPathBytes)
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                $"{what} '{path}' is {length} bytes, over the {MaxPathBytes}-byte limit of a UNIX socket path (sun_path is {SunPathSize} bytes with the NUL); {advice}");
        }
    }
}
