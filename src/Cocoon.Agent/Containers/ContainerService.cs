// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Init;
using Cocoon.Agent.Processes;
using Cocoon.Protocol.Agent.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cocoon.Agent.Containers;

/// <summary>The Containers service: run, list, signal, wait for, remove containers and read their logs.</summary>
/// <param name="containers">The box's containers.</param>
/// <param name="disks">The box's disks, which a container waits for.</param>
/// <param name="launcher">Starts crun.</param>
/// <param name="logger">The service's log.</param>
internal sealed class ContainerService(BoxContainers containers, DiskMounts disks, ProcessLauncher launcher, ILogger<ContainerService> logger) : Protocol.Agent.V1.Containers.ContainersBase
{
    /// <summary>How long a list waits for crun to exit after its container's init did (crun reaps, deletes its state, exits).</summary>
    private static readonly TimeSpan ExitingWait = TimeSpan.FromSeconds(5);

    /// <inheritdoc/>
    public override async Task Run(IAsyncStreamReader<ExecClientMessage> requestStream, IServerStreamWriter<ExecServerMessage> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken) || requestStream.Current.KindCase != ExecClientMessage.KindOneofCase.ContainerStart)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "The first Run message must be 'container_start'.");
        }

        var spec = requestStream.Current.ContainerStart;
        await disks.WaitAsync(cancellationToken);
        var (container, crun) = containers.Create(spec);
        ChildProcess process;
        try
        {
            process = launcher.Start(crun);
        }
        catch
        {
            containers.Discard(container);
            throw;
        }

        BoxContainers.Started(container, process);
        AgentLog.ExecStarted(logger, process.Pid, $"container {container.Name}");
        if (spec.Detach)
        {
            _ = container.DrainAsync(process);
            await container.WaitCreatedAsync(cancellationToken);
            await responseStream.WriteAsync(new ExecServerMessage { Started = new ExecStarted { Pid = process.Pid } }, cancellationToken);
            return;
        }

        try
        {
            await container.WaitCreatedAsync(cancellationToken);
            await ExecStream.ServeAsync(process, requestStream, responseStream, container.AppendLog, logger, cancellationToken);
        }
        catch
        {
            // The client went away before the exit: crun's group is killed; its container too.
            container.Kill();
            throw;
        }
    }

    /// <inheritdoc/>
    public override async Task<ListContainersResponse> List(ListContainersRequest request, ServerCallContext context)
    {
        var response = new ListContainersResponse();
        foreach (var container in containers.List())
        {
            if (container.IsExiting)
            {
                // Its init has exited and crun is on its way out: report the exit rather than a container
                // that an exec or copy chosen from this list would no longer find.
                await Task.WhenAny(container.Exited!, Task.Delay(ExitingWait, context.CancellationToken));
            }

            var info = new ContainerInfo
            {
                Name = container.Name,
                Image = container.Image,
                Pid = container.Process?.Pid ?? 0,
                CreatedUnixMs = container.Created.ToUnixTimeMilliseconds(),
            };
            info.Argv.AddRange(container.Argv);
            if (container.Exited is { IsCompletedSuccessfully: true } exited)
            {
                info.Exit = ToExit(exited.Result);
            }

            response.Containers.Add(info);
        }

        return response;
    }

    /// <inheritdoc/>
    public override Task<SignalContainerResponse> Signal(SignalContainerRequest request, ServerCallContext context)
    {
        if (request.Signal is < 1 or > 64)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Signal {request.Signal} is not a signal number (1-64).");
        }

        var container = containers.Get(request.Name);
        if (request.Signal == Interop.SIGKILL)
        {
            // crun cannot forward SIGKILL (it would die itself): kill through the cgroup, which reaches all.
            container.Kill();
        }
        else if (!request.All || ContainerCgroup.SignalAll(container.Name, request.Signal) == 0)
        {
            // crun run forwards the signals it gets to the container's process (also when there is
            // no cgroup to walk: before crun made it, or once it is gone).
            container.Process?.Signal(request.Signal);
        }

        return Task.FromResult(new SignalContainerResponse());
    }

    /// <inheritdoc/>
    public override Task<ContainerStats> Stats(ContainerStatsRequest request, ServerCallContext context) =>
        Task.FromResult(ContainerCgroup.Stats(containers.Get(request.Name).Name));

    /// <inheritdoc/>
    public override async Task<ExecExit> Wait(WaitContainerRequest request, ServerCallContext context)
    {
        var container = containers.Get(request.Name);
        var exited = container.Exited ?? throw new CocoonException(CocoonErrorCode.InvalidState, $"Container '{request.Name}' has not started.");
        return ToExit(await exited.WaitAsync(context.CancellationToken));
    }

    /// <inheritdoc/>
    public override async Task<RemoveContainerResponse> Remove(RemoveContainerRequest request, ServerCallContext context)
    {
        await containers.RemoveAsync(request.Name, context.CancellationToken);
        return new RemoveContainerResponse();
    }

    /// <inheritdoc/>
    public override async Task Logs(ContainerLogsRequest request, IServerStreamWriter<ContainerLogChunk> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        var container = containers.Get(request.Name);
        using var log = new FileStream(container.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[ChildProcess.MaxChunk];
        while (true)
        {
            // Taken before reading, so an append after the read below is never missed.
            var grew = container.LogGrew;
            var read = await log.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                await responseStream.WriteAsync(new ContainerLogChunk { Data = ByteString.CopyFrom(buffer, 0, read) }, cancellationToken);
                continue;
            }

            if (!request.Follow || container.Exited is not { IsCompleted: false } exited)
            {
                return;
            }

            await Task.WhenAny(grew, exited).WaitAsync(cancellationToken);
        }
    }

    private static ExecExit ToExit(ExitStatus status) =>
        status.Signal is { } signal ? new ExecExit { Signal = signal } : new ExecExit { Code = status.Code ?? 0 };
}
