// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.Boxes;

/// <summary>
/// How the runtime recovers state around supervisors that die, hang or never come up. The
/// supervisors and QEMUs here are shell stand-ins whose argv carries what the liveness checks look
/// for (<c>supervise NAME</c>, <c>qemu-system</c>): these tests are about the runtime's decisions,
/// not the real processes, which the end-to-end suite covers.
/// </summary>
public sealed class BoxRecoveryTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempStateRoot _root = new();
    private readonly List<Process> _started = [];

    [Fact]
    public void Refresh_SupervisorGone_StoppedAsSupervisorDiedAndItsQemuKilled()
    {
        var runtime = Runtime();
        runtime.Boxes.Create(new BoxOptions("gone").Build());
        var qemu = Spawn("/bin/sh", "-c", "while :; do sleep 0.1; done", "qemu-system-x86_64");
        var supervisor = Spawn("/bin/true");
        supervisor.WaitForExit();
        runtime.Boxes.Update("gone", r => r with { State = BoxState.Running, Pid = supervisor.Id, VmmPid = qemu.Id });

        var refreshed = runtime.Refresh(runtime.Boxes.Get("gone"));

        Assert.Equal(BoxState.Stopped, refreshed.State);
        Assert.Equal("supervisor died", refreshed.StopReason);
        Assert.Null(refreshed.Pid);
        Assert.Null(refreshed.VmmPid);
        Assert.Equal((BoxState.Stopped, "supervisor died"), (runtime.Boxes.Get("gone").State, runtime.Boxes.Get("gone").StopReason));
        Assert.True(qemu.WaitForExit(Timeout), "the orphaned QEMU still runs");
        Assert.Equal(128 + 9, qemu.ExitCode);
    }

    [Fact]
    public void Refresh_PidReusedByAnotherProgram_StoppedAndThatProgramLeftAlone()
    {
        var runtime = Runtime();
        runtime.Boxes.Create(new BoxOptions("reused").Build());
        var stranger = Spawn("/bin/sh", "-c", "while :; do sleep 0.1; done", "stranger");
        runtime.Boxes.Update("reused", r => r with { State = BoxState.Running, Pid = stranger.Id, VmmPid = stranger.Id });

        var refreshed = runtime.Refresh(runtime.Boxes.Get("reused"));

        Assert.Equal(BoxState.Stopped, refreshed.State);
        Assert.Equal("supervisor died", refreshed.StopReason);
        Assert.False(stranger.HasExited, "Refresh signalled a process that is neither its supervisor nor a QEMU");
    }

    [Fact]
    public void Refresh_SupervisorAlive_StaysRunning()
    {
        var runtime = Runtime();
        runtime.Boxes.Create(new BoxOptions("alive").Build());
        var supervisor = FakeSupervisor("alive", onSigterm: "");
        runtime.Boxes.Update("alive", r => r with { State = BoxState.Running, Pid = supervisor.Id });
        var before = File.ReadAllText(runtime.Paths.BoxFile("alive"));

        var refreshed = runtime.Refresh(runtime.Boxes.Get("alive"));

        Assert.Equal(BoxState.Running, refreshed.State);
        Assert.Equal(supervisor.Id, refreshed.Pid);
        Assert.Equal(before, File.ReadAllText(runtime.Paths.BoxFile("alive")));
        Assert.False(supervisor.HasExited);
    }

    [Fact]
    public async Task Stop_SupervisorIgnoresShutdownAndSigterm_EscalatesToSigkill()
    {
        // The stand-in serves no control.sock, so pod.stop fails; it logs SIGTERM and carries on.
        var runtime = Runtime();
        runtime.Boxes.Create(new BoxOptions("stubborn").Build());
        var supervisor = FakeSupervisor("stubborn", onSigterm: "echo TERM >> \"$2\"");
        runtime.Boxes.Update("stubborn", r => r with { State = BoxState.Running, Pid = supervisor.Id });

        await runtime.StopAsync("stubborn", TimeSpan.FromSeconds(1)).WaitAsync(Timeout);

        Assert.True(supervisor.WaitForExit(Timeout));
        Assert.Equal(128 + 9, supervisor.ExitCode);
        Assert.Equal(["up", "TERM"], File.ReadAllLines(Log("stubborn")));
        var record = runtime.Boxes.Get("stubborn");
        Assert.Equal(BoxState.Stopped, record.State);
        Assert.Equal("killed", record.StopReason);
    }

    [Fact]
    public async Task Stop_SupervisorEndsOnSigterm_NoSigkill()
    {
        var runtime = Runtime();
        runtime.Boxes.Create(new BoxOptions("polite").Build());
        var supervisor = FakeSupervisor("polite", onSigterm: "echo TERM >> \"$2\"; exit 0");
        runtime.Boxes.Update("polite", r => r with { State = BoxState.Running, Pid = supervisor.Id });

        await runtime.StopAsync("polite", TimeSpan.FromSeconds(1)).WaitAsync(Timeout);

        Assert.True(supervisor.WaitForExit(Timeout));
        Assert.Equal(0, supervisor.ExitCode);
        Assert.Equal(["up", "TERM"], File.ReadAllLines(Log("polite")));
        Assert.Equal(BoxState.Stopped, runtime.Boxes.Get("polite").State);
    }

    [Fact]
    public async Task CreateBox_SupervisorExitsAtOnce_UnavailableAndNothingLeft()
    {
        var runtime = Runtime(FakeCocoon("echo 'cannot supervise' >&2; exit 3"));

        var ex = await Assert.ThrowsAsync<CocoonException>(() => runtime.CreateBoxAsync(new BoxOptions("early")).WaitAsync(Timeout));

        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.Contains("stopped before its agent answered", ex.Message, StringComparison.Ordinal);
        Assert.Contains("cannot supervise", ex.Message, StringComparison.Ordinal);
        Assert.Null(runtime.Boxes.TryGet("early"));
        Assert.Empty(runtime.Boxes.Cids.Snapshot());
    }

    [Fact]
    public async Task Start_AgentNeverAnswers_SupervisorTerminatedAndReasonRecorded()
    {
        // The stand-in stays up, never serving vsock.sock, and writes its pid where the test finds it.
        var pidFile = Path.Combine(_root.Path, "supervisor.pid");
        var runtime = Runtime(FakeCocoon($"echo $$ > '{pidFile}'; while :; do sleep 0.1; done"), startTimeout: TimeSpan.FromSeconds(2));
        runtime.Boxes.Create(new BoxOptions("mute").Build());

        var ex = await Assert.ThrowsAsync<CocoonException>(() => runtime.StartAsync("mute").WaitAsync(Timeout));

        Assert.Equal(CocoonErrorCode.Timeout, ex.Code);
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(IsGone(pid), $"the supervisor stand-in {pid} outlived the failed start");
        var record = runtime.Boxes.Get("mute");
        Assert.Equal(BoxState.Stopped, record.State);
        Assert.Equal("failed to start: agent did not answer", record.StopReason);
    }

    public void Dispose()
    {
        foreach (var process in _started)
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(5000);
            }

            process.Dispose();
        }

        _root.Dispose();
    }

    // Exited: no /proc entry, or a zombie nobody reaped yet (it was started detached, in its own session).
    private static bool IsGone(int pid) => ProcessRunner.ReadStat(pid) is null or { State: 'Z' };

    private CocoonRuntime Runtime(string? cocoonPath = null, TimeSpan? startTimeout = null) => new(new CocoonRuntimeOptions
    {
        StateRoot = _root.Path,
        CocoonPath = cocoonPath,
        StartTimeout = startTimeout ?? TimeSpan.FromSeconds(60),
    });

    private string Log(string name) => Path.Combine(_root.Path, name + ".log");

    // sh -c SCRIPT supervise NAME LOG: argv holds "supervise" and the name, as a real supervisor's does.
    private Process FakeSupervisor(string name, string onSigterm)
    {
        var trap = onSigterm.Length > 0 ? $"trap '{onSigterm.Replace("'", "'\\''", StringComparison.Ordinal)}' TERM; " : "";
        var process = Spawn("/bin/sh", "-c", trap + "echo up >> \"$2\"; while :; do sleep 0.1; done", "supervise", name, Log(name));
        var deadline = DateTime.UtcNow + Timeout;
        while (!File.Exists(Log(name)) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        return process;
    }

    // A cocoon executable whose `supervise NAME` runs SCRIPT instead of a supervisor.
    private string FakeCocoon(string script)
    {
        return ShellScript.Write(Path.Combine(_root.Path, "fake-cocoon"), script);
    }

    private Process Spawn(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        _started.Add(process);
        return process;
    }
}
