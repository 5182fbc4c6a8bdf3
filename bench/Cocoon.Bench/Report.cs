// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.Bench;

/// <summary>Formats results in the shape of docs/architecture.md §2.9.</summary>
internal static class Report
{
    /// <summary><c>&lt;figure&gt;: &lt;value&gt;&lt;unit&gt; (goal &lt;op&gt; &lt;goal&gt;&lt;unit&gt;)</c>, e.g. <c>exec-rtt-p50: 31.7x (goal &gt;= 20x)</c>.</summary>
    public static string Figure(string figure, double value, string unit, string op, double goal)
    {
        if (op is not (">=" or "<="))
        {
            throw new ArgumentException($"op must be >= or <=, not '{op}'", nameof(op));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{figure}: {Number(value)}{unit} (goal {op} {Number(goal)}{unit})");
    }

    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            throw new ArgumentException("no values", nameof(values));
        }

        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>The <paramref name="p"/>th percentile (nearest rank) of <paramref name="values"/>.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>A number with up to three significant decimals.</summary>
    public static string Number(double value) =>
        value.ToString(Math.Abs(value) >= 100 ? "0.#" : "0.###", CultureInfo.InvariantCulture);
}
