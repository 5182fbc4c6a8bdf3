// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

internal static partial class Interop
{
    /// <summary>
    /// The errno values Cocoon handles by name (<c>include/uapi/asm-generic/errno-base.h</c>,
    /// <c>errno.h</c>; x86-64 numbering). Any other value still flows through as a number.
    /// </summary>
    internal enum Errno
    {
        /// <summary>No error: the value of <see cref="IoResult.Error"/> on success.</summary>
        None = 0,
        EPERM = 1,
        ENOENT = 2,
        ESRCH = 3,
        EINTR = 4,
        EIO = 5,
        ENXIO = 6,
        ENOEXEC = 8,
        EBADF = 9,
        ECHILD = 10,
        EAGAIN = 11,
        ENOMEM = 12,
        EACCES = 13,
        EFAULT = 14,
        EBUSY = 16,
        EEXIST = 17,
        ENODEV = 19,
        ENOTDIR = 20,
        EISDIR = 21,
        EINVAL = 22,
        ENFILE = 23,
        EMFILE = 24,
        EFBIG = 27,
        ENOSPC = 28,
        EROFS = 30,
        EPIPE = 32,
        ENAMETOOLONG = 36,
        ENOSYS = 38,
        ELOOP = 40,
        ENOTSOCK = 88,
        EPROTONOSUPPORT = 93,
        EOPNOTSUPP = 95,
        EAFNOSUPPORT = 97,
        EADDRINUSE = 98,
        EADDRNOTAVAIL = 99,
        ENETUNREACH = 101,
        ECONNABORTED = 103,
        ECONNRESET = 104,
        ENOBUFS = 105,
        ENOTCONN = 107,
        ETIMEDOUT = 110,
        ECONNREFUSED = 111,
        EHOSTUNREACH = 113,
        EINPROGRESS = 115,
        EDQUOT = 122,
    }
}
