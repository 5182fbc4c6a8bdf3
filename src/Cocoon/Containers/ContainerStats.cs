// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// A running container's cgroup v2 counters in its box (<see cref="Container.GetStatsAsync"/>), as the
/// kernel's cgroup files name them. A limit of <see cref="ulong.MaxValue"/> is "max" (none); a counter
/// the guest kernel does not offer is 0.
/// </summary>
public sealed record ContainerStats
{
    /// <summary>Processes and threads in the container (<c>pids.current</c>).</summary>
    public ulong PidsCurrent { get; init; }

    /// <summary>Their limit (<c>pids.max</c>).</summary>
    public ulong PidsMax { get; init; }

    /// <summary>CPU time used, in microseconds (<c>cpu.stat usage_usec</c>).</summary>
    public ulong CpuUsageUsec { get; init; }

    /// <summary>Of it in user mode (<c>user_usec</c>).</summary>
    public ulong CpuUserUsec { get; init; }

    /// <summary>Of it in kernel mode (<c>system_usec</c>).</summary>
    public ulong CpuSystemUsec { get; init; }

    /// <summary>Enforcement periods elapsed (<c>nr_periods</c>).</summary>
    public ulong CpuNrPeriods { get; init; }

    /// <summary>Periods in which it was throttled (<c>nr_throttled</c>).</summary>
    public ulong CpuNrThrottled { get; init; }

    /// <summary>Time throttled, in microseconds (<c>throttled_usec</c>).</summary>
    public ulong CpuThrottledUsec { get; init; }

    /// <summary>Memory in use, in bytes (<c>memory.current</c>).</summary>
    public ulong MemoryCurrent { get; init; }

    /// <summary>Its limit (<c>memory.max</c>).</summary>
    public ulong MemoryMax { get; init; }

    /// <summary>Swap in use (<c>memory.swap.current</c>).</summary>
    public ulong MemorySwapCurrent { get; init; }

    /// <summary>Its limit (<c>memory.swap.max</c>).</summary>
    public ulong MemorySwapMax { get; init; }

    /// <summary>The most memory it used (<c>memory.peak</c>).</summary>
    public ulong MemoryPeak { get; init; }

    /// <summary>Anonymous memory (<c>memory.stat anon</c>).</summary>
    public ulong MemoryAnon { get; init; }

    /// <summary>Page cache (<c>file</c>).</summary>
    public ulong MemoryFile { get; init; }

    /// <summary>Kernel stacks (<c>kernel_stack</c>).</summary>
    public ulong MemoryKernelStack { get; init; }

    /// <summary>Kernel slab (<c>slab</c>).</summary>
    public ulong MemorySlab { get; init; }

    /// <summary>Socket buffers (<c>sock</c>).</summary>
    public ulong MemorySock { get; init; }

    /// <summary>Shared memory and tmpfs (<c>shmem</c>).</summary>
    public ulong MemoryShmem { get; init; }

    /// <summary>Mapped page cache (<c>file_mapped</c>).</summary>
    public ulong MemoryFileMapped { get; init; }

    /// <summary>Page faults (<c>pgfault</c>).</summary>
    public ulong MemoryPgfault { get; init; }

    /// <summary>Major page faults (<c>pgmajfault</c>).</summary>
    public ulong MemoryPgmajfault { get; init; }

    /// <summary>Times the limit was hit and reclaim failed (<c>memory.events oom</c>).</summary>
    public ulong MemoryEventsOom { get; init; }

    /// <summary>Processes the OOM killer ended (<c>oom_kill</c>).</summary>
    public ulong MemoryEventsOomKill { get; init; }
}
