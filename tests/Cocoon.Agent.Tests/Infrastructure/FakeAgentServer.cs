// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Agent.Rpc;
using Cocoon.Tests.Common;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using AgentRpc = Cocoon.Protocol.Agent.V1.Agent;
using ProcessRpc = Cocoon.Protocol.Agent.V1.Process;

namespace Cocoon.Agent.Tests.Infrastructure;

/// <summary>
/// A gRPC server with scripted services, in this process, on a UNIX socket: the agent's own
/// dispatcher and framing on Kestrel's HTTP/2, with test doubles in place of the agent's services.
/// For testing the host client against answers a real agent does not give on demand.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class FakeAgentServer : IAsyncDisposable
{
    private readonly TempStateRoot _directory;
    private readonly KestrelServer _server;

    private FakeAgentServer(TempStateRoot directory, KestrelServer server)
    {
        _directory = directory;
        _server = server;
    }

    /// <summary>The socket the client connects to.</summary>
    public string SocketPath => Path.Combine(_directory.Path, "agent.sock");

    /// <summary>Serves <paramref name="agent"/> and <paramref name="process"/> (either may be null: its calls are then Unimplemented).</summary>
    public static async Task<FakeAgentServer> StartAsync(AgentRpc.AgentBase? agent = null, ProcessRpc.ProcessBase? process = null)
    {
        var dispatcher = new GrpcDispatcher(1024 * 1024, detailedErrors: false, NullLogger.Instance);
        if (agent is not null)
        {
            AgentRpc.BindService(dispatcher, agent);
        }

        if (process is not null)
        {
            ProcessRpc.BindService(dispatcher, process);
        }

        var directory = new TempStateRoot();
        var options = new KestrelServerOptions { AddServerHeader = false, ApplicationServices = NoServices.Instance };
        options.Listen(new UnixDomainSocketEndPoint(Path.Combine(directory.Path, "agent.sock")), listen => listen.Protocols = HttpProtocols.Http2);
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance);
        var server = new KestrelServer(Options.Create(options), transport, NullLoggerFactory.Instance);
        await server.StartAsync(dispatcher, CancellationToken.None);
        return new FakeAgentServer(directory, server);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(CancellationToken.None);
        _server.Dispose();
        _directory.Dispose();
    }

    private sealed class NoServices : IServiceProvider
    {
        public static readonly NoServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
