// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.Agent.Processes;

/// <summary>
/// Tells an out-of-memory kill from any other SIGKILL: the kernel counts its kills in
/// <c>/proc/vmstat</c> (<c>oom_kill</c>), so a process that died of SIGKILL while that count rose
/// was, as far as the guest can tell, killed for memory.
/// </summary>
internal static class OomKills
{
    private const string VmStat = "/proc/vmstat";

    /// <summary>The kernel's OOM kill count so far; 0 when it cannot be read.</summary>
    public static long Count()
    {
        try
        {
            foreach (var line in File.ReadLines(VmStat))
            {
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                {
                    return count;
                }
            }
        }
        catch (IOException)
        {
            // No /proc/vmstat: no verdict either way.
        }

        return 0;
    }

    /// <summary>True when a process that died of <paramref name="signal"/> was most likely an OOM victim.</summary>
    public static bool Explains(int? signal, long countAtStart) => signal == Interop.SIGKILL && Count() > countAtStart;
}
