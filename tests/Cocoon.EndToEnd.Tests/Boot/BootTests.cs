// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Infrastructure;
using Cocoon.Guest;
using Cocoon.Vmm;
using Xunit.Abstractions;

namespace Cocoon.EndToEnd.Tests.Boot;

public sealed class BootTests(BootFixture fixture, ITestOutputHelper output) : IClassFixture<BootFixture>
{
    /// <summary>
    /// The accelerator this host gives guests (probe or COCOON_ACCEL), as the data of a theory: the
    /// test's name then carries it, so every run of the suite prints which accelerator it ran under.
    /// </summary>
    public static TheoryData<string> ProbedAccelerator()
    {
        var choice = AcceleratorProbe.ChooseAsync(new QemuOptions().QemuPath, KernelLocator.FindDefault().KernelPath)
            .WaitAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();
        return new TheoryData<string> { $"{choice.Accelerator}: {choice.Reason}" };
    }

    [Theory]
    [MemberData(nameof(ProbedAccelerator))]
    public void Suite_RunsUnderTheProbedAccelerator(string accelerator)
    {
        // Arrange, Act: the fixture booted the guest.
        var arguments = string.Join(' ', fixture.Vm.Qemu.Arguments);
        output.WriteLine($"accelerator: {accelerator}");

        // Assert: the VMs of this run use the accelerator the name reports.
        Assert.StartsWith($"{fixture.Vm.Accelerator}: ", accelerator, StringComparison.Ordinal);
        Assert.Contains($"-accel {fixture.Vm.Accelerator.ToString().ToLowerInvariant()} ", arguments, StringComparison.Ordinal);
    }

    [Fact]
    public void Boot_TestGuest_ReachesMarkerWithSocatRunnable()
    {
        // Arrange, Act: the fixture booted the guest.
        output.WriteLine($"time to marker: {fixture.TimeToMarker.TotalMilliseconds:0} ms ({fixture.Vm.Accelerator})");

        // Assert
        var console = fixture.Vm.ReadConsole();
        Assert.Contains(TestGuestImage.Marker, console, StringComparison.Ordinal);
        Assert.True(console.Contains("socat version", StringComparison.Ordinal), fixture.Vm.Describe());
        Assert.DoesNotContain("insmod", console, StringComparison.Ordinal);
        Assert.False(fixture.Vm.Qemu.Exited.IsCompleted, fixture.Vm.Describe());
    }

    [Fact]
    public async Task Boot_SecondTimeFromCache_ReachesMarker()
    {
        // Arrange
        var image = new GuestImageCache(fixture.StateRoot).GetOrBuild(TestGuestImage.CreateBuilder(fixture.Kernel));

        // Act
        await using var vm = await TestVm.StartAsync(fixture.Kernel, image.Path, cacheDirectory: Path.Combine(fixture.StateRoot, "cache"));
        await vm.WaitForConsoleAsync(TestGuestImage.Marker, BootFixture.BootTimeout);

        // Assert
        Assert.True(image.FromCache);
        Assert.Equal(fixture.Image.Path, image.Path);
    }

    [Fact]
    public async Task Start_VsockSocketWithoutBackend_QemuExitsWithError()
    {
        // Arrange
        var socket = Path.Combine(fixture.StateRoot, "no-backend.sock");

        // Act
        await using var vm = await TestVm.StartAsync(fixture.Kernel, fixture.Image.Path, vsockSocketPath: socket);
        var exitCode = await vm.Qemu.Exited.WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.NotEqual(0, exitCode);
        Assert.Contains(socket, vm.Qemu.OutputTail, StringComparison.Ordinal);
    }
}
