// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Bench;

/// <summary>One benchmark: sets up what it needs, measures against a baseline in the same run, cleans up.</summary>
internal interface IBenchmark
{
    /// <summary>The name given to <c>scripts/bench</c>.</summary>
    string Name { get; }

    /// <summary>One line for <c>--list</c>.</summary>
    string Description { get; }

    /// <summary>Runs the benchmark, writing raw numbers and then its figure lines to <paramref name="output"/>.</summary>
    Task RunAsync(TextWriter output, CancellationToken cancellationToken);
}
