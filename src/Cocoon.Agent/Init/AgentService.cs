// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Rpc;
using Cocoon.Protocol.Agent.V1;
using Grpc.Core;

namespace Cocoon.Agent.Init;

/// <summary>The Agent service: info, shutdown, clock.</summary>
internal sealed class AgentService(AgentState state, PowerControl power) : Protocol.Agent.V1.Agent.AgentBase
{
    /// <inheritdoc/>
    public override Task<GetInfoResponse> GetInfo(GetInfoRequest request, ServerCallContext context)
    {
        var timings = state.Timings;
        var response = new GetInfoResponse
        {
            AgentVersion = AgentState.Version,
            KernelRelease = ReadProc("/proc/sys/kernel/osrelease"),
            Hostname = ReadProc("/proc/sys/kernel/hostname"),
            IsInit = state.IsInit,
            BootTimings = new BootTimings
            {
                KernelToInitUs = timings.KernelToInitUs,
                MountsUs = timings.MountsUs,
                ModulesUs = timings.ModulesUs,
                InitToServingUs = timings.InitToServingUs,
                ModulesLoaded = timings.ModulesLoaded,
            },
        };
        response.VolumeErrors.AddRange(state.VolumeErrors);
        return Task.FromResult(response);
    }

    /// <inheritdoc/>
    public override Task<ShutdownResponse> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        // Power off only after the reply has left: the host then sees the VMM exit, not a reset stream.
        var grace = request.HasGracePeriodMs ? TimeSpan.FromMilliseconds(request.GracePeriodMs) : PowerControl.DefaultGracePeriod;
        GrpcCall.From(context).OnResponseCompleted(() => _ = Task.Run(() => power.PowerOff(grace)));
        return Task.FromResult(new ShutdownResponse());
    }

    /// <inheritdoc/>
    public override Task<SetTimeResponse> SetTime(SetTimeRequest request, ServerCallContext context)
    {
        if (!state.IsInit)
        {
            throw new CocoonException(CocoonErrorCode.Unsupported, "SetTime only changes the clock when the agent is the guest's init, not in --listen-unix mode.");
        }

        var time = new Interop.Timespec
        {
            tv_sec = request.UnixTimeNs / 1_000_000_000,
            tv_nsec = request.UnixTimeNs % 1_000_000_000,
        };
        if (time.tv_sec <= 0 || time.tv_nsec < 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The time {request.UnixTimeNs} ns is before the Unix epoch.");
        }

        Interop.SetRealtimeClock(time);
        return Task.FromResult(new SetTimeResponse());
    }

    private static string ReadProc(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
