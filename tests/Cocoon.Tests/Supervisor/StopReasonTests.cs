// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device;

namespace Cocoon.Supervisor.Tests;

public sealed class StopReasonTests
{
    [Fact]
    public void Classify_StartFailure_FailedToStartWinsOverEverything()
    {
        var reason = StopReason.Classify(new StopFacts { StartFailure = "crun is not installed", Signalled = true, StopRequested = true, QemuExitCode = 1 });

        Assert.Equal(StopKind.FailedToStart, reason.Kind);
        Assert.Equal("failed to start: crun is not installed", reason.ToString());
        Assert.Equal(1, reason.SupervisorExitCode);
    }

    [Fact]
    public void Classify_Signalled_KilledEvenWhenAStopWasRequested()
    {
        var reason = StopReason.Classify(new StopFacts { Signalled = true, StopRequested = true, QemuExitCode = 137 });

        Assert.Equal("killed", reason.ToString());
        Assert.Equal(0, reason.SupervisorExitCode);
    }

    [Fact]
    public void Classify_StopRequestedGuestPoweredOff_Stopped()
    {
        var reason = StopReason.Classify(new StopFacts { StopRequested = true, QemuExitCode = 0 });

        Assert.Equal(StopKind.Stopped, reason.Kind);
        Assert.Equal("stopped", reason.ToString());
    }

    [Fact]
    public void Classify_StopGraceRanOut_Killed()
    {
        var reason = StopReason.Classify(new StopFacts { StopRequested = true, StopForced = true, QemuExitCode = 137 });

        Assert.Equal(StopKind.Killed, reason.Kind);
    }

    [Fact]
    public void Classify_QemuExitZeroWithoutRequest_Exit()
    {
        Assert.Equal("exit", StopReason.Classify(new StopFacts { QemuExitCode = 0 }).ToString());
    }

    [Fact]
    public void Classify_QemuNonZeroExit_CrashWithCodeAndLastOutputLine()
    {
        var reason = StopReason.Classify(new StopFacts { QemuExitCode = 1, QemuOutput = "warning: x\nqemu: could not load kernel\n" });

        Assert.Equal(StopKind.Crashed, reason.Kind);
        Assert.Equal("crash (qemu exit code 1: qemu: could not load kernel)", reason.ToString());
    }

    [Fact]
    public void Classify_QemuNonZeroExitNoOutput_SaysSo()
    {
        Assert.Equal("crash (qemu exit code 2: no output)", StopReason.Classify(new StopFacts { QemuExitCode = 2 }).ToString());
    }

    [Fact]
    public void Classify_QemuKilledBySignal_CrashNamesTheSignal()
    {
        Assert.Equal("crash (qemu killed by signal 9)", StopReason.Classify(new StopFacts { QemuExitCode = 137 }).ToString());
    }

    [Theory]
    [InlineData("qemu-system-x86_64: terminating on signal 15 from pid 4242 (kill)\n", 15)]
    [InlineData("/usr/bin/qemu-system-x86_64: terminated by signal 2\n", 2)]
    public void Classify_QemuExitZeroAfterItsSignalReport_CrashNamesTheSignal(string output, int signal)
    {
        var facts = new StopFacts { QemuExitCode = 0, QemuOutput = output, GuestConsole = "Kernel panic - not syncing: later than the signal\n" };

        Assert.Equal($"crash (qemu killed by signal {signal})", StopReason.Classify(facts).ToString());
    }

    [Fact]
    public void Classify_QemuExitZeroAfterGuestPanic_CrashNamesThePanic()
    {
        var console = "[    2.1] sysrq: Trigger a crash\n[    2.1] Kernel panic - not syncing: sysrq triggered crash\n[    2.1] Kernel Offset: disabled\n";

        var reason = StopReason.Classify(new StopFacts { QemuExitCode = 0, GuestConsole = console });

        Assert.Equal("crash (kernel panic: sysrq triggered crash)", reason.ToString());
    }

    [Fact]
    public void Classify_GuestPanicMessage_PrintableAndBounded()
    {
        var console = "Kernel panic - not syncing: \u001b[2Jwiped" + new string('x', 500) + "\n";

        var reason = StopReason.Classify(new StopFacts { QemuExitCode = 0, GuestConsole = console }).ToString();

        Assert.StartsWith("crash (kernel panic: ?[2Jwipedxxx", reason, StringComparison.Ordinal);
        Assert.Equal("crash (kernel panic: )".Length + 200, reason.Length);
    }

    [Fact]
    public void Classify_GuestPanickedWhileStopRequested_Stopped()
    {
        var reason = StopReason.Classify(new StopFacts { StopRequested = true, QemuExitCode = 0, GuestConsole = "Kernel panic - not syncing: x\n" });

        Assert.Equal("stopped", reason.ToString());
    }

    [Fact]
    public void Classify_DeviceEndedFirst_DeviceEndedWithItsReason()
    {
        var facts = new StopFacts { DeviceEnded = new VsockDeviceExit(VsockDeviceExitReason.Failed, "bad descriptor"), QemuExitCode = 137 };

        var reason = StopReason.Classify(facts);

        Assert.Equal(StopKind.DeviceEnded, reason.Kind);
        Assert.Equal("device ended (Failed: bad descriptor)", reason.ToString());
    }

    [Fact]
    public void ToString_SupervisorDied_IsTheDocumentedText()
    {
        Assert.Equal("supervisor died", new StopReason(StopKind.SupervisorDied).ToString());
    }

    [Fact]
    public void Classify_VolumeEnded_NamesTheVolumeUnlessAStopWasRequested()
    {
        var detail = "virtiofsd for /data (/srv/d) exited with code 1: fuse: bad";

        Assert.Equal($"volume ended ({detail})", StopReason.Classify(new StopFacts { VolumeEnded = detail, QemuExitCode = 137 }).ToString());
        Assert.Equal("stopped", StopReason.Classify(new StopFacts { VolumeEnded = detail, StopRequested = true }).ToString());
    }
}
