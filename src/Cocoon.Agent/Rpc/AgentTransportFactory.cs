// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;
using Cocoon.Vsock;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Cocoon.Agent.Rpc;

/// <summary>A UNIX socket path the agent listens on in --listen-unix mode (its own type, so only this factory binds it).</summary>
internal sealed class AgentUnixEndPoint(string path) : EndPoint
{
    public string Path { get; } = path;

    public override AddressFamily AddressFamily => AddressFamily.Unix;

    public override string ToString() => $"unix:{Path}";
}

/// <summary>
/// Kestrel transport for the agent. Kestrel cannot listen on AF_VSOCK itself: its socket transport
/// needs a .NET <see cref="Socket"/> that can accept, and .NET refuses unknown address families. This
/// factory binds a <see cref="VsockEndPoint"/> with <see cref="VsockListener"/> (libc bind/listen/accept4)
/// and turns each accepted socket into a Kestrel connection with Kestrel's own
/// <see cref="SocketConnectionContextFactory"/>. A UNIX socket goes through the same accept loop, so
/// tests over UNIX sockets run every line the guest runs except socket(AF_VSOCK) and bind.
/// </summary>
internal sealed class AgentTransportFactory(ILoggerFactory loggerFactory) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is VsockEndPoint or AgentUnixEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var listener = endpoint switch
        {
            VsockEndPoint vsock => VsockListener.Bind(vsock),
            AgentUnixEndPoint unix => BindUnix(unix),
            _ => throw new CocoonException(CocoonErrorCode.Unsupported, $"The agent cannot listen on {endpoint}."),
        };
        var contexts = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions(), loggerFactory.CreateLogger<SocketConnectionContextFactory>());
        return ValueTask.FromResult<IConnectionListener>(new Listener(endpoint, listener, contexts));
    }

    private static VsockListener BindUnix(AgentUnixEndPoint endPoint)
    {
        File.Delete(endPoint.Path);
        return VsockListener.BindUnix(endPoint.Path);
    }

    private sealed class Listener(EndPoint endPoint, VsockListener listener, SocketConnectionContextFactory contexts) : IConnectionListener
    {
        public EndPoint EndPoint { get; } = endPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            var socket = await listener.AcceptAsync(cancellationToken);
            return socket is null ? null : contexts.Create(socket);
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            listener.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            listener.Dispose();
            contexts.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
