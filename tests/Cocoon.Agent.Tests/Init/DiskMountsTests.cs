// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using Cocoon.Agent.Init;
using Cocoon.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Agent.Tests.Init;

[SupportedOSPlatform("linux")]
public sealed class DiskMountsTests
{
    [Fact]
    public async Task WaitAsync_BeforeStart_WaitsUntilTheDisksAreReady()
    {
        var disks = new DiskMounts();

        var waiting = disks.WaitAsync(CancellationToken.None);
        var waitedForStart = !waiting.IsCompleted;
        disks.Start(new BootConfig(), NullLogger.Instance);
        await waiting;

        Assert.True(waitedForStart);
    }

    [Fact]
    public async Task WaitAsync_ADiskModuleFailsToLoad_EachContainerIsRefusedNamingIt()
    {
        var disks = new DiskMounts();
        var missing = Path.Combine(Path.GetTempPath(), "cocoon-no-such-module-" + Guid.NewGuid().ToString("N") + ".ko");

        disks.Start(new BootConfig { DiskModules = [missing] }, NullLogger.Instance);

        var first = await Assert.ThrowsAsync<CocoonException>(() => disks.WaitAsync(CancellationToken.None));
        var second = await Assert.ThrowsAsync<CocoonException>(() => disks.WaitAsync(CancellationToken.None));
        Assert.Equal(CocoonErrorCode.InvalidState, first.Code);
        Assert.Contains(missing, first.Message, StringComparison.Ordinal);
        Assert.Equal(first.Message, second.Message);
    }

    [Fact]
    public async Task WaitAsync_Cancelled_StopsWaiting()
    {
        var disks = new DiskMounts();
        using var cancel = new CancellationTokenSource();

        var waiting = disks.WaitAsync(cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
