// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Cocoon.Vsock.Device.Interop;

/// <summary>The errno values the device distinguishes (include/uapi/asm-generic/errno-base.h, errno.h).</summary>
internal enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    EINTR = 4,
    EIO = 5,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EEXIST = 17,
    ENOTDIR = 20,
    EINVAL = 22,
    EMFILE = 24,
    ENOSPC = 28,
    EPIPE = 32,
    ENAMETOOLONG = 36,
    EADDRINUSE = 98,
    ECONNRESET = 104,
    ENOTCONN = 107,
    ECONNREFUSED = 111,
    EINPROGRESS = 115,
}

/// <summary>The outcome of one syscall: a non-negative value, or an errno.</summary>
internal readonly struct IoResult
{
    private IoResult(long value, Errno error)
    {
        Value = value;
        Error = error;
    }

    /// <summary>The syscall's non-negative result (bytes, fd, ...); -1 on failure.</summary>
    public long Value { get; }

    /// <summary>The errno on failure, <see cref="Errno.None"/> on success.</summary>
    public Errno Error { get; }

    /// <summary>Whether the call succeeded.</summary>
    public bool Ok => Error == Errno.None;

    /// <summary>Whether the call failed only because it would have blocked.</summary>
    public bool WouldBlock => Error == Errno.EAGAIN;

    /// <summary>Captures the result of a raw call; reads errno only when <paramref name="raw"/> is negative.</summary>
    public static IoResult FromRaw(long raw) =>
        raw >= 0 ? new IoResult(raw, Errno.None) : new IoResult(-1, (Errno)Marshal.GetLastPInvokeError());

    /// <summary>Whether the raw call must be retried because a signal interrupted it.</summary>
    public static bool Interrupted(long raw) => raw < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR;

    /// <summary>Returns the value, or throws the one exception type for a failed syscall.</summary>
    public long ThrowIfFailed(string context)
    {
        if (!Ok)
        {
            ThrowIo(Error, context);
        }

        return Value;
    }

    /// <summary>Turns an errno into a <see cref="CocoonException"/> naming what was being done.</summary>
    [DoesNotReturn]
    public static void ThrowIo(Errno error, string context)
    {
        var code = error switch
        {
            Errno.EADDRINUSE or Errno.EEXIST => CocoonErrorCode.AlreadyExists,
            Errno.ENOENT or Errno.ENOTDIR => CocoonErrorCode.NotFound,
            Errno.ENAMETOOLONG or Errno.EINVAL or Errno.EACCES or Errno.EPERM => CocoonErrorCode.InvalidArgument,
            Errno.EMFILE or Errno.ENOMEM or Errno.ENOSPC => CocoonErrorCode.ResourceExhausted,
            _ => CocoonErrorCode.Internal,
        };
        throw new CocoonException(code, $"{context} failed: {Marshal.GetPInvokeErrorMessage((int)error)} ({error}).");
    }
}
