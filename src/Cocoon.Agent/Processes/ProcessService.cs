// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Init;
using Cocoon.Protocol.Agent.V1;
using Grpc.Core;

namespace Cocoon.Agent.Processes;

/// <summary>The Process service: one bidirectional stream per process, in the box or in one of its containers.</summary>
internal sealed class ProcessService(ProcessLauncher launcher, AgentState state, Containers.BoxContainers containers, ILogger<ProcessService> logger) : Protocol.Agent.V1.Process.ProcessBase
{
    /// <inheritdoc/>
    public override async Task Exec(IAsyncStreamReader<ExecClientMessage> requestStream, IServerStreamWriter<ExecServerMessage> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken) || requestStream.Current.KindCase != ExecClientMessage.KindOneofCase.Start)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "The first Exec message must be 'start'.");
        }

        // Into a container, the process is `crun exec`, served the same way.
        var start = requestStream.Current.Start;
        var spec = start.Container.Length > 0 ? containers.PrepareExec(start) : ExecSpec.FromStart(start, state.BootConfig.Env);
        var process = launcher.Start(spec);
        AgentLog.ExecStarted(logger, process.Pid, spec.Path);
        // A box's main command (`cocoon run`) also goes to the box log.
        Action<OutputChunk>? tee = start.LogOutput ? static chunk => BoxLog.Write(chunk.Data) : null;
        await ExecStream.ServeAsync(process, requestStream, responseStream, tee, logger, cancellationToken);
    }
}
