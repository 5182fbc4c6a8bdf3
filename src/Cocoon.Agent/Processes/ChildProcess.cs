// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent.Processes;

/// <summary>Which stream an output chunk came from.</summary>
internal enum OutputKind
{
    Stdout,
    Stderr,
}

/// <summary>A chunk of process output.</summary>
internal readonly record struct OutputChunk(OutputKind Kind, byte[] Data);

/// <summary>
/// A running process and its stdio, all feeding one bounded output channel, so a slow client backs
/// up into the socket and the process blocks: gRPC flow control reaches all the way to the child.
/// </summary>
/// <remarks>
/// Plain sessions talk to the child through socket pairs and async socket I/O: no thread is created
/// per exec (under TCG two thread starts were half of an exec's cost). A pty master has no async
/// I/O in .NET, so TTY sessions keep a reader and a writer thread.
/// </remarks>
internal sealed class ChildProcess : IDisposable
{
    /// <summary>Output chunks are at most this big (the contract's 64 KiB).</summary>
    public const int MaxChunk = 64 * 1024;

    private readonly SafeFileHandle? _ptyMaster;
    private readonly bool _relaysTerminal;
    private readonly bool _takesInput;
    private readonly Channel<OutputChunk> _output = Channel.CreateBounded<OutputChunk>(new BoundedChannelOptions(8) { SingleReader = true });
    private readonly Channel<byte[]?> _input = Channel.CreateBounded<byte[]?>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
    private int _openReaders;
    private int _disposed;

    /// <summary>A plain session: stdin (null when the process has none), stdout and stderr sockets, owned from here on.</summary>
    public ChildProcess(int pid, Task<ExitStatus> exited, Socket? stdin, Socket stdout, Socket stderr)
    {
        Pid = pid;
        Exited = exited;
        _takesInput = stdin is not null;
        _openReaders = 2;
        _ = PumpOutputAsync(stdout, OutputKind.Stdout);
        _ = PumpOutputAsync(stderr, OutputKind.Stderr);
        if (stdin is not null)
        {
            _ = PumpInputAsync(stdin);
        }
    }

    /// <summary>
    /// A TTY session on <paramref name="ptyMaster"/>, released by <see cref="ReleasePty"/>;
    /// <paramref name="relaysTerminal"/> when the process relays it to a terminal of its own (<see cref="RelayedTerminal"/>).
    /// </summary>
    public ChildProcess(int pid, Task<ExitStatus> exited, SafeFileHandle ptyMaster, bool relaysTerminal = false)
    {
        Pid = pid;
        Exited = exited;
        _ptyMaster = ptyMaster;
        _relaysTerminal = relaysTerminal;
        _takesInput = true;
        _openReaders = 1;
        new Thread(PtyReadLoop) { IsBackground = true, Name = $"pty {pid}" }.Start();
        new Thread(PtyWriteLoop) { IsBackground = true, Name = $"pty stdin {pid}" }.Start();
    }

    /// <summary>A session whose stdio the process has on data streams: no bytes pass through the agent.</summary>
    public ChildProcess(int pid, Task<ExitStatus> exited)
    {
        Pid = pid;
        Exited = exited;
        _output.Writer.TryComplete();
    }

    public int Pid { get; }

    public Task<ExitStatus> Exited { get; }

    /// <summary>Output in order per stream; completes when every output stream reached end of file.</summary>
    public ChannelReader<OutputChunk> Output => _output.Reader;

    public bool IsTty => _ptyMaster is not null;

    /// <summary>Queues stdin bytes; waits while the queue is full (the process is not reading).</summary>
    public ValueTask WriteStdinAsync(byte[] data, CancellationToken cancellationToken) =>
        _takesInput ? _input.Writer.WriteAsync(data, cancellationToken) : ValueTask.CompletedTask;

    /// <summary>Closes stdin after the queued bytes (on a TTY: sends end-of-transmission, ^D).</summary>
    public ValueTask CloseStdinAsync(CancellationToken cancellationToken) =>
        _takesInput ? _input.Writer.WriteAsync(null, cancellationToken) : ValueTask.CompletedTask;

    public void Signal(int signal)
    {
        if (!Exited.IsCompleted)
        {
            // ESRCH means it just exited: not an error for the caller.
            _ = Interop.SendSignal(Pid, signal);
        }
    }

