// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Cocoon.Vsock;

internal static partial class Interop
{
    /// <summary>errno values this project handles by name (<c>include/uapi/asm-generic/errno*.h</c>).</summary>
    internal enum Errno
    {
        EPERM = 1,
        ENOENT = 2,
        EINTR = 4,
        EBADF = 9,
        EAGAIN = 11,
        EACCES = 13,
        ENODEV = 19,
        EINVAL = 22,
        EAFNOSUPPORT = 97,
        EADDRINUSE = 98,
        EADDRNOTAVAIL = 99,
        ENETUNREACH = 101,
        ECONNRESET = 104,
        ETIMEDOUT = 110,
        ECONNREFUSED = 111,
        EHOSTUNREACH = 113,
    }

    /// <summary>
    /// Runs a libc call, retrying on EINTR; a negative result becomes a <see cref="CocoonException"/>
    /// naming <paramref name="context"/>. This is the one place errno turns into an exception.
    /// </summary>
    internal static int CheckIo(Func<int> call, string context)
    {
        while (true)
        {
            var result = call();
            if (result >= 0)
            {
                return result;
            }

            var errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                ThrowForErrno(errno, context);
            }
        }
    }

    /// <summary>Like <see cref="CheckIo(Func{int}, string)"/> but returns the errno instead of throwing for <paramref name="tolerated"/>.</summary>
    internal static int CheckIo(Func<int> call, string context, Errno tolerated, out bool wasTolerated)
    {
        while (true)
        {
            var result = call();
            if (result >= 0)
            {
                wasTolerated = false;
                return result;
            }

            var errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno == tolerated)
            {
                wasTolerated = true;
                return result;
            }

            if (errno != Errno.EINTR)
            {
                ThrowForErrno(errno, context);
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowForErrno(Errno errno, string context)
    {
        var code = errno switch
        {
            Errno.EADDRINUSE => CocoonErrorCode.AlreadyExists,
            Errno.EAFNOSUPPORT or Errno.ENODEV => CocoonErrorCode.Unsupported,
            Errno.ECONNREFUSED or Errno.ECONNRESET or Errno.ETIMEDOUT or Errno.ENETUNREACH or Errno.EHOSTUNREACH => CocoonErrorCode.Unavailable,
            Errno.EINVAL or Errno.EADDRNOTAVAIL => CocoonErrorCode.InvalidArgument,
            Errno.ENOENT => CocoonErrorCode.NotFound,
            _ => CocoonErrorCode.Internal,
        };
        var hint = errno is Errno.EAFNOSUPPORT or Errno.ENODEV ? " This kernel has no AF_VSOCK support (load the vsock modules)." : string.Empty;
        throw new CocoonException(code, $"{context} failed: {Marshal.GetPInvokeErrorMessage((int)errno)} (errno {(int)errno}).{hint}");
    }
}
