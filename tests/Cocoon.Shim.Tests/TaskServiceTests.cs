// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Shim.Protocol;
using Cocoon.Shim.Tests.Infrastructure;
using Cocoon.Shim.Ttrpc;
using Cocoon.Tests.Common;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Shim.Tests;

/// <summary>
/// The Task service over ttrpc, on the calls that end before a box is needed: bad input and unknown
/// tasks answer the errdefs codes containerd expects, and nothing is created for them.
/// </summary>
public sealed class TaskServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly TempStateRoot _root = new();
    private readonly CocoonRuntime _runtime;
    private readonly EventPublisher _events = new(null, "default", NullLogger.Instance);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _serving;
    private readonly TtrpcClient _client;

    public TaskServiceTests()
    {
        _runtime = new CocoonRuntime(new CocoonRuntimeOptions { StateRoot = _root.Path });
        var service = new TaskService(_runtime, "default", _events, NullLogger.Instance, _shutdown);
        var (server, client) = UnixSocketPair.Create();
        _serving = new TtrpcServer(service.Methods(), NullLogger.Instance).ServeConnectionAsync(new NetworkStream(server, ownsSocket: true), _shutdown.Token);
        _client = TtrpcClient.Over(new NetworkStream(client, ownsSocket: true));
    }

    [Theory]
    [InlineData("State")]
    [InlineData("Wait")]
    [InlineData("Start")]
    [InlineData("Delete")]
    [InlineData("Stats")]
    public async Task UnknownTask_AnswersNotFound(string method)
    {
        var error = await CallFailingAsync(method, new ProcessRef { Id = "nope" });

        Assert.Equal(TtrpcCode.NotFound, error.Code);
        Assert.Contains("'nope'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Pause")]
    [InlineData("Resume")]
    [InlineData("Checkpoint")]
    [InlineData("Update")]
    public async Task UnsupportedMethod_AnswersUnimplemented(string method)
    {
        var error = await CallFailingAsync(method, new TaskRef { Id = "t" });

        Assert.Equal(TtrpcCode.Unimplemented, error.Code);
    }

    [Fact]
    public async Task Create_BundleWithoutSpec_InvalidArgumentAndNoBox()
    {
        var bundle = Directory.CreateTempSubdirectory("bundle-");
        try
        {
            var error = await CallFailingAsync("Create", new CreateTaskRequest { Id = "t1", Bundle = bundle.FullName });

            Assert.Equal(TtrpcCode.InvalidArgument, error.Code);
            Assert.Contains("config.json", error.Message, StringComparison.Ordinal);
            Assert.Empty(_runtime.ListBoxes());
        }
        finally
        {
            bundle.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Create_ContainerOfUnknownSandbox_NotFoundAndNoBox()
    {
        var bundle = Directory.CreateTempSubdirectory("bundle-");
        try
        {
            File.WriteAllText(Path.Combine(bundle.FullName, "config.json"),
                """{"process":{"args":["true"]},"annotations":{"io.kubernetes.cri.sandbox-id":"pod1"}}""");

            var error = await CallFailingAsync("Create", new CreateTaskRequest { Id = "app1", Bundle = bundle.FullName });

            Assert.Equal(TtrpcCode.NotFound, error.Code);
            Assert.Contains("pod sandbox 'pod1'", error.Message, StringComparison.Ordinal);
            Assert.Empty(_runtime.ListBoxes());
        }
        finally
        {
            bundle.Delete(recursive: true);
        }
    }

    [Fact]
    public void ToMetrics_CarriesTheCountersAsContainerdsCgroupV2Metrics()
    {
        var stats = new ContainerStats { PidsCurrent = 3, PidsMax = ulong.MaxValue, CpuUsageUsec = 1200, CpuUserUsec = 700, CpuSystemUsec = 500, MemoryCurrent = 4096, MemoryMax = 1 << 20, MemoryAnon = 2048, MemoryEventsOomKill = 1 };

        var any = TaskService.ToMetrics(stats);

        // The exact name containerd's typeurl resolves (no type.googleapis.com/ prefix).
        Assert.Equal("io.containerd.cgroups.v2.Metrics", any.TypeUrl);
        var metrics = CgroupMetrics.Parser.ParseFrom(any.Value);
        Assert.Equal((3ul, ulong.MaxValue), (metrics.Pids.Current, metrics.Pids.Limit));
        Assert.Equal((1200ul, 700ul, 500ul), (metrics.Cpu.UsageUsec, metrics.Cpu.UserUsec, metrics.Cpu.SystemUsec));
        Assert.Equal((4096ul, 1ul << 20, 2048ul), (metrics.Memory.Usage, metrics.Memory.UsageLimit, metrics.Memory.Anon));
        Assert.Equal(1ul, metrics.MemoryEvents.OomKill);

        // containerd's field numbers: pids 1 (current 1), cpu 2 (usage_usec 1), memory 4 (usage 32).
        var bytes = any.Value.ToByteArray();
        Assert.Equal([0x0A, 0x0D, 0x08, 0x03], bytes[..4]);
    }

    [Fact]
    public async Task Shutdown_WithoutTasks_StopsTheServer()
    {
        await _client.CallAsync(TaskService.Service, "Shutdown", new ShutdownRequest { Id = "t" }, Empty.Parser, null, CancellationToken.None).WaitAsync(Timeout);

        Assert.True(_shutdown.IsCancellationRequested);
    }

    private async Task<TtrpcException> CallFailingAsync(string method, IMessage request)
        => await Assert.ThrowsAsync<TtrpcException>(() =>
            _client.CallAsync(TaskService.Service, method, request, Empty.Parser, null, CancellationToken.None).WaitAsync(Timeout));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _shutdown.CancelAsync();
        await _client.DisposeAsync();
        await _serving.WaitAsync(Timeout);
        await _events.DisposeAsync();
        _shutdown.Dispose();
        _root.Dispose();
    }
}
