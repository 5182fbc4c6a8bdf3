// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol.Agent.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cocoon.Agent.Processes;

/// <summary>
/// Serves one Exec-shaped call for a started process: `started`, stdin, signals and resizes in,
/// output chunks out, then `exit`. Process.Exec and Containers.Run (whose process is crun) share it.
/// </summary>
internal static class ExecStream
{
    /// <summary>Serves <paramref name="process"/> until it exited and the exit was sent; a call that ends first kills its process group.</summary>
    /// <param name="process">The started process; disposed here.</param>
    /// <param name="requests">The call's requests, after the start message.</param>
    /// <param name="responses">The call's responses.</param>
    /// <param name="tee">Also receives every output chunk (a container's log); null for none.</param>
    /// <param name="logger">The agent's logger.</param>
    /// <param name="cancellationToken">The call's token.</param>
    /// <returns>How the process ended.</returns>
    public static async Task<ExitStatus> ServeAsync(
        ChildProcess process,
        IAsyncStreamReader<ExecClientMessage> requests,
        IServerStreamWriter<ExecServerMessage> responses,
        Action<OutputChunk>? tee,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        using var owned = process;
        var oomKillsAtStart = OomKills.Count();
        var replied = false;
        // Requests are read until the process is done; the handler ending, however it ends, ends that loop.
        using var inputDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var input = Task.CompletedTask;
        try
        {
            await responses.WriteAsync(new ExecServerMessage { Started = new ExecStarted { Pid = process.Pid } }, cancellationToken);
            input = PumpInputAsync(requests, process, inputDone.Token);

            await foreach (var chunk in process.Output.ReadAllAsync(cancellationToken))
            {
                tee?.Invoke(chunk);
                var message = chunk.Kind == OutputKind.Stdout
                    ? new ExecServerMessage { Stdout = UnsafeByteOperations.UnsafeWrap(chunk.Data) }
                    : new ExecServerMessage { Stderr = UnsafeByteOperations.UnsafeWrap(chunk.Data) };
                await responses.WriteAsync(message, cancellationToken);
            }

            var status = await process.Exited.WaitAsync(cancellationToken);
            process.ReleasePty();
            await inputDone.CancelAsync();
            AgentLog.ExecExited(logger, process.Pid, status.Code ?? -1, status.Signal ?? 0);
            var exit = status.Signal is { } signal
                ? new ExecExit { Signal = signal, OomKilled = OomKills.Explains(signal, oomKillsAtStart) }
                : new ExecExit { Code = status.Code ?? 0 };
            await responses.WriteAsync(new ExecServerMessage { Exit = exit }, cancellationToken);
            replied = true;
            return status;
        }
        finally
        {
            if (!replied)
            {
                // The client went away (or the call failed): leave nothing it started behind, the
                // children of `sh -c` included.
                process.SignalGroup(Interop.SIGKILL);
            }

            await inputDone.CancelAsync();
            await ObserveAsync(input);
        }
    }

    private static async Task PumpInputAsync(IAsyncStreamReader<ExecClientMessage> requests, ChildProcess process, CancellationToken cancellationToken)
    {
        while (await requests.MoveNext(cancellationToken))
        {
            var message = requests.Current;
            switch (message.KindCase)
            {
                case ExecClientMessage.KindOneofCase.Stdin:
                    await process.WriteStdinAsync(message.Stdin.ToByteArray(), cancellationToken);
                    break;
                case ExecClientMessage.KindOneofCase.CloseStdin:
                    await process.CloseStdinAsync(cancellationToken);
                    break;
                case ExecClientMessage.KindOneofCase.Signal:
                    if (message.Signal is < 1 or > 64)
                    {
                        throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Signal {message.Signal} is not a signal number (1-64).");
                    }

                    process.Signal(message.Signal);
                    break;
                case ExecClientMessage.KindOneofCase.Resize:
                    process.Resize((ushort)Math.Min(message.Resize.Rows, ushort.MaxValue), (ushort)Math.Min(message.Resize.Columns, ushort.MaxValue));
                    break;
                default:
                    throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Unexpected Exec message '{message.KindCase}' after start.");
            }
        }

        // The client half-closed the request stream: treat it as the end of stdin.
        await process.CloseStdinAsync(cancellationToken);
    }

    private static async Task ObserveAsync(Task input)
    {
        try
        {
            await input;
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        catch (InvalidOperationException)
        {
            // The call completed while a read was pending.
        }
        catch (CocoonException)
        {
            // A bad message after the process ended; the reply is already complete.
        }
        catch (RpcException)
        {
            // The request stream ended inside a message: the call is over either way.
        }
    }
}
