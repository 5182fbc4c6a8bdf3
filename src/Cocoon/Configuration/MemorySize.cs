// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.Configuration;

/// <summary>
/// Parses memory sizes: a plain number is MiB; <c>M</c>/<c>MiB</c> and <c>G</c>/<c>GiB</c> suffixes
/// (any case) are binary units. Sizes must be whole MiB.
/// </summary>
internal static class MemorySize
{
    /// <summary>The smallest guest memory in MiB.</summary>
    public const int MinMiB = 64;

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
        [("GiB", 1024), ("MiB", 1), ("G", 1024), ("M", 1)];
}
