// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.IO.Pipelines;
using System.Net.Sockets;
using Cocoon.Protocol.Agent.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cocoon.GuestAgent;

/// <summary>
/// One Exec stream. A pump reads the server's messages into two pipes; a pipe that is not read fills
/// up, the pump waits, and HTTP/2 flow control stops the agent, which stops reading the process.
/// With stdio streams, two more pumps read the process's stdout and stderr data streams into the same
/// pipes (each read bounded by the pipe's pause threshold, so an untrusted guest cannot make the host
/// buffer more), stdin goes out on the first stream, and <see cref="Exit"/> completes once the exit
/// arrived and both streams ended, so all output comes before the exit as it does in messages.
/// </summary>
internal sealed class GrpcExecSession : IExecSession
{
    private const int MaxChunk = 64 * 1024;
    private static readonly PipeOptions OutputPipeOptions = new(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false);

    private readonly AsyncDuplexStreamingCall<ExecClientMessage, ExecServerMessage> _call;
    private readonly Pipe _stdout = new(OutputPipeOptions);
    private readonly Pipe _stderr = new(OutputPipeOptions);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly string? _box;
    private readonly (Socket Stdio, Socket Stderr)? _streams;
    private bool _requestsCompleted;

    /// <summary>A session on <paramref name="call"/>; with <paramref name="streams"/> (owned from here) its stdio travels on those data streams.</summary>
    public GrpcExecSession(AsyncDuplexStreamingCall<ExecClientMessage, ExecServerMessage> call, int pid, string? box, (Socket Stdio, Socket Stderr)? streams = null, bool stdin = false)
    {
        _call = call;
        _box = box;
        _streams = streams;
        Pid = pid;
        Stdout = _stdout.Reader.AsStream();
        Stderr = _stderr.Reader.AsStream();
        if (streams is var (stdio, stderr))
        {
            // Nothing goes to the agent on the stderr stream, nor on the other one without stdin.
            ShutdownSend(stderr);
            if (!stdin)
            {
                ShutdownSend(stdio);
            }

            var output = Task.WhenAll(PumpStreamAsync(stdio, _stdout.Writer), PumpStreamAsync(stderr, _stderr.Writer));
            Exit = ExitAfterOutputAsync(PumpAsync(completesOutput: false), output);
        }
        else
        {
            Exit = PumpAsync(completesOutput: true);
        }
    }

    public int Pid { get; }

    public Stream Stdout { get; }

    public Stream Stderr { get; }

    public Task<ExecExit> Exit { get; }

    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (_streams is var (stdio, _))
        {
            EnsureTakesInput();
            try
            {
                while (!data.IsEmpty)
                {
                    data = data[await stdio.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                throw NoMoreInput(ex);
            }

            return;
        }

        while (!data.IsEmpty)
        {
            var chunk = data[..Math.Min(MaxChunk, data.Length)];
            data = data[chunk.Length..];
            await WriteAsync(new ExecClientMessage { Stdin = ByteString.CopyFrom(chunk.Span) }, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task CloseStdinAsync(CancellationToken cancellationToken = default)
    {
        if (_streams is var (stdio, _))
        {
            EnsureTakesInput();
            try
            {
                stdio.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                throw NoMoreInput(ex);
            }

            return Task.CompletedTask;
        }

        return WriteAsync(new ExecClientMessage { CloseStdin = new CloseStdin() }, cancellationToken);
    }

    public Task SignalAsync(int signal, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(signal, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, 64);
        return WriteAsync(new ExecClientMessage { Signal = signal }, cancellationToken);
    }

    public Task ResizeAsync(TerminalSize size, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size.Rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size.Columns, 1);
        return WriteAsync(new ExecClientMessage { Resize = new WindowSize { Rows = (uint)size.Rows, Columns = (uint)size.Columns } }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // Disposing the call cancels it; the agent kills a process whose call went away. Output
        // nobody will read is dropped, so a pump waiting for room in a full pipe ends too.
        _call.Dispose();
        if (_streams is var (stdio, stderr))
        {
            stdio.Dispose();
            stderr.Dispose();
        }

        await _stdout.Reader.CompleteAsync().ConfigureAwait(false);
        await _stderr.Reader.CompleteAsync().ConfigureAwait(false);
        try
        {
            await Exit.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CocoonException or OperationCanceledException or ObjectDisposedException)
        {
            // A cancelled call ends in any of these, depending on where the pump was.
        }

        _writeLock.Dispose();
    }

    private async Task WriteAsync(ExecClientMessage message, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureTakesInput();
            await GrpcGuestAgent.Call(() => _call.RequestStream.WriteAsync(message, cancellationToken), "Exec", _box).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void EnsureTakesInput()
    {
        if (_requestsCompleted || Exit.IsCompleted)
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, $"Process {Pid} has exited; it takes no more input.");
        }
    }

    private CocoonException NoMoreInput(Exception cause) =>
        new(CocoonErrorCode.InvalidState, $"Process {Pid} takes no more input: {cause.Message}", cause);

    private static void ShutdownSend(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The stream is already gone; its pump reports that.
        }
    }

    private static async Task<ExecExit> ExitAfterOutputAsync(Task<ExecExit> exit, Task output)
    {
        var status = await exit.ConfigureAwait(false);
        await output.ConfigureAwait(false);
        return status;
    }

    /// <summary>Copies one stdio stream into its pipe until end of file; a broken stream fails the pipe's reader.</summary>
    private async Task PumpStreamAsync(Socket socket, PipeWriter pipe)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(pipe.GetMemory(MaxChunk), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                pipe.Advance(read);
                // Waiting here while the pipe is full is what bounds the host's buffer (and stops the guest).
                if ((await pipe.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            failure = new CocoonException(CocoonErrorCode.Unavailable, $"The output stream of process {Pid} broke{(_box is null ? string.Empty : $" (box '{_box}')")}: {ex.Message}", ex);
        }
        finally
        {
            await pipe.CompleteAsync(failure).ConfigureAwait(false);
        }
    }

    private async Task<ExecExit> PumpAsync(bool completesOutput)
    {
        Exception? failure = null;
        try
        {
            var responses = _call.ResponseStream;
            while (await GrpcGuestAgent.Call(() => responses.MoveNext(CancellationToken.None), "Exec", _box).ConfigureAwait(false))
            {
                var message = responses.Current;
                switch (message.KindCase)
                {
                    case ExecServerMessage.KindOneofCase.Stdout:
                        await _stdout.Writer.WriteAsync(message.Stdout.Memory).ConfigureAwait(false);
                        break;
                    case ExecServerMessage.KindOneofCase.Stderr:
                        await _stderr.Writer.WriteAsync(message.Stderr.Memory).ConfigureAwait(false);
                        break;
                    case ExecServerMessage.KindOneofCase.Exit:
                        var exit = GrpcGuestAgent.ToExit(message.Exit);
                        await CompleteRequestsAsync().ConfigureAwait(false);
                        return exit;
                    default:
                        break;
                }
            }

            throw new CocoonException(CocoonErrorCode.Unavailable, $"The guest agent ended the exec of process {Pid} without an exit status.");
        }
        catch (Exception ex)
        {
            failure = ex;
            throw;
        }
        finally
        {
            if (completesOutput)
            {
                await _stdout.Writer.CompleteAsync(failure).ConfigureAwait(false);
                await _stderr.Writer.CompleteAsync(failure).ConfigureAwait(false);
            }
        }
    }

    private async Task CompleteRequestsAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_requestsCompleted)
            {
                _requestsCompleted = true;
                try
                {
                    await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RpcException or InvalidOperationException)
                {
                    // The call is already over.
                }
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
