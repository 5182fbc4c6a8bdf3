// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Cocoon.Agent;

/// <summary>libc calls of the agent, one file per syscall family; errno turns into an exception here only.</summary>
internal static partial class Interop
{
    private const string Libc = "libc";

    /// <summary>errno values the agent handles by name (<c>include/uapi/asm-generic/errno*.h</c>).</summary>
    internal enum Errno
    {
        EPERM = 1,
        ENOENT = 2,
        ESRCH = 3,
        EINTR = 4,
        EIO = 5,
        ENOEXEC = 8,
        EBADF = 9,
        ECHILD = 10,
        EAGAIN = 11,
        ENOMEM = 12,
        EACCES = 13,
        EBUSY = 16,
        EEXIST = 17,
        ENOTDIR = 20,
        EINVAL = 22,
        EPIPE = 32,
    }

    /// <summary>Runs a libc call, retrying on EINTR; a negative result throws a <see cref="CocoonException"/> naming <paramref name="context"/>.</summary>
    internal static long CheckIo(Func<long> call, string context)
    {
        var result = TryIo(call, out var errno);
        if (result < 0)
        {
            ThrowForErrno(errno, context);
        }

        return result;
    }

    /// <summary>Runs a libc call, retrying on EINTR; returns the result and, when negative, the errno.</summary>
    internal static long TryIo(Func<long> call, out Errno errno)
    {
        while (true)
        {
            var result = call();
            if (result >= 0)
            {
                errno = 0;
                return result;
            }

            errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return result;
            }
        }
    }

    /// <summary>The one errno-to-exception mapping of the agent.</summary>
    [DoesNotReturn]
    internal static void ThrowForErrno(Errno errno, string context)
    {
        var code = errno switch
        {
            Errno.ENOENT or Errno.ENOTDIR or Errno.ESRCH => CocoonErrorCode.NotFound,
            Errno.EEXIST => CocoonErrorCode.AlreadyExists,
            Errno.EINVAL or Errno.ENOEXEC => CocoonErrorCode.InvalidArgument,
            Errno.EACCES or Errno.EPERM => CocoonErrorCode.InvalidState,
            Errno.ENOMEM or Errno.EAGAIN => CocoonErrorCode.ResourceExhausted,
            _ => CocoonErrorCode.Internal,
        };
        throw new CocoonException(code, $"{context}: {Marshal.GetPInvokeErrorMessage((int)errno)} (errno {(int)errno}).");
    }
}
