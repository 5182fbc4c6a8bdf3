// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias cli;

using System.Runtime.InteropServices;
using cli::Cocoon.Cli;
using Cocoon.State;
using Cocoon.Tests.Common;
using Errno = Cocoon.Interop.Errno;

namespace Cocoon.Tests.Native;

/// <summary>
/// The one errno → <see cref="CocoonErrorCode"/> table (src/Common/Interop/Unix/Interop.Errors.cs),
/// compiled into every project that calls libc, and the exit code each row ends in.
/// </summary>
public sealed class ErrnoTableTests
{
    // errno and exit code as numbers: both enums are internal, a public theory cannot name them.
    public static TheoryData<int, CocoonErrorCode, int> Rows => new()
    {
        { (int)Errno.EACCES, CocoonErrorCode.InvalidState, (int)ExitCode.InvalidState },
        { (int)Errno.EPERM, CocoonErrorCode.InvalidState, (int)ExitCode.InvalidState },
        { (int)Errno.EROFS, CocoonErrorCode.InvalidState, (int)ExitCode.InvalidState },
        { (int)Errno.EBUSY, CocoonErrorCode.InvalidState, (int)ExitCode.InvalidState },
        { (int)Errno.ENOENT, CocoonErrorCode.NotFound, (int)ExitCode.NotFound },
        { (int)Errno.ENOTDIR, CocoonErrorCode.NotFound, (int)ExitCode.NotFound },
        { (int)Errno.ESRCH, CocoonErrorCode.NotFound, (int)ExitCode.NotFound },
        { (int)Errno.EEXIST, CocoonErrorCode.AlreadyExists, (int)ExitCode.AlreadyExists },
        { (int)Errno.EADDRINUSE, CocoonErrorCode.AlreadyExists, (int)ExitCode.AlreadyExists },
        { (int)Errno.ECONNREFUSED, CocoonErrorCode.Unavailable, (int)ExitCode.Unavailable },
        { (int)Errno.ECONNRESET, CocoonErrorCode.Unavailable, (int)ExitCode.Unavailable },
        { (int)Errno.EPIPE, CocoonErrorCode.Unavailable, (int)ExitCode.Unavailable },
        { (int)Errno.EHOSTUNREACH, CocoonErrorCode.Unavailable, (int)ExitCode.Unavailable },
        { (int)Errno.ETIMEDOUT, CocoonErrorCode.Timeout, (int)ExitCode.Timeout },
        { (int)Errno.ENOSPC, CocoonErrorCode.ResourceExhausted, (int)ExitCode.ResourceExhausted },
        { (int)Errno.EDQUOT, CocoonErrorCode.ResourceExhausted, (int)ExitCode.ResourceExhausted },
        { (int)Errno.EMFILE, CocoonErrorCode.ResourceExhausted, (int)ExitCode.ResourceExhausted },
        { (int)Errno.ENFILE, CocoonErrorCode.ResourceExhausted, (int)ExitCode.ResourceExhausted },
        { (int)Errno.ENOMEM, CocoonErrorCode.ResourceExhausted, (int)ExitCode.ResourceExhausted },
        { (int)Errno.EAFNOSUPPORT, CocoonErrorCode.Unsupported, (int)ExitCode.Unsupported },
        { (int)Errno.ENODEV, CocoonErrorCode.Unsupported, (int)ExitCode.Unsupported },
        { (int)Errno.ENOSYS, CocoonErrorCode.Unsupported, (int)ExitCode.Unsupported },
        { (int)Errno.EINVAL, CocoonErrorCode.InvalidArgument, (int)ExitCode.Usage },
        { (int)Errno.ENAMETOOLONG, CocoonErrorCode.InvalidArgument, (int)ExitCode.Usage },
        { (int)Errno.EISDIR, CocoonErrorCode.InvalidArgument, (int)ExitCode.Usage },
        { (int)Errno.ENOEXEC, CocoonErrorCode.InvalidArgument, (int)ExitCode.Usage },
        { (int)Errno.EIO, CocoonErrorCode.Internal, (int)ExitCode.Internal },
        { (int)Errno.EBADF, CocoonErrorCode.Internal, (int)ExitCode.Internal },
        { 9999, CocoonErrorCode.Internal, (int)ExitCode.Internal },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void ErrorCodeOf_Errno_DocumentedCodeAndExitCode(int errno, CocoonErrorCode code, int exit)
    {
        Assert.Equal(code, Interop.ErrorCodeOf((Errno)errno));
        Assert.Equal(exit, (int)ExitCodes.From(Interop.ErrorCodeOf((Errno)errno)));
    }

    [Fact]
    public void ExceptionFor_Enospc_NamesContextErrnoAndRemedy()
    {
        var e = Interop.ExceptionFor(Errno.ENOSPC, "write '/state/boxes.json'");

        Assert.Equal(CocoonErrorCode.ResourceExhausted, e.Code);
        Assert.StartsWith("write '/state/boxes.json' failed: ", e.Message, StringComparison.Ordinal);
        Assert.Contains("(errno 28)", e.Message, StringComparison.Ordinal);
        Assert.Contains("Free disk space", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Call_InterruptedOnce_RetriedAndSucceeds()
    {
        var calls = 0;
        var result = Interop.Call(() =>
        {
            if (++calls == 1)
            {
                Marshal.SetLastPInvokeError((int)Errno.EINTR);
                return -1;
            }

            return 7;
        });

        Assert.True(result.Ok);
        Assert.Equal(7, result.Value);
        Assert.Equal(2, calls);
    }

    [Fact]
    public void Call_FailsWithOtherErrno_FailureValueNotRetried()
    {
        var calls = 0;
        var result = Interop.Call(() =>
        {
            calls++;
            Marshal.SetLastPInvokeError((int)Errno.ECONNREFUSED);
            return -1;
        });

        Assert.False(result.Ok);
        Assert.Equal(Errno.ECONNREFUSED, result.Error);
        Assert.Equal(1, calls);
    }

    [Fact]
    public void OpenFile_MissingFile_NotFoundNamingPath()
    {
        using var root = new TempStateRoot();
        var path = Path.Combine(root.Path, "missing", "file");

        var e = Assert.Throws<CocoonException>(() => Interop.OpenFile(path, Interop.OpenFlags.O_RDONLY));

        Assert.Equal(CocoonErrorCode.NotFound, e.Code);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StateStoreLock_DirectoryMissing_CocoonExceptionNotFound()
    {
        using var root = new TempStateRoot();
        var path = Path.Combine(root.Path, "no-such-dir", "boxes.json");

        var e = Assert.Throws<CocoonException>(() => StateStore.Lock(path));

        Assert.Equal(CocoonErrorCode.NotFound, e.Code);
        Assert.Equal(ExitCode.NotFound, ExitCodes.From(e.Code));
    }

    [Fact]
    public void ErrnoOf_DotNetFileExceptions_SameErrnoAsLibc()
    {
        Assert.Equal(Errno.ENOENT, Interop.ErrnoOf(new FileNotFoundException()));
        Assert.Equal(Errno.ENOENT, Interop.ErrnoOf(new DirectoryNotFoundException()));
        Assert.Equal(Errno.ENAMETOOLONG, Interop.ErrnoOf(new PathTooLongException()));
        Assert.Equal(Errno.EACCES, Interop.ErrnoOf(new UnauthorizedAccessException()));
        Assert.Equal(Errno.ENOSPC, Interop.ErrnoOf(new IOException("disk full", (int)Errno.ENOSPC)));
        Assert.Null(Interop.ErrnoOf(new InvalidOperationException()));
    }
}
