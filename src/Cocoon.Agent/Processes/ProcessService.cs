// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Init;
using Cocoon.Protocol.Agent.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cocoon.Agent.Processes;

/// <summary>The Process service: one bidirectional stream per process.</summary>
internal sealed class ProcessService(ProcessLauncher launcher, AgentState state, ILogger<ProcessService> logger) : Protocol.Agent.V1.Process.ProcessBase
{
    /// <inheritdoc/>
    public override async Task Exec(IAsyncStreamReader<ExecClientMessage> requestStream, IServerStreamWriter<ExecServerMessage> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken) || requestStream.Current.KindCase != ExecClientMessage.KindOneofCase.Start)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "The first Exec message must be 'start'.");
        }

        var spec = ExecSpec.FromStart(requestStream.Current.Start, state.BootConfig.Env);
        var logOutput = requestStream.Current.Start.LogOutput;
        var oomKillsAtStart = OomKills.Count();
        using var process = launcher.Start(spec);
        AgentLog.ExecStarted(logger, process.Pid, spec.Path);
        var replied = false;
        try
        {
            await responseStream.WriteAsync(new ExecServerMessage { Started = new ExecStarted { Pid = process.Pid } }, cancellationToken);

            // Requests are read until the process is done; the handler returning ends that loop.
            using var inputDone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var input = PumpInputAsync(requestStream, process, inputDone.Token);

            await foreach (var chunk in process.Output.ReadAllAsync(cancellationToken))
            {
                var message = chunk.Kind == OutputKind.Stdout
                    ? new ExecServerMessage { Stdout = UnsafeByteOperations.UnsafeWrap(chunk.Data) }
                    : new ExecServerMessage { Stderr = UnsafeByteOperations.UnsafeWrap(chunk.Data) };
                if (logOutput)
                {
                    BoxLog.Write(chunk.Data);
                }

                await responseStream.WriteAsync(message, cancellationToken);
            }

            var status = await process.Exited.WaitAsync(cancellationToken);
            process.ReleasePty();
            await inputDone.CancelAsync();
            _ = ObserveAsync(input);
            AgentLog.ExecExited(logger, process.Pid, status.Code ?? -1, status.Signal ?? 0);
            var exit = status.Signal is { } signal
                ? new ExecExit { Signal = signal, OomKilled = OomKills.Explains(signal, oomKillsAtStart) }
                : new ExecExit { Code = status.Code ?? 0 };
            await responseStream.WriteAsync(new ExecServerMessage { Exit = exit }, cancellationToken);
            replied = true;
        }
        finally
        {
            if (!replied)
            {
                // The client went away (or the call failed): leave nothing it started behind, the
                // children of `sh -c` included.
                process.SignalGroup(Interop.SIGKILL);
            }
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
    }
}
