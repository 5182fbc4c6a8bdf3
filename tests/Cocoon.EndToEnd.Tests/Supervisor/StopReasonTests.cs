// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;

namespace Cocoon.EndToEnd.Tests.Supervisor;

/// <summary>
/// Stop reasons the other lifecycle tests do not reach (BoxLifecycleTests covers stopped, exit,
/// supervisor died and a QEMU crash). "device ended" needs a failing vsock device and is unit-tested only.
/// </summary>
public sealed class StopReasonTests
{
    [Fact]
    public async Task SupervisorSignalled_StopReasonKilled()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "sig");
        var start = await environment.CocoonAsync("start", "sig");
        Assert.True(start.ExitCode == 0, start.Stderr);
        var supervisor = (await environment.InspectAsync("sig")).GetProperty("pid").GetInt32();

        SendSigterm(supervisor);
        await BoxTestEnvironment.WaitUntilAsync(() => environment.ReadRecord("sig").GetProperty("state").GetString() == "stopped");
        var inspected = await environment.InspectAsync("sig");

        Assert.Equal("killed", inspected.GetProperty("stop_reason").GetString());
        await BoxTestEnvironment.WaitUntilAsync(() => environment.LeftoverProcesses().Count == 0);
        Assert.False(File.Exists(Path.Combine(environment.StateRoot, "boxes", "sig", "control.sock")));
    }

    [Fact]
    public async Task AgentMissing_StartFailsAndStopReasonSaysFailedToStart()
    {
        await using var environment = new BoxTestEnvironment();
        await environment.CocoonAsync("create", "--name", "noagent");
        environment.Environment["COCOON_AGENT_PATH"] = "/nonexistent/cocoon-agent";

        var start = await environment.CocoonAsync("start", "noagent");
        var inspected = await environment.InspectAsync("noagent");

        Assert.Equal(9, start.ExitCode);
        var reason = inspected.GetProperty("stop_reason").GetString();
        Assert.StartsWith("failed to start: ", reason, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/cocoon-agent", reason, StringComparison.Ordinal);
        Assert.Equal("stopped", inspected.GetProperty("state").GetString());
        Assert.Empty(environment.LeftoverProcesses());
    }

    private static void SendSigterm(int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
