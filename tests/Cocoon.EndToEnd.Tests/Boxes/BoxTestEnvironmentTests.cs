// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;

namespace Cocoon.EndToEnd.Tests.Boxes;

/// <summary>The end-to-end cleanup reports what a test leaked instead of hiding it (no VM needed).</summary>
public sealed class BoxTestEnvironmentTests
{
    [Fact]
    public async Task Dispose_ProcessOutlivesTheTest_FailsNamingItAndKillsIt()
    {
        var environment = new BoxTestEnvironment();
        // Stands in for a QEMU or supervisor that outlived its box: its argv names the state root.
        using var stray = Process.Start("/bin/sh", ["-c", "while :; do sleep 0.1; done", environment.StateRoot]);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => environment.DisposeAsync().AsTask());

        Assert.Contains($"process {stray.Id} still running", ex.Message, StringComparison.Ordinal);
        Assert.True(stray.WaitForExit(10_000), "the leaked process was not killed");
        Assert.False(Directory.Exists(environment.StateRoot));
    }

    [Fact]
    public async Task Dispose_CidLeftAllocated_FailsNamingIt()
    {
        var environment = new BoxTestEnvironment();
        Directory.CreateDirectory(Path.Combine(environment.StateRoot, "vsock"));
        File.WriteAllText(Path.Combine(environment.StateRoot, "vsock", "cids.json"), """{"3":"ghost"}""");

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => environment.DisposeAsync().AsTask());

        Assert.Contains("CIDs still allocated", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ghost", ex.Message, StringComparison.Ordinal);
    }
}
