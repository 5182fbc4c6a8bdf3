// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.Configuration;

/// <summary>
/// Parses memory sizes: a plain number is MiB; <c>M</c>/<c>MiB</c>, <c>G</c>/<c>GiB</c> and
/// <c>T</c>/<c>TiB</c> suffixes (any case) are binary units. Sizes must be whole MiB.
/// </summary>
internal static class MemorySize
{
    /// <summary>
    /// The smallest guest memory in MiB: the guest unpacks its initramfs (the agent, modules,
    /// busybox) into RAM, and below this the kernel panics doing so (96 MiB does; 128 boots with
    /// about 45 MiB to spare).
    /// </summary>
    public const int MinMiB = 128;

    /// <summary>The largest guest memory in MiB (1 TiB).</summary>
    public const int MaxMiB = 1024 * 1024;

    /// <summary>Parses <paramref name="text"/> into MiB or throws InvalidArgument naming <paramref name="field"/>.</summary>
    public static int Parse(string text, string field)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        var multiplier = 1L;
        var number = trimmed;
        foreach (var (suffix, factor) in Suffixes)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                multiplier = factor;
                number = trimmed[..^suffix.Length];
                break;
            }
        }

        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > int.MaxValue)
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                $"{field} '{text}' is not a memory size: use MiB as a number (512) or a size with a unit (512M, 1G)");
        }

        var mib = value * multiplier;
        return mib > int.MaxValue ? int.MaxValue : (int)mib;
    }

    // Longest first, so "MiB" is tried before "B"-less forms.
    private static readonly (string Suffix, long Factor)[] Suffixes =
        [("TiB", 1024 * 1024), ("GiB", 1024), ("MiB", 1), ("T", 1024 * 1024), ("G", 1024), ("M", 1)];

    /// <summary>
    /// Refuses a size this host cannot give a guest (more than its physical memory), before a boot
    /// that would only fail or hang.
    /// </summary>
    /// <exception cref="CocoonException">Larger than the host's memory (InvalidArgument).</exception>
    public static void EnsureHostCanProvide(int mib, string box, string meminfoPath = "/proc/meminfo")
    {
        var total = HostMemoryMiB(meminfoPath);
        if (total is { } host && mib > host)
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                $"box '{box}' asks for {mib} MiB of memory but this host has {host} MiB; give it less (--memory)");
        }
    }

    private static long? HostMemoryMiB(string meminfoPath)
    {
        try
        {
            foreach (var line in File.ReadLines(meminfoPath))
            {
                // "MemTotal:       24604844 kB"
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(9).Trim().TrimEnd("kB").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
                {
                    return kib / 1024;
                }
            }
        }
        catch (IOException)
        {
            // No /proc: nothing to check against.
        }

        return null;
    }
}
