// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Cocoon;

internal static partial class Interop
{
    /// <summary>
    /// Runs a raw libc call (which returns -1 and sets errno on failure) until a signal no longer
    /// interrupts it. This loop is the one place EINTR is retried. The call is a static lambda
    /// over <paramref name="state"/>, so hot paths (the device's readv/writev) allocate nothing.
    /// </summary>
    /// <typeparam name="TState">What the call needs (a handle, a pinned pointer, a length).</typeparam>
    /// <param name="state">Passed to <paramref name="call"/>.</param>
    /// <param name="call">The raw call.</param>
    /// <returns>The result as a value: the call's non-negative result, or its errno.</returns>
    internal static IoResult Call<TState>(TState state, Func<TState, long> call)
    {
        while (true)
        {
            var raw = call(state);
            if (raw >= 0)
            {
                return IoResult.Success(raw);
            }

            var errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return IoResult.Failure(errno);
            }
        }
    }

    /// <summary><see cref="Call{TState}"/> for a call that captures its arguments (off hot paths).</summary>
    internal static IoResult Call(Func<long> call) => Call(call, static call => call());

    /// <summary>Runs a raw libc call (EINTR retried) and throws a <see cref="CocoonException"/> naming <paramref name="context"/> when it fails.</summary>
    /// <returns>The call's non-negative result.</returns>
    internal static long CheckIo(Func<long> call, string context) => Call(call).ThrowIfFailed(context);

    /// <summary>Checks a call that returns 0 or an errno value itself (posix_spawn and friends, ptsname_r).</summary>
    internal static void CheckResult(int result, string context)
    {
        if (result != 0)
        {
            ThrowForErrno((Errno)result, context);
        }
    }

    /// <summary>Throws the <see cref="CocoonException"/> for <paramref name="errno"/>: <see cref="ErrorCodeOf"/>'s code, the system's text and what to do.</summary>
    /// <param name="errno">The failure.</param>
    /// <param name="context">What was being done, naming its input: <c>open '/path'</c>, <c>connect(vsock:3:1024)</c>.</param>
    [DoesNotReturn]
    internal static void ThrowForErrno(Errno errno, string context) => throw ExceptionFor(errno, context);

    /// <summary>The exception <see cref="ThrowForErrno"/> throws, for callers that wrap or keep it.</summary>
    internal static CocoonException ExceptionFor(Errno errno, string context, Exception? inner = null)
    {
        var remedy = RemedyOf(errno) is { } text ? $" {text}" : string.Empty;
        return new CocoonException(
            ErrorCodeOf(errno),
            $"{context} failed: {Marshal.GetPInvokeErrorMessage((int)errno)} (errno {(int)errno}).{remedy}",
            inner);
    }

    /// <summary>
    /// The one errno → <see cref="CocoonErrorCode"/> table of Cocoon, host and guest alike (so the
    /// CLI's exit code says the same thing whichever side failed). Tested in <c>ErrnoTableTests</c>.
    /// </summary>
    /// <remarks>
    /// Decisions where the codes do not line up one to one:
    /// <list type="bullet">
    /// <item>EACCES, EPERM, EROFS → InvalidState: the input is fine, the environment (permissions,
    /// the user cocoon runs as, a read-only mount) does not allow it; fixing it needs no other input.</item>
    /// <item>ENOENT, ENOTDIR, ESRCH, ECHILD → NotFound: the named file, directory or process does not exist.</item>
    /// <item>EEXIST, EADDRINUSE → AlreadyExists: the name, port or socket path is taken.</item>
    /// <item>ECONNREFUSED, ECONNRESET, ECONNABORTED, ENOTCONN, EPIPE, ENETUNREACH, EHOSTUNREACH →
    /// Unavailable: the peer (VMM, agent, supervisor, device) is not listening or went away.</item>
    /// <item>ETIMEDOUT → Timeout: the kernel gave up waiting (a vsock connect the guest never answered).</item>
    /// <item>ENOSPC, EDQUOT, EMFILE, ENFILE, ENOMEM, ENOBUFS, EAGAIN → ResourceExhausted: disk, quota,
    /// descriptors or memory ran out (EAGAIN only reaches here where it is not a would-block value).</item>
    /// <item>EAFNOSUPPORT, EPROTONOSUPPORT, ENODEV, ENOSYS, EOPNOTSUPP → Unsupported: this kernel lacks the
    /// feature (AF_VSOCK without the vsock modules).</item>
    /// <item>EINVAL, ENAMETOOLONG, EADDRNOTAVAIL, EISDIR, ELOOP, ENOEXEC, EFBIG → InvalidArgument: the
    /// path, address or binary given is unusable as such.</item>
    /// <item>EBUSY → InvalidState: in use right now.</item>
    /// <item>Anything else (EIO, EBADF, EFAULT, ...) → Internal: a bug or a broken system.</item>
    /// </list>
    /// </remarks>
    internal static CocoonErrorCode ErrorCodeOf(Errno errno) => errno switch
    {
        Errno.EACCES or Errno.EPERM or Errno.EROFS or Errno.EBUSY => CocoonErrorCode.InvalidState,
        Errno.ENOENT or Errno.ENOTDIR or Errno.ESRCH or Errno.ECHILD => CocoonErrorCode.NotFound,
        Errno.EEXIST or Errno.EADDRINUSE => CocoonErrorCode.AlreadyExists,
        Errno.ECONNREFUSED or Errno.ECONNRESET or Errno.ECONNABORTED or Errno.ENOTCONN or Errno.EPIPE
            or Errno.ENETUNREACH or Errno.EHOSTUNREACH => CocoonErrorCode.Unavailable,
        Errno.ETIMEDOUT => CocoonErrorCode.Timeout,
        Errno.ENOSPC or Errno.EDQUOT or Errno.EMFILE or Errno.ENFILE or Errno.ENOMEM or Errno.ENOBUFS
            or Errno.EAGAIN => CocoonErrorCode.ResourceExhausted,
        Errno.EAFNOSUPPORT or Errno.EPROTONOSUPPORT or Errno.ENODEV or Errno.ENOSYS
            or Errno.EOPNOTSUPP => CocoonErrorCode.Unsupported,
        Errno.EINVAL or Errno.ENAMETOOLONG or Errno.EADDRNOTAVAIL or Errno.EISDIR or Errno.ELOOP
            or Errno.ENOEXEC or Errno.EFBIG => CocoonErrorCode.InvalidArgument,
        _ => CocoonErrorCode.Internal,
    };

    /// <summary>What the user can do about <paramref name="errno"/>, when there is one thing to say.</summary>
    private static string? RemedyOf(Errno errno) => errno switch
    {
        Errno.EACCES or Errno.EPERM => "Check the permissions of the path and which user runs cocoon.",
        Errno.EROFS => "The file system is read-only; choose a writable location.",
        Errno.ENOSPC or Errno.EDQUOT => "Free disk space (or quota) and retry.",
        Errno.EMFILE or Errno.ENFILE => "Too many open files; raise the limit (ulimit -n) or stop some boxes.",
        Errno.EAFNOSUPPORT or Errno.ENODEV => "This kernel lacks the address family or device (for AF_VSOCK, load the vsock modules).",
        _ => null,
    };

    /// <summary>
    /// The errno behind a failure of .NET's own file APIs (File, FileStream, Directory), so code
    /// that uses them reports through the same table: .NET throws the well-known errnos as typed
    /// exceptions and keeps the raw errno as the HResult of the rest. Anything else is not a
    /// file-system failure (null).
    /// </summary>
    internal static Errno? ErrnoOf(Exception exception) => exception switch
    {
        // .NET throws this for EACCES, EPERM and EBADF alike; EACCES is the one a user meets.
        UnauthorizedAccessException => Errno.EACCES,
        FileNotFoundException or DirectoryNotFoundException => Errno.ENOENT,
        PathTooLongException => Errno.ENAMETOOLONG,
        IOException when exception.HResult is > 0 and < 4096 => (Errno)exception.HResult,
        IOException => Errno.EIO,
        _ => null,
    };

    /// <summary>
    /// Runs a .NET file operation and reports its failure as <see cref="ExceptionFor"/> does for a
    /// libc call: the table's code, naming <paramref name="context"/>.
    /// </summary>
    internal static T CheckFile<T>(Func<T> operation, string context)
    {
        try
        {
            return operation();
        }
        catch (Exception e) when (ErrnoOf(e) is { } errno)
        {
            throw ExceptionFor(errno, context, e);
        }
    }

    /// <summary>The outcome of one libc call as a value: a non-negative result, or an errno.</summary>
    internal readonly struct IoResult
    {
        private IoResult(long value, Errno error)
        {
            Value = value;
            Error = error;
        }

        /// <summary>The call's non-negative result (bytes, fd, count); -1 on failure.</summary>
        public long Value { get; }

        /// <summary>The errno on failure, <see cref="Errno.None"/> on success.</summary>
        public Errno Error { get; }

        /// <summary>Whether the call succeeded.</summary>
        public bool Ok => Error == Errno.None;

        /// <summary>Whether the call failed only because it would have blocked.</summary>
        public bool WouldBlock => Error == Errno.EAGAIN;

        /// <summary>A successful result.</summary>
        public static IoResult Success(long value) => new(value, Errno.None);

        /// <summary>A failed result, without a call (a path that cannot fit, for example).</summary>
        public static IoResult Failure(Errno error) => new(-1, error);

        /// <summary>Captures a raw result that no signal can interrupt (close, mmap); reads errno only when it is negative.</summary>
        public static IoResult FromRaw(long raw) =>
            raw >= 0 ? Success(raw) : Failure((Errno)Marshal.GetLastPInvokeError());

        /// <summary>Returns the value, or throws through the one errno table.</summary>
        /// <param name="context">What was being done, naming its input.</param>
        public long ThrowIfFailed(string context)
        {
            if (!Ok)
            {
                ThrowForErrno(Error, context);
            }

            return Value;
        }
    }
}
