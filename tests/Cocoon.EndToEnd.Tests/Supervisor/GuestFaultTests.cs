// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Supervisor;

/// <summary>
/// A box whose guest kernel panics, or whose QEMU is killed from outside, is recorded stopped with a
/// reason that says which, and nothing of it is left: no supervisor (which holds the vsock device) or
/// QEMU, no sockets; removing it frees its CID (checked when the environment is disposed). Fault
/// tests: one fresh box each.
/// </summary>
public sealed class GuestFaultTests
{
    [Fact]
    public async Task GuestKernelPanics_StoppedSayingKernelPanicAndNothingLeft()
    {
        await using var environment = new BoxTestEnvironment();
        await StartAsync(environment, "panic");

        var clock = Stopwatch.StartNew();
        var exec = await environment.CocoonAsync("exec", "panic", "sh", "-c", "echo c > /proc/sysrq-trigger");
        var execTime = clock.Elapsed;
        await BoxTestEnvironment.WaitUntilAsync(
            () => environment.ReadRecord("panic").GetProperty("state").GetString() == "stopped",
            () => $"exec exited {exec.ExitCode} after {execTime.TotalSeconds:0.0} s: {exec.Stderr}\n{environment.DescribeBox("panic")}");
        var inspected = await environment.InspectAsync("panic");

        Assert.Equal(125, exec.ExitCode);
        Assert.Equal("crash (kernel panic: sysrq triggered crash)", inspected.GetProperty("stop_reason").GetString());
        Assert.Equal("stopped", inspected.GetProperty("state").GetString());
        await AssertNothingLeftAsync(environment, "panic");
    }

    [Theory]
    [InlineData("TERM", 15)]
    [InlineData("KILL", 9)]
    public async Task QemuSignalledFromOutside_StoppedSayingWhichSignal(string signal, int number)
    {
        await using var environment = new BoxTestEnvironment();
        await StartAsync(environment, "victim");
        var qemu = (await environment.InspectAsync("victim")).GetProperty("vmm_pid").GetInt32();

        var kill = await ProcessRunner.RunAsync("kill", ["-" + signal, qemu.ToString(CultureInfo.InvariantCulture)], BoxTestEnvironment.CommandTimeout);
        await BoxTestEnvironment.WaitUntilAsync(
            () => environment.ReadRecord("victim").GetProperty("state").GetString() == "stopped",
            () => environment.DescribeBox("victim"));
        var inspected = await environment.InspectAsync("victim");

        Assert.True(kill.ExitCode == 0, kill.Stderr);
        Assert.Equal($"crash (qemu killed by signal {number})", inspected.GetProperty("stop_reason").GetString());
        await AssertNothingLeftAsync(environment, "victim");
    }

    private static async Task StartAsync(BoxTestEnvironment environment, string name)
    {
        var create = await environment.CocoonAsync("create", "--name", name);
        Assert.True(create.ExitCode == 0, create.Stderr);
        var start = await environment.CocoonAsync("start", name);
        Assert.True(start.ExitCode == 0, start.Stderr);
    }

    private static async Task AssertNothingLeftAsync(BoxTestEnvironment environment, string name)
    {
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(environment.StateRoot, "boxes", name), "*.sock*"));
        var rm = await environment.CocoonAsync("rm", name);
        Assert.True(rm.ExitCode == 0, rm.Stderr);
        Assert.DoesNotContain(name, environment.CidsText(), StringComparison.Ordinal);
    }
}
