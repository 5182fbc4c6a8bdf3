// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Common;

namespace Cocoon.Vmm.Tests;

/// <summary>
/// The probe's verdict cache, with a stand-in QEMU (a shell script) that logs each start and acts
/// out a KVM boot or a KVM failure. The Choose tests run each probe in a worker process, as each CLI
/// or supervisor would, so only the on-disk cache can spare a later probe. The Decide tests probe
/// twice in this process, as a long-running supervisor or SDK user would, with a plain file
/// standing for /dev/kvm.
/// </summary>
public sealed class AcceleratorProbeCacheTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly TempStateRoot _root = new();

    public AcceleratorProbeCacheTests() => File.WriteAllText(KvmDevice, "");

    private string Starts => Path.Combine(_root.Path, "starts.log");

    private string Kernel => Path.Combine(_root.Path, "vmlinuz");

    private string Cache => Path.Combine(_root.Path, "cache");

    private string KvmDevice => Path.Combine(_root.Path, "kvm");

    [DeviceFact("/dev/kvm", ReadWrite = true)]
    public async Task Choose_SecondProcess_UsesCachedVerdictWithoutStartingQemu()
    {
        var qemu = FakeQemu(kvmWorks: true);

        var first = await ChooseInWorkerAsync(qemu);
        var second = await ChooseInWorkerAsync(qemu);

        Assert.Equal("Kvm: a test guest booted under KVM", first);
        Assert.Equal("Kvm: a test guest booted under KVM (cached)", second);
        Assert.Single(File.ReadAllLines(Starts));
    }

    [DeviceFact("/dev/kvm", ReadWrite = true)]
    public async Task Choose_KvmFails_TcgWithQemusErrorCachedToo()
    {
        var qemu = FakeQemu(kvmWorks: false);

        var first = await ChooseInWorkerAsync(qemu);
        var second = await ChooseInWorkerAsync(qemu);

        Assert.Equal("Tcg: QEMU with -accel kvm failed: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0", first);
        Assert.Equal(first + " (cached)", second);
        Assert.Single(File.ReadAllLines(Starts));
    }

    [DeviceFact("/dev/kvm", ReadWrite = true)]
    public async Task Choose_KernelChangedSinceVerdict_ProbesAgain()
    {
        var qemu = FakeQemu(kvmWorks: true);
        await ChooseInWorkerAsync(qemu);

        File.AppendAllText(Kernel, "a newer kernel");
        File.SetLastWriteTimeUtc(Kernel, DateTime.UtcNow.AddMinutes(1));
        var again = await ChooseInWorkerAsync(qemu);

        Assert.Equal("Kvm: a test guest booted under KVM", again);
        Assert.Equal(2, File.ReadAllLines(Starts).Length);
    }

    [DeviceFact("/dev/kvm", ReadWrite = true)]
    public async Task Choose_QemuExitsLeavingAChildHoldingItsOutput_TcgAtTheProbeDeadline()
    {
        File.WriteAllText(Kernel, "not a kernel");
        var child = Path.Combine(_root.Path, "child.pid");
        var qemu = ShellScript.Write(Path.Combine(_root.Path, "qemu"), $"echo started >> '{Starts}'\nsleep 40 &\necho $! > '{child}'\nexit 1");
        try
        {
            var choice = await ChooseInWorkerAsync(qemu);

            Assert.Equal("Tcg: a test guest did not finish booting under KVM within 10 s", choice);
        }
        finally
        {
            if (File.Exists(child) && int.TryParse(File.ReadAllText(child).Trim(), out var pid))
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                    // Gone already.
                }
            }
        }
    }

    [Fact]
    public async Task Choose_Override_NeverStartsQemu()
    {
        var qemu = FakeQemu(kvmWorks: true);

        var choice = await ChooseInWorkerAsync(qemu, new Dictionary<string, string> { [AcceleratorProbe.OverrideVariable] = "tcg" });

        Assert.Equal("Tcg: COCOON_ACCEL=tcg", choice);
        Assert.False(File.Exists(Starts));
    }

    [Fact]
    public async Task Decide_QemuCannotStart_ErrorNotKeptAndNextCallProbes()
    {
        var qemu = Path.Combine(_root.Path, "qemu");
        File.WriteAllText(Kernel, "not a kernel");

        var error = await Assert.ThrowsAsync<CocoonException>(() => DecideInProcessAsync(qemu));
        FakeQemu(kvmWorks: true);
        var again = await DecideInProcessAsync(qemu);

        Assert.Equal(CocoonErrorCode.Unavailable, error.Code);
        Assert.Contains(qemu, error.Message, StringComparison.Ordinal);
        Assert.Equal("Kvm: a test guest booted under KVM", again);
    }

    [Fact]
    public async Task Decide_SecondCall_KeepsVerdictWithoutStartingQemu()
    {
        var qemu = FakeQemu(kvmWorks: false);

        var first = await DecideInProcessAsync(qemu);
        var second = await DecideInProcessAsync(qemu);

        Assert.Equal("Tcg: QEMU with -accel kvm failed: qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0", first);
        Assert.Equal(first, second);
        Assert.Single(File.ReadAllLines(Starts));
    }

    [Fact]
    public async Task Decide_KvmDeviceGoneAfterVerdict_TcgSayingSo()
    {
        var qemu = FakeQemu(kvmWorks: true);
        await DecideInProcessAsync(qemu);

        File.Delete(KvmDevice);
        var again = await DecideInProcessAsync(qemu);

        Assert.Equal($"Tcg: {KvmDevice} does not exist", again);
    }

    public void Dispose() => _root.Dispose();

    // A stand-in for qemu-system-x86_64: logs its start, then either writes a kernel panic to the
    // -serial file and exits 0 (what the real kernel does under a working KVM) or fails as QEMU 7.2
    // does under a broken nested KVM.
    private string FakeQemu(bool kvmWorks)
    {
        File.WriteAllText(Kernel, "not a kernel");
        var path = Path.Combine(_root.Path, "qemu");
        var act = kvmWorks
            ? """
              while [ $# -gt 0 ]; do
                case "$1" in -serial) shift; echo "Kernel panic - not syncing: VFS: Unable to mount root fs" > "${1#file:}" ;; esac
                shift
              done
              exit 0
              """
            : """
              echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0" >&2
              exit 1
              """;
        return ShellScript.Write(path, $"echo started >> '{Starts}'\n{act}");
    }

    // No cache directory: only what this process keeps can spare a later probe.
    private async Task<string> DecideInProcessAsync(string qemu)
    {
        var choice = await AcceleratorProbe.DecideAsync(qemu, Kernel, cacheDirectory: null, KvmDevice, CancellationToken.None).WaitAsync(Timeout);
        return $"{choice.Accelerator}: {choice.Reason}";
    }

    private async Task<string> ChooseInWorkerAsync(string qemu, Dictionary<string, string>? environment = null)
    {
        environment ??= new Dictionary<string, string> { [AcceleratorProbe.OverrideVariable] = "" };
        var result = await ProcessRunner.RunAsync("dotnet", [RepoLayout.WorkerAssembly, "accel", qemu, Kernel, Cache], Timeout, environment);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Trim();
    }
}
