// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>
/// libc calls of the host library, one file per syscall family. errno becomes an exception only
/// here (<see cref="CheckIo(int, string, string)"/>), and EINTR is retried only here.
/// </summary>
internal static partial class Interop
{
    /// <summary>The C library every import binds to.</summary>
    private const string Libc = "libc";

    /// <summary>errno values this project reacts to (asm-generic/errno-base.h).</summary>
    internal enum Errno
    {
        EPERM = 1,
        ENOENT = 2,
        EINTR = 4,
        EACCES = 13,
        EEXIST = 17,
        ENOTDIR = 20,
        EISDIR = 21,
        ENOSPC = 28,
        EROFS = 30,
        EWOULDBLOCK = 11,
    }

    /// <summary>Runs a libc call until it does not fail with EINTR; throws for any other failure.</summary>
    /// <param name="call">The call; returns -1 and sets errno on failure.</param>
    /// <param name="operation">The syscall name, for the message.</param>
    /// <param name="path">The file it acted on, for the message.</param>
    /// <returns>The call's non-negative result.</returns>
    internal static int RetryOnEintr(Func<int> call, string operation, string path)
    {
        while (true)
        {
            var result = call();
            if (result >= 0)
            {
                return result;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != (int)Errno.EINTR)
            {
                ThrowIo(errno, operation, path);
            }
        }
    }

    /// <summary>Throws when a libc call returned -1 (errno in the last P/Invoke error).</summary>
    internal static int CheckIo(int result, string operation, string path)
    {
        if (result < 0)
        {
            ThrowIo(Marshal.GetLastPInvokeError(), operation, path);
        }

        return result;
    }

    /// <summary>The one errno to exception switch of this project.</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    internal static void ThrowIo(int errno, string operation, string path)
    {
        var text = Marshal.GetPInvokeErrorMessage(errno);
        var message = $"{operation} '{path}' failed: {text} (errno {errno})";
        throw (Errno)errno switch
        {
            Errno.ENOENT or Errno.ENOTDIR => new DirectoryNotFoundException(message),
            Errno.EACCES or Errno.EPERM or Errno.EROFS => new UnauthorizedAccessException(message),
            _ => new IOException(message, errno),
        };
    }
}
