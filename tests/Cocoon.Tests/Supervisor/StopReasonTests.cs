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
