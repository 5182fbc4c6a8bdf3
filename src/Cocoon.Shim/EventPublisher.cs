// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Threading.Channels;
using Cocoon.Shim.Protocol;
using Cocoon.Shim.Ttrpc;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace Cocoon.Shim;

/// <summary>
/// Publishes task events to containerd (Forward on <c>TTRPC_ADDRESS</c>), in order, from one queue:
/// a handler never waits on containerd, and a lost event is logged, never fatal.
/// </summary>
internal sealed class EventPublisher : IAsyncDisposable
{
    /// <summary>The ttrpc service containerd receives shim events on.</summary>
    public const string Service = "containerd.services.events.ttrpc.v1.Events";

    private readonly string? _address;
    private readonly string _namespace;
    private readonly ILogger _logger;
    private readonly Channel<EventEnvelope> _queue = Channel.CreateUnbounded<EventEnvelope>(new() { SingleReader = true });
    private readonly Task _sender;

    /// <summary>A publisher to <paramref name="address"/> (null: events are dropped, as with no containerd).</summary>
    public EventPublisher(string? address, string ns, ILogger logger)
    {
        _address = string.IsNullOrEmpty(address) ? null : address;
        _namespace = ns;
        _logger = logger;
        _sender = SendAllAsync();
    }

    /// <summary>Queues <paramref name="message"/> under <paramref name="topic"/> (e.g. <c>/tasks/exit</c>).</summary>
    public void Publish(string topic, IMessage message)
    {
        _queue.Writer.TryWrite(new EventEnvelope
        {
            Timestamp = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            Namespace = _namespace,
            Topic = topic,
            Event = new Any { TypeUrl = "containerd.events." + message.Descriptor.Name, Value = message.ToByteString() },
        });
    }

    private async Task SendAllAsync()
    {
        TtrpcClient? client = null;
        var metadata = new Dictionary<string, string> { [TtrpcCallContext.NamespaceKey] = _namespace };
        await foreach (var envelope in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (_address is null)
            {
                continue;
            }

            try
            {
                client ??= await TtrpcClient.ConnectAsync(_address, CancellationToken.None).ConfigureAwait(false);
                await client.CallAsync(Service, "Forward", new ForwardRequest { Envelope = envelope }, Empty.Parser, metadata, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TtrpcException or IOException or System.Net.Sockets.SocketException)
            {
                ShimLog.EventLost(_logger, envelope.Topic, e.Message);
                if (client is not null)
                {
                    await client.DisposeAsync().ConfigureAwait(false);
                    client = null;
                }
            }
        }

        if (client is not null)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Sends what is queued, then closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _sender.ConfigureAwait(false);
    }
}
