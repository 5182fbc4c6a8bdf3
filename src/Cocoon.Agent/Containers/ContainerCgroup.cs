// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.Protocol.Agent.V1;

namespace Cocoon.Agent.Containers;

/// <summary>
/// A container's cgroup in the box, <c>/sys/fs/cgroup/cocoon/&lt;name&gt;</c> (crun makes it from the
/// spec's <c>cgroupsPath</c>): every process of the container is in it or in a cgroup beneath it, and
/// its counters (cgroup v2 counts children in) are the container's.
/// </summary>
internal static class ContainerCgroup
{
    /// <summary>The cgroup directory of container <paramref name="name"/>.</summary>
    public static string PathOf(string name) => $"/sys/fs/cgroup{RuntimeSpec.CgroupParent}/{name}";

    /// <summary>Sends <paramref name="signal"/> to every process in the container's cgroup tree; returns how many were signalled (0: no cgroup, or empty).</summary>
    public static int SignalAll(string name, int signal)
    {
        var root = PathOf(name);
        if (!Directory.Exists(root))
        {
            return 0;
        }

        var signalled = 0;
        try
        {
            foreach (var procs in Directory.EnumerateFiles(root, "cgroup.procs", SearchOption.AllDirectories))
            {
                foreach (var line in ReadLines(procs))
                {
                    // Never 0 or -1 (a group, everyone) nor the agent; ESRCH: it exited meanwhile.
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 1 && Interop.SendSignal(pid, signal).Ok)
                    {
                        signalled++;
                    }
                }
            }
        }
        catch (DirectoryNotFoundException)
        {
            // The container ended while we walked its cgroups.
        }

        return signalled;
    }

    /// <summary>The container's counters, read from its cgroup's files.</summary>
    /// <exception cref="CocoonException">InvalidState when it has no cgroup (not running).</exception>
    public static ContainerStats Stats(string name)
    {
        var root = PathOf(name);
        if (!Directory.Exists(root))
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, $"Container '{name}' has no cgroup; it is not running.");
        }

        var cpu = KeyValues(Path.Combine(root, "cpu.stat"));
        var memory = KeyValues(Path.Combine(root, "memory.stat"));
        var events = KeyValues(Path.Combine(root, "memory.events"));
        return new ContainerStats
        {
            PidsCurrent = Value(root, "pids.current"),
            PidsMax = Value(root, "pids.max"),
            CpuUsageUsec = cpu.GetValueOrDefault("usage_usec"),
            CpuUserUsec = cpu.GetValueOrDefault("user_usec"),
            CpuSystemUsec = cpu.GetValueOrDefault("system_usec"),
            CpuNrPeriods = cpu.GetValueOrDefault("nr_periods"),
            CpuNrThrottled = cpu.GetValueOrDefault("nr_throttled"),
            CpuThrottledUsec = cpu.GetValueOrDefault("throttled_usec"),
            MemoryCurrent = Value(root, "memory.current"),
            MemoryMax = Value(root, "memory.max"),
            MemorySwapCurrent = Value(root, "memory.swap.current"),
            MemorySwapMax = Value(root, "memory.swap.max"),
            MemoryPeak = Value(root, "memory.peak"),
            MemoryAnon = memory.GetValueOrDefault("anon"),
            MemoryFile = memory.GetValueOrDefault("file"),
            MemoryKernelStack = memory.GetValueOrDefault("kernel_stack"),
            MemorySlab = memory.GetValueOrDefault("slab"),
            MemorySock = memory.GetValueOrDefault("sock"),
            MemoryShmem = memory.GetValueOrDefault("shmem"),
            MemoryFileMapped = memory.GetValueOrDefault("file_mapped"),
            MemoryPgfault = memory.GetValueOrDefault("pgfault"),
            MemoryPgmajfault = memory.GetValueOrDefault("pgmajfault"),
            MemoryEventsOom = events.GetValueOrDefault("oom"),
            MemoryEventsOomKill = events.GetValueOrDefault("oom_kill"),
        };
    }

    /// <summary>A one-value file (<c>pids.current</c>, <c>memory.max</c>): "max" is 2^64-1; missing or unreadable is 0.</summary>
    internal static ulong Value(string directory, string file) => ParseValue(ReadLines(Path.Combine(directory, file)).FirstOrDefault());

    /// <summary>A flat-keyed file (<c>cpu.stat</c>, <c>memory.stat</c>): "key value" lines; lines that are not are skipped.</summary>
    internal static Dictionary<string, ulong> KeyValues(string path)
    {
        var result = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in ReadLines(path))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0)
            {
                result[line[..space]] = ParseValue(line[(space + 1)..]);
            }
        }

        return result;
    }

    /// <summary>A decimal counter, or "max" (2^64-1); anything else is 0.</summary>
    internal static ulong ParseValue(string? text)
    {
        var value = text?.Trim();
        return value == "max" ? ulong.MaxValue : ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
