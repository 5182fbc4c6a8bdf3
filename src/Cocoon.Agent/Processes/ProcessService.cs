// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Protocol.Agent.V1;
using Grpc.Core;

namespace Cocoon.Agent.Processes;

/// <summary>
/// The Process service: one bidirectional stream per process, in the box or in one of its containers.
/// A plain exec that asks for <c>stdio_streams</c> gets its stdio on data streams instead of messages:
/// <code>
///  1. answer `streams` with two accept tokens; wait until the host opened both (StdioStreams)
///  2. start the process with the streams themselves as stdin+stdout and stderr
///  3. `started`, signals in, `exit` out, as for any exec (ExecStream)
/// </code>
/// </summary>
internal sealed class ProcessService(
    ProcessLauncher launcher, Containers.BoxContainers containers, StdioStreams stdio, ILogger<ProcessService> logger)
    : Protocol.Agent.V1.Process.ProcessBase
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
        var spec = start.Container.Length > 0 ? containers.PrepareExec(start) : ExecSpec.FromStart(start);
        // :: Step 1
        (Socket Stdio, Socket Stderr)? streams = start.StdioStreams && !start.Tty && !start.LogOutput
            ? await stdio.AttachAsync(
                (stdioToken, stderrToken) => responseStream.WriteAsync(
                    new ExecServerMessage { Streams = new ExecStreams { StdioToken = stdioToken, StderrToken = stderrToken } }, cancellationToken),
                cancellationToken)
            : null;

        // :: Step 2 (the launcher owns the streams from here)
        var process = launcher.Start(spec, streams);
        AgentLog.ExecStarted(logger, process.Pid, spec.Path);
        // A box's main command (`cocoon run`) also goes to the box log.
        Action<OutputChunk>? tee = start.LogOutput ? static chunk => BoxLog.Write(chunk.Data) : null;
        await ExecStream.ServeAsync(process, requestStream, responseStream, tee, logger, cancellationToken);
    }
}
