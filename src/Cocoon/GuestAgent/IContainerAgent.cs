// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol.Agent.V1;

namespace Cocoon.GuestAgent;

/// <summary>
/// The agent's Containers service as the host library uses it (behind <see cref="Box"/> and
/// <see cref="Container"/>); the wire types stay internal.
/// </summary>
internal interface IContainerAgent
{
    /// <summary>Creates and runs a container; returns once crun runs it, with its session, or null when it was started detached.</summary>
    Task<IExecSession?> RunContainerAsync(ContainerSpec spec, CancellationToken cancellationToken);

    /// <summary>The box's containers, in creation order.</summary>
    Task<IReadOnlyList<ContainerInfo>> ListContainersAsync(CancellationToken cancellationToken);

    /// <summary>Sends a signal to a container's main process, or with <paramref name="all"/> to every process in it (SIGKILL always reaches all, through its cgroup).</summary>
    Task SignalContainerAsync(string name, int signal, bool all, CancellationToken cancellationToken);

    /// <summary>A running container's cgroup counters.</summary>
    Task<Cocoon.ContainerStats> ContainerStatsAsync(string name, CancellationToken cancellationToken);

    /// <summary>Waits for a container's main process to exit.</summary>
    Task<Cocoon.ExecExit> WaitContainerAsync(string name, CancellationToken cancellationToken);

    /// <summary>Kills a container if it runs and removes its overlay, bundle and writable layer.</summary>
    Task RemoveContainerAsync(string name, CancellationToken cancellationToken);

    /// <summary>A container's output log, from the start; with <paramref name="follow"/> until it exits.</summary>
    IAsyncEnumerable<ReadOnlyMemory<byte>> ContainerLogsAsync(string name, bool follow, CancellationToken cancellationToken);
}
