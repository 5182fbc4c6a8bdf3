// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;

namespace Cocoon.EndToEnd.Tests.Files;

/// <summary>Volumes across a box's life: no virtiofsd outlives a stop, a dying one stops the box visibly, bad input allocates nothing.</summary>
public sealed class VolumeLifecycleTests : IAsyncLifetime
{
    private readonly BoxTestEnvironment _environment = new();
    private readonly string _host = Directory.CreateTempSubdirectory("cocoon-vol-").FullName;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _environment.DisposeAsync();
        Directory.Delete(_host, recursive: true);
    }

    [Fact]
    public async Task Virtiofsd_KilledWhileRunning_BoxStopsWithVolumeEnded_StopLeavesNoneNorItsPidFile()
    {
        var socket = Path.Combine(_environment.StateRoot, "boxes", "vk", "fs0.sock");

        // virtiofsd (QEMU 7.2's) locks a pid file named after its socket and never removes it.
        var pidFile = "/run/virtiofsd/" + socket.Replace('/', '.') + ".pid";
        var create = await _environment.CocoonAsync("create", "--name", "vk", "-v", _host + ":/data");
        Assert.True(create.ExitCode == 0, create.Stderr);
        var start = await _environment.CocoonAsync("start", "vk");
        Assert.True(start.ExitCode == 0, start.Stderr);
        var pids = VolumeFixture.VirtiofsdPids(socket);
        Assert.NotEmpty(pids);
        Assert.True(File.Exists(pidFile), $"virtiofsd wrote no {pidFile}");

        System.Diagnostics.Process.GetProcessById(pids.Min()).Kill();
        await BoxTestEnvironment.WaitUntilAsync(() => _environment.ReadRecord("vk").GetProperty("state").GetString() == "stopped");

        var reason = _environment.ReadRecord("vk").GetProperty("stop_reason").GetString();
        Assert.StartsWith("volume ended (virtiofsd for /data (" + _host + ") exited with code", reason, StringComparison.Ordinal);
        await BoxTestEnvironment.WaitUntilAsync(() => VolumeFixture.VirtiofsdPids(socket).Count == 0);
        Assert.False(File.Exists(pidFile), $"{pidFile} is left behind");

        // Started again, then stopped: the daemon goes with the box.
        start = await _environment.CocoonAsync("start", "vk");
        Assert.True(start.ExitCode == 0, start.Stderr);
        Assert.NotEmpty(VolumeFixture.VirtiofsdPids(socket));
        var stop = await _environment.CocoonAsync("stop", "vk");
        Assert.True(stop.ExitCode == 0, stop.Stderr);
        Assert.Empty(VolumeFixture.VirtiofsdPids(socket));
        Assert.False(File.Exists(socket));
        Assert.False(File.Exists(pidFile), $"{pidFile} is left behind");
    }

    [Theory]
    [InlineData("{host}/missing:/data", "does not exist; create it first")]
    [InlineData("{host}:data", "must be an absolute path")]
    [InlineData("{host}:/data:rx", "mode 'rx' is not supported; use ro or rw")]
    [InlineData("relative:/data", "must be an absolute path")]
    public async Task Create_BadVolume_UsageErrorNamingFlagAndNothingCreated(string spec, string expected)
    {
        var result = await _environment.CocoonAsync("create", "--name", "bad", "-v", spec.Replace("{host}", _host, StringComparison.Ordinal));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--volume #1", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_environment.StateRoot, "boxes", "bad")));
    }

    [Fact]
    public async Task Run_DuplicateVolumePath_UsageErrorAndNothingCreated()
    {
        var result = await _environment.CocoonAsync("run", "--name", "dup", "-v", _host + ":/data", "-v", _host + ":/data/", "--", "true");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'/data' is used twice", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_environment.StateRoot, "boxes", "dup")));
    }
}
