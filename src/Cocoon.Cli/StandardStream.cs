// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Win32.SafeHandles;

namespace Cocoon.Cli;

/// <summary>
/// stdin, stdout or stderr as a plain read(2)/write(2) stream. .NET's console streams put a
/// terminal in keypad mode on first write, and a FileStream on a redirected stdout writes at its
/// own offset (pwrite), so output of other writers to the same file (a shell, <c>2&gt;&amp;1</c>)
/// would overwrite ours or be overwritten. This stream writes at the descriptor's shared offset.
/// The descriptor is borrowed: the process owns 0, 1 and 2, so the handle never closes them.
/// With <paramref name="dropAfterBrokenPipe"/>, writes after the reader has gone (EPIPE) are dropped,
/// as .NET's console drops them, so <c>cocoon ls | head -1</c> ends quietly.
/// </summary>
internal sealed class StandardStream(int fd, bool dropAfterBrokenPipe = false) : Stream
{
    public const int Input = 0;
    public const int Output = 1;
    public const int Error = 2;

    private readonly SafeFileHandle _handle = Borrow(fd);

    /// <summary>A handle on standard stream <paramref name="fd"/> that does not close it.</summary>
    public static SafeFileHandle Borrow(int fd) => new(fd, ownsHandle: false);

    public override bool CanRead => fd == Input;

    public override bool CanWrite => fd != Input;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => (int)Interop.Read(_handle, buffer).ThrowIfFailed($"read fd {fd}");

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        var written = Interop.WriteAll(_handle, buffer);
        if (!(dropAfterBrokenPipe && written.Error == Interop.Errno.EPIPE))
        {
            written.ThrowIfFailed($"write fd {fd}");
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A write to a terminal, pipe or file completes promptly; a blocked reader blocks us as it should.
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
