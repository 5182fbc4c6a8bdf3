// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Infrastructure;
using Cocoon.Guest;

namespace Cocoon.EndToEnd.Tests.Boot;

/// <summary>One test guest image in a temporary state root and one VM booted from it, shared by the boot tests.</summary>
public sealed class BootFixture : IAsyncLifetime
{
    internal static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(90);

    public string StateRoot { get; } = Directory.CreateTempSubdirectory("cocoon-e2e-state-").FullName;

    internal GuestKernel Kernel { get; private set; } = null!;

    internal GuestImage Image { get; private set; } = null!;

    internal TestVm Vm { get; private set; } = null!;

    internal TimeSpan TimeToMarker { get; private set; }

    public async Task InitializeAsync()
    {
        Kernel = KernelLocator.FindDefault();
        Image = new GuestImageCache(StateRoot).GetOrBuild(TestGuestImage.CreateBuilder(Kernel));
        var started = System.Diagnostics.Stopwatch.StartNew();
        Vm = await TestVm.StartAsync(Kernel, Image.Path, cacheDirectory: Path.Combine(StateRoot, "cache"));
        await Vm.WaitForConsoleAsync(TestGuestImage.Marker, BootTimeout);
        TimeToMarker = started.Elapsed;
    }

    public async Task DisposeAsync()
    {
        if (Vm is not null)
        {
            await Vm.DisposeAsync();
        }

        Directory.Delete(StateRoot, recursive: true);
    }
}
