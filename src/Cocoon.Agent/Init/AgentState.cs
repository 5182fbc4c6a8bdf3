// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Reflection;
using Cocoon.Protocol;

namespace Cocoon.Agent.Init;

/// <summary>Boot stage durations measured in the guest, in microseconds.</summary>
internal sealed record BootTimingsSnapshot(ulong KernelToInitUs, ulong MountsUs, ulong ModulesUs, ulong InitToServingUs, uint ModulesLoaded);

/// <summary>What the agent knows about its own boot.</summary>
internal sealed class AgentState(bool isInit, BootConfig bootConfig)
{
    public static string Version { get; } =
        typeof(AgentState).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    public bool IsInit { get; } = isInit;

    public BootConfig BootConfig { get; } = bootConfig;

    public BootTimingsSnapshot Timings { get; set; } = new(0, 0, 0, 0, 0);

    /// <summary>The volumes that could not be mounted at boot, one message each (GetInfo reports them).</summary>
    public IReadOnlyList<string> VolumeErrors { get; set; } = [];
}
