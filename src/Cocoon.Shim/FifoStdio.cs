// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Shim;

/// <summary>
/// Copies between a session in the box and the FIFOs containerd created for a process: stdin
/// FIFO → the process, its stdout and stderr → their FIFOs, each closed when the process's stream
/// ends so containerd's readers see EOF.
/// </summary>
internal sealed class FifoStdio
{
    private readonly IExecSession _session;
    private readonly CancellationTokenSource _stdinStop = new();
    private int _stdinClosed;

    private FifoStdio(IExecSession session) => _session = session;

    /// <summary>Completes when stdout and stderr were copied to the end (or their readers went away).</summary>
    public Task OutputDone { get; private init; } = Task.CompletedTask;

    /// <summary>Starts the copies.</summary>
    public static FifoStdio Start(IExecSession session, StdioPaths paths)
    {
        var io = new FifoStdio(session)
        {
            OutputDone = Task.WhenAll(CopyOutAsync(session.Stdout, paths.Stdout), CopyOutAsync(session.Stderr, paths.Stderr)),
        };
        if (paths.Stdin.Length > 0)
        {
            _ = io.CopyInAsync(paths.Stdin);
        }

        return io;
    }

    /// <summary>Stops forwarding stdin and closes the process's stdin, once.</summary>
    public async Task CloseStdinAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stdinClosed, 1) != 0)
        {
            return;
        }

        await _stdinStop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _session.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is CocoonException or IOException or ObjectDisposedException)
        {
            // The process already ended: its stdin is closed anyway.
        }
    }

    private static async Task CopyOutAsync(Stream from, string fifo)
    {
        if (fifo.Length == 0)
        {
            // Nobody reads it: drain so the process never blocks on a full pipe.
            await from.CopyToAsync(Stream.Null).ConfigureAwait(false);
            return;
        }

        try
        {
            // The client opened its read end before Create, but a detached one (ctr run -d) may have
            // exited since: then nobody will ever read, and a blocking open would wait forever and
            // with it the task's exit.
            using var handle = Interop.TryOpenFifoWriter(fifo);
            if (handle is null)
            {
                await from.CopyToAsync(Stream.Null).ConfigureAwait(false);
                return;
            }

            await using var target = new FileStream(handle, FileAccess.Write, 1);
            await from.CopyToAsync(target).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or CocoonException)
        {
            // The reader went away: the rest of the output has nowhere to go.
            await from.CopyToAsync(Stream.Null).ConfigureAwait(false);
        }
    }

    private async Task CopyInAsync(string fifo)
    {
        try
        {
            // Not waiting for a writer either: a client gone before this open leaves stdin at its end.
            using var handle = Interop.OpenFifoReader(fifo);
            await using var source = new FileStream(handle, FileAccess.Read, 1);
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var n = await source.ReadAsync(buffer, _stdinStop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                await _session.WriteStdinAsync(buffer.AsMemory(0, n), _stdinStop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or CocoonException or ObjectDisposedException or UnauthorizedAccessException)
        {
            // CloseIO, the process's end or a broken FIFO: stdin is closed below either way.
        }

        await CloseStdinAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
