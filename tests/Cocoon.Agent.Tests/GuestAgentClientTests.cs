// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Tests.Infrastructure;
using Cocoon.Protocol.Agent.V1;
using Google.Protobuf;
using Grpc.Core;
using AgentRpc = Cocoon.Protocol.Agent.V1.Agent;
using ProcessRpc = Cocoon.Protocol.Agent.V1.Process;

namespace Cocoon.Agent.Tests;

/// <summary>
/// The host's gRPC client (<see cref="GuestAgentClient.ConnectUnix"/>) against <see cref="FakeAgentServer"/>:
/// status mapping, streams that end badly, input after exit and the receive limit.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class GuestAgentClientTests
{
    // The client's MaxReceiveMessageSize.
    private const int ReceiveLimit = 1024 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<StatusCode, CocoonErrorCode> StatusMapping => new()
    {
        { StatusCode.InvalidArgument, CocoonErrorCode.InvalidArgument },
        { StatusCode.OutOfRange, CocoonErrorCode.InvalidArgument },
        { StatusCode.NotFound, CocoonErrorCode.NotFound },
        { StatusCode.AlreadyExists, CocoonErrorCode.AlreadyExists },
        { StatusCode.FailedPrecondition, CocoonErrorCode.InvalidState },
        { StatusCode.DeadlineExceeded, CocoonErrorCode.Timeout },
        { StatusCode.Unimplemented, CocoonErrorCode.Unsupported },
        { StatusCode.ResourceExhausted, CocoonErrorCode.ResourceExhausted },
        { StatusCode.Unavailable, CocoonErrorCode.Unavailable },
        { StatusCode.PermissionDenied, CocoonErrorCode.Internal },
        { StatusCode.Unknown, CocoonErrorCode.Internal },
        { StatusCode.Internal, CocoonErrorCode.Internal },
    };

    public static TheoryData<CocoonErrorCode> ErrorCodes => [.. Enum.GetValues<CocoonErrorCode>()];

    [Theory]
    [MemberData(nameof(StatusMapping))]
    public async Task GetInfo_ServerFailsWithStatus_MappedToCocoonCode(StatusCode status, CocoonErrorCode expected)
    {
        await using var server = await FakeAgentServer.StartAsync(agent: new FailingAgent(new RpcException(new Status(status, "scripted failure"))));
        await using var client = GuestAgentClient.ConnectUnix(server.SocketPath);

        var ex = await Assert.ThrowsAsync<CocoonException>(() => client.GetInfoAsync().WaitAsync(Timeout));

        Assert.Equal(expected, ex.Code);
        Assert.Contains("scripted failure", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetInfo_CallCancelled_OperationCanceledNotUnavailable()
    {
        await using var server = await FakeAgentServer.StartAsync(agent: new FailingAgent(new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client."))));
        await using var client = GuestAgentClient.ConnectUnix(server.SocketPath);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetInfoAsync().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(ErrorCodes))]
    public async Task GetInfo_ServiceThrowsCocoonException_SameCodeOnTheHost(CocoonErrorCode code)
    {
        // The agent's mapping (GrpcDispatcher.ToStatusCode) and the host's, end to end.
        await using var server = await FakeAgentServer.StartAsync(agent: new FailingAgent(new CocoonException(code, "from the service")));
        await using var client = GuestAgentClient.ConnectUnix(server.SocketPath);

        var ex = await Assert.ThrowsAsync<CocoonException>(() => client.GetInfoAsync().WaitAsync(Timeout));

        Assert.Equal(code, ex.Code);
        Assert.Contains("from the service", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_StreamEndsWithoutExitStatus_ExitAndOutputFailUnavailable()
    {
        await using var server = await FakeAgentServer.StartAsync(process: new ScriptedProcess(async (requests, responses) =>
        {
            await responses.WriteAsync(Output("partial"));
        }));
        await using var client = GuestAgentClient.ConnectUnix(server.SocketPath);
        await using var session = await client.ExecAsync(new ExecRequest(["cmd"])).WaitAsync(Timeout);

        var ex = await Assert.ThrowsAsync<CocoonException>(() => session.Exit.WaitAsync(Timeout));
        var output = await Assert.ThrowsAsync<CocoonException>(() => session.Stdout.CopyToAsync(Stream.Null).WaitAsync(Timeout));

        // A cut-off stream must not look like a process that finished: no exit, no clean end of output.
        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
        Assert.Contains("without an exit status", ex.Message, StringComparison.Ordinal);
        Assert.Same(ex, output);
    }

    [Fact]
    public async Task Exec_AgentKilledWhileTheCommandRuns_BoxStoppedWithoutTransportText()
    {
        using var directory = new Cocoon.Tests.Common.TempStateRoot();
        var socketPath = Path.Combine(directory.Path, "agent.sock");
        using var agent = AgentProcessFixture.StartAgent(socketPath);
        try
        {
            await using var client = GuestAgentClient.ConnectUnix(socketPath);
            await client.WaitForReadyAsync(Timeout).WaitAsync(Timeout);
            await using var session = await client.ExecAsync(new ExecRequest(["sleep", "60"])).WaitAsync(Timeout);

            agent.Kill(entireProcessTree: true);
            var ex = await Assert.ThrowsAsync<CocoonException>(() => session.Exit.WaitAsync(Timeout));

            Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
            Assert.Equal("the box stopped while the command ran", ex.Message);
        }
        finally
        {
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync().WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task WriteStdin_AfterExit_InvalidStateNamingThePid()
    {
        await using var server = await FakeAgentServer.StartAsync(process: new ScriptedProcess(async (requests, responses) =>
        {
            await responses.WriteAsync(new ExecServerMessage { Exit = new Protocol.Agent.V1.ExecExit { Code = 0 } });
        }));
        await using var client = GuestAgentClient.ConnectUnix(server.SocketPath);
        await using var session = await client.ExecAsync(new ExecRequest(["cmd"]) { Stdin = true }).WaitAsync(Timeout);
        var exit = await session.Exit.WaitAsync(Timeout);

        var ex = await Assert.ThrowsAsync<CocoonException>(() => session.WriteStdinAsync("late"u8.ToArray()).WaitAsync(Timeout));
        var close = await Assert.ThrowsAsync<CocoonException>(() => session.CloseStdinAsync().WaitAsync(Timeout));

        Assert.Equal(new Cocoon.ExecExit(0, null), exit);
        Assert.Equal(CocoonErrorCode.InvalidState, ex.Code);
        Assert.Contains($"Process {ScriptedProcess.Pid} has exited", ex.Message, StringComparison.Ordinal);
        Assert.Equal(CocoonErrorCode.InvalidState, close.Code);
    }

    [Theory]
    [InlineData(ReceiveLimit - 16, true)]
    [InlineData(ReceiveLimit + 1, false)]
    public async Task Exec_ServerMessageSize_AcceptedUpToTheReceiveLimit(int size, bool accepted)
    {
        await using var server = await FakeAgentServer.StartAsync(process: new ScriptedProcess(async (requests, responses) =>
        {
            await responses.WriteAsync(Output(new string('a', size)));
            await responses.WriteAsync(new ExecServerMessage { Exit = new Protocol.Agent.V1.ExecExit { Code = 0 } });
        }));
        await using var client = GuestAgentClient.ConnectUnix(server.SocketPath);
        await using var session = await client.ExecAsync(new ExecRequest(["cmd"])).WaitAsync(Timeout);
        using var stdout = new MemoryStream();
        var reading = session.Stdout.CopyToAsync(stdout);

        if (accepted)
        {
            var exit = await session.Exit.WaitAsync(Timeout);
            await reading.WaitAsync(Timeout);

            Assert.Equal(new Cocoon.ExecExit(0, null), exit);
            Assert.Equal(size, stdout.Length);
        }
        else
        {
            var ex = await Assert.ThrowsAsync<CocoonException>(() => session.Exit.WaitAsync(Timeout));
            await Assert.ThrowsAsync<CocoonException>(() => reading.WaitAsync(Timeout));

            Assert.Equal(CocoonErrorCode.ResourceExhausted, ex.Code);
        }
    }

    private static ExecServerMessage Output(string text) => new() { Stdout = ByteString.CopyFromUtf8(text) };

    /// <summary>An Agent service whose GetInfo throws the given exception.</summary>
    private sealed class FailingAgent(Exception failure) : AgentRpc.AgentBase
    {
        public override Task<GetInfoResponse> GetInfo(GetInfoRequest request, ServerCallContext context) => Task.FromException<GetInfoResponse>(failure);
    }

    /// <summary>A Process service that confirms the start with <see cref="Pid"/>, then runs a script and ends the stream.</summary>
    private sealed class ScriptedProcess(Func<IAsyncStreamReader<ExecClientMessage>, IServerStreamWriter<ExecServerMessage>, Task> script) : ProcessRpc.ProcessBase
    {
        public const int Pid = 4242;

        public override async Task Exec(IAsyncStreamReader<ExecClientMessage> requestStream, IServerStreamWriter<ExecServerMessage> responseStream, ServerCallContext context)
        {
            if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.KindCase != ExecClientMessage.KindOneofCase.Start)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "the first message must be start"));
            }

            await responseStream.WriteAsync(new ExecServerMessage { Started = new ExecStarted { Pid = Pid } });
            await script(requestStream, responseStream);
        }
    }
}
