// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Tests.Infrastructure;

namespace Cocoon.Agent.Tests;

public sealed class AgentServiceTests(AgentProcessFixture fixture) : IClassFixture<AgentProcessFixture>
{
    [Fact]
    public async Task GetInfo_ListenUnixMode_ReportsKernelAndNotInit()
    {
        var info = await fixture.Agent.GetInfoAsync().WaitAsync(ExecHelpers.Timeout);

        Assert.False(info.IsInit);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), info.KernelRelease);
        Assert.False(string.IsNullOrEmpty(info.AgentVersion));
        Assert.True(info.InitToServing > TimeSpan.Zero);
    }

    [Fact]
    public async Task SetTime_ListenUnixMode_IsUnsupported()
    {
        var ex = await Assert.ThrowsAsync<CocoonException>(() => fixture.Agent.SetTimeAsync(DateTimeOffset.UtcNow).WaitAsync(ExecHelpers.Timeout));

        Assert.Equal(CocoonErrorCode.Unsupported, ex.Code);
    }

    [Fact]
    public async Task Shutdown_ListenUnixMode_StopsTheAgent()
    {
        var directory = Directory.CreateTempSubdirectory("cocoon-agent-shutdown-").FullName;
        try
        {
            var socket = Path.Combine(directory, "agent.sock");
            using var process = AgentProcessFixture.StartAgent(socket);
            await using var agent = GuestAgentClient.ConnectUnix(socket);
            await agent.WaitForReadyAsync(TimeSpan.FromSeconds(30)).WaitAsync(ExecHelpers.Timeout);

            await agent.ShutdownAsync().WaitAsync(ExecHelpers.Timeout);
            await process.WaitForExitAsync().WaitAsync(ExecHelpers.Timeout);

            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task WaitForReady_NothingListening_TimesOut()
    {
        await using var agent = GuestAgentClient.ConnectUnix("/tmp/cocoon-no-such-agent.sock");

        var ex = await Assert.ThrowsAsync<CocoonException>(() => agent.WaitForReadyAsync(TimeSpan.FromMilliseconds(300)).WaitAsync(ExecHelpers.Timeout));

        Assert.Equal(CocoonErrorCode.Timeout, ex.Code);
        Assert.Contains("cocoon-no-such-agent.sock", ex.Message, StringComparison.Ordinal);
    }
}
