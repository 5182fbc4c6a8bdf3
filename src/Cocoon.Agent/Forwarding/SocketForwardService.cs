// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Containers;
using Cocoon.Protocol;
using Cocoon.Protocol.Agent.V1;
using Grpc.Core;

namespace Cocoon.Agent.Forwarding;

/// <summary>The SocketForwards gRPC service over <see cref="SocketForwards"/> (proto/cocoon/agent/v1/socket_forward.proto).</summary>
internal sealed class SocketForwardService(SocketForwards forwards, BoxContainers containers) : Protocol.Agent.V1.SocketForwards.SocketForwardsBase
{
    /// <summary>Binds a forward's listener; a container's is mounted into it at once when it runs.</summary>
    public override Task<BindSocketForwardResponse> Bind(BindSocketForwardRequest request, ServerCallContext context)
    {
        if (request.Container.Length == 0)
        {
            var path = forwards.Bind(request.ForwardId, request.LinkPath.Length == 0 ? null : request.LinkPath);
            return Task.FromResult(new BindSocketForwardResponse { ListenerPath = path });
        }

        UnixSocketPath.EnsureValid(request.Destination, $"The socket forward destination in container '{request.Container}'");
        if (request.LinkPath.Length > 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The socket forward into '{request.Destination}' of container '{request.Container}' is mounted there, so it cannot have a link path too.");
        }

        var listener = forwards.Bind(request.ForwardId, linkPath: null);
        try
        {
            containers.TryMountSocket(request.Container, listener, request.Destination);
        }
        catch
        {
            forwards.Unbind(request.ForwardId);
            throw;
        }

        return Task.FromResult(new BindSocketForwardResponse { ListenerPath = listener });
    }

    /// <inheritdoc/>
    public override Task<UnbindSocketForwardResponse> Unbind(UnbindSocketForwardRequest request, ServerCallContext context) =>
        Task.FromResult(new UnbindSocketForwardResponse { Removed = forwards.Unbind(request.ForwardId) });

    /// <inheritdoc/>
    public override async Task WatchAccepts(WatchAcceptsRequest request, IServerStreamWriter<AcceptedConnection> responseStream, ServerCallContext context)
    {
        using var watcher = forwards.Watch();
        try
        {
            // The first message, all fields empty, says the watch is in place.
            await responseStream.WriteAsync(new AcceptedConnection(), context.CancellationToken);
            await foreach (var accepted in watcher.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(new AcceptedConnection { ForwardId = accepted.ForwardId, Token = accepted.Token }, context.CancellationToken);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The host ended the watch.
        }
    }
}
