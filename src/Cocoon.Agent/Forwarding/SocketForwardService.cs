// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol.Agent.V1;
using Grpc.Core;

namespace Cocoon.Agent.Forwarding;

/// <summary>The SocketForwards gRPC service over <see cref="SocketForwards"/> (proto/cocoon/agent/v1/socket_forward.proto).</summary>
internal sealed class SocketForwardService(SocketForwards forwards) : Protocol.Agent.V1.SocketForwards.SocketForwardsBase
{
    /// <inheritdoc/>
    public override Task<BindSocketForwardResponse> Bind(BindSocketForwardRequest request, ServerCallContext context)
    {
        var path = forwards.Bind(request.ForwardId, request.LinkPath.Length == 0 ? null : request.LinkPath);
        return Task.FromResult(new BindSocketForwardResponse { ListenerPath = path });
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
