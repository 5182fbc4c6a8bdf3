// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Common;

namespace Cocoon.Tests.Scripts;

/// <summary>
/// A test that waits on a child process must, when the child hangs, say where it hangs: a CI run is read
/// after the fact, from its output alone.
/// </summary>
public sealed class ProcessRunnerTests
{
    [Fact]
    public async Task RunAsync_TreeOutlivesTheTimeout_ThrowsDescribingEachProcessAndKillsThem()
    {
        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            ProcessRunner.RunAsync("/bin/sh", ["-c", "sleep 60 & echo $! > /dev/null; exec sleep 61"], TimeSpan.FromSeconds(2)));

        Assert.Contains("'/bin/sh' (pid ", error.Message, StringComparison.Ordinal);
        Assert.Contains("did not exit within 2s", error.Message, StringComparison.Ordinal);
        var lines = error.Message.Split('\n')[1..];
        Assert.Contains(lines, line => line.EndsWith(" sleep 61", StringComparison.Ordinal) && line.Contains(" S wchan=", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.EndsWith(" sleep 60", StringComparison.Ordinal));
        var pids = lines.Select(line => int.Parse(line.Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (pids.Any(IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.DoesNotContain(pids, IsAlive);
    }

    // Running or asleep: not gone, and not a zombie waiting for its parent.
    private static bool IsAlive(int pid) => ProcessRunner.ReadStat(pid) is { State: not 'Z' };
}
