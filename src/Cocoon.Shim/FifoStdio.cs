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
            // Opening a FIFO for writing waits for its reader; containerd opened it before Create.
            await using var target = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1, useAsync: false)).ConfigureAwait(false);
            await from.CopyToAsync(target).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // The reader went away: the rest of the output has nowhere to go.
            await from.CopyToAsync(Stream.Null).ConfigureAwait(false);
        }
    }

    private async Task CopyInAsync(string fifo)
    {
        try
        {
            await using var source = await Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, useAsync: false), _stdinStop.Token).ConfigureAwait(false);
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