    /// <summary>
    /// Signals the process's whole group: the exec was started in its own session, so its group id
    /// is its pid and holds what it started (the children of <c>sh -c</c>), even after it exited.
    /// </summary>
    public void SignalGroup(int signal) =>
        _ = Interop.SendSignal(-Pid, signal); // ESRCH: the group is already empty.

    public void Resize(ushort rows, ushort columns)
    {
        if (_ptyMaster is null)
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, "Resize applies to TTY sessions only; start the exec with tty = true.");
        }

        Interop.SetWindowSize(_ptyMaster, rows, columns);
        if (_relaysTerminal)
        {
            RelayedTerminal.Resize(Pid, rows, columns);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _input.Writer.TryComplete();
        // A session that ends early (the client went away) reads no more output: completing the
        // channel releases pumps waiting for room, which then close their sockets and end.
        _output.Writer.TryComplete();
        // The output pumps own and close their sockets; the stdin pump closes its socket when the queue ends.
    }

    /// <summary>Closes the pty master once both sides are done with it.</summary>
    public void ReleasePty() => _ptyMaster?.Dispose();

    private async Task PumpOutputAsync(Socket socket, OutputKind kind)
    {
        var buffer = new byte[MaxChunk];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                // Waiting here is the back-pressure: the socket is not read while the channel is full.
                await _output.Writer.WriteAsync(new OutputChunk(kind, buffer.AsSpan(0, read).ToArray())).ConfigureAwait(false);
            }
        }
        catch (ChannelClosedException)
        {
        }
        catch (SocketException)
        {
            // A read error ends this stream like end of file.
        }
        finally
        {
            socket.Dispose();
            OutputEnded();
        }
    }

    private async Task PumpInputAsync(Socket socket)
    {
        try
        {
            await foreach (var data in _input.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (data is null)
                {
                    return;
                }

                for (var sent = 0; sent < data.Length;)
                {
                    sent += await socket.SendAsync(data.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
                }
            }
        }
        catch (SocketException)
        {
            // The process closed its stdin or exited.
        }
        finally
        {
            // Closing our end is the child's end of file.
            socket.Dispose();
            DrainInput();
        }
    }

    private void PtyReadLoop()
    {
        var master = _ptyMaster!;
        var buffer = new byte[MaxChunk];
        try
        {
            while (true)
            {
                var read = Interop.Read(master, buffer);
                if (read.Error == Interop.Errno.EIO || read.ThrowIfFailed("read pty") == 0)
                {
                    // EIO is how a pty master reports that the slave side is gone: end of file.
                    break;
                }

                var chunk = buffer.AsSpan(0, (int)read.Value).ToArray();
                if (!_output.Writer.TryWrite(new OutputChunk(OutputKind.Stdout, chunk)))
                {
                    // Blocking this dedicated thread is the point: it stops reading the terminal.
                    _output.Writer.WriteAsync(new OutputChunk(OutputKind.Stdout, chunk)).AsTask().GetAwaiter().GetResult();
                }
            }
        }
        catch (ChannelClosedException)
        {
        }
        catch (CocoonException)
        {
            // A read error ends the session's output like end of file.
        }
        finally
        {
            OutputEnded();
        }
    }

    private void PtyWriteLoop()
    {
        var master = _ptyMaster!;
        try
        {
            while (_input.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (_input.Reader.TryRead(out var data))
                {
                    // Closing a terminal's input is ^D, not a close: the master is the output too.
                    var written = Interop.WriteAll(master, data ?? [0x04]);
                    if (written.Error is Interop.Errno.EPIPE or Interop.Errno.EIO or Interop.Errno.EBADF)
                    {
                        // The reader is gone.
                        return;
                    }

                    written.ThrowIfFailed("write pty");
                }
            }
        }
        catch (CocoonException)
        {
        }
        finally
        {
            DrainInput();
        }
    }

    private void OutputEnded()
    {
        if (Interlocked.Decrement(ref _openReaders) == 0)
        {
            _output.Writer.TryComplete();
        }
    }

    /// <summary>Ends the stdin queue and empties it, so a producer blocked on a full queue is released.</summary>
    private void DrainInput()
    {
        _input.Writer.TryComplete();
        while (_input.Reader.TryRead(out _))
        {
        }
    }
}
