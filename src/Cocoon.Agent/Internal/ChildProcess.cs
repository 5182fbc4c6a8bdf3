// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent.Internal;

/// <summary>Which stream an output chunk came from.</summary>
internal enum OutputKind
{
    Stdout,
    Stderr,
}

/// <summary>A chunk of process output.</summary>
internal readonly record struct OutputChunk(OutputKind Kind, byte[] Data);

/// <summary>
/// A running process and its stdio. Reads run on dedicated threads (pipes and pty masters have no
/// async I/O in .NET) and feed one bounded channel, so a slow client backs up into the pipe and the
/// process blocks: gRPC flow control reaches all the way to the child.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    /// <summary>Output chunks are at most this big (the contract's 64 KiB).</summary>
    public const int MaxChunk = 64 * 1024;

    private readonly SafeFileHandle? _stdin;
    private readonly SafeFileHandle? _ptyMaster;
    private readonly List<SafeFileHandle> _outputs;
    private readonly Channel<OutputChunk> _output = Channel.CreateBounded<OutputChunk>(new BoundedChannelOptions(8) { SingleReader = true });
    private readonly Channel<byte[]?> _input = Channel.CreateBounded<byte[]?>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
    private int _openReaders;
    private int _disposed;

    public ChildProcess(int pid, Task<ExitStatus> exited, SafeFileHandle? stdin, SafeFileHandle? stdout, SafeFileHandle? stderr, SafeFileHandle? ptyMaster)
    {
        Pid = pid;
        Exited = exited;
        _ptyMaster = ptyMaster;
        _stdin = ptyMaster ?? stdin;
        _outputs = [];
        if (ptyMaster is not null)
        {
            StartReader(ptyMaster, OutputKind.Stdout);
        }
        else
        {
            StartReader(stdout!, OutputKind.Stdout);
            StartReader(stderr!, OutputKind.Stderr);
        }

        if (_stdin is not null)
        {
            new Thread(WriteLoop) { IsBackground = true, Name = $"stdin {pid}" }.Start();
        }
    }

    public int Pid { get; }

    public Task<ExitStatus> Exited { get; }

    /// <summary>Output in order per stream; completes when every output stream reached end of file.</summary>
    public ChannelReader<OutputChunk> Output => _output.Reader;

    public bool IsTty => _ptyMaster is not null;

    /// <summary>Queues stdin bytes; waits while the queue is full (the process is not reading).</summary>
    public ValueTask WriteStdinAsync(byte[] data, CancellationToken cancellationToken) =>
        _stdin is null ? ValueTask.CompletedTask : _input.Writer.WriteAsync(data, cancellationToken);

    /// <summary>Closes stdin after the queued bytes (on a TTY: sends end-of-transmission, ^D).</summary>
    public ValueTask CloseStdinAsync(CancellationToken cancellationToken) =>
        _stdin is null ? ValueTask.CompletedTask : _input.Writer.WriteAsync(null, cancellationToken);

    public void Signal(int signal)
    {
        if (!Exited.IsCompleted)
        {
            // ESRCH means it just exited: not an error for the caller.
            Interop.TryIo(() => Interop.Kill(Pid, signal), out _);
        }
    }

    public void Resize(ushort rows, ushort columns)
    {
        if (_ptyMaster is null)
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, "Resize applies to TTY sessions only; start the exec with tty = true.");
        }

        Interop.SetWindowSize(_ptyMaster, rows, columns);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _input.Writer.TryComplete();
        // Readers own and close their handles; the stdin writer closes its handle when the queue ends.
    }

    private void StartReader(SafeFileHandle handle, OutputKind kind)
    {
        _outputs.Add(handle);
        Interlocked.Increment(ref _openReaders);
        new Thread(() => ReadLoop(handle, kind)) { IsBackground = true, Name = $"{kind} {Pid}" }.Start();
    }

    private void ReadLoop(SafeFileHandle handle, OutputKind kind)
    {
        var buffer = new byte[MaxChunk];
        try
        {
            while (true)
            {
                var read = Interop.ReadSome(handle, buffer);
                if (read == 0)
                {
                    break;
                }

                var chunk = buffer.AsSpan(0, read).ToArray();
                if (!_output.Writer.TryWrite(new OutputChunk(kind, chunk)))
                {
                    // Blocking this dedicated thread is the point: it stops reading the pipe.
                    _output.Writer.WriteAsync(new OutputChunk(kind, chunk)).AsTask().GetAwaiter().GetResult();
                }
            }
        }
        catch (ChannelClosedException)
        {
        }
        catch (CocoonException)
        {
            // A read error ends this stream like end of file.
        }
        finally
        {
            if (handle != _ptyMaster)
            {
                handle.Dispose();
            }

            if (Interlocked.Decrement(ref _openReaders) == 0)
            {
                _output.Writer.TryComplete();
            }
        }
    }

    private void WriteLoop()
    {
        var stdin = _stdin!;
        try
        {
            while (_input.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (_input.Reader.TryRead(out var data))
                {
                    if (data is null)
                    {
                        if (_ptyMaster is not null)
                        {
                            Interop.WriteAll(stdin, [0x04]);
                            continue;
                        }

                        return;
                    }

                    if (!Interop.WriteAll(stdin, data))
                    {
                        return;
                    }
                }
            }
        }
        catch (CocoonException)
        {
        }
        finally
        {
            if (_ptyMaster is null)
            {
                stdin.Dispose();
            }

            // Drain so a producer blocked on a full queue is released.
            _input.Writer.TryComplete();
            while (_input.Reader.TryRead(out _))
            {
            }
        }
    }

    /// <summary>Closes the pty master once both sides are done with it.</summary>
    public void ReleasePty() => _ptyMaster?.Dispose();
}
