// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text.Json;
using Cocoon.Forwarding;
using Cocoon.Vsock.Streams;

namespace Cocoon.Supervisor;

/// <summary>
/// <c>pod.portDial {network, port, address?, container?}</c> (docs/control-api.md): dials a port in the
/// box through the same <see cref="StreamDialer"/> and <see cref="StreamRelay"/> as <c>-p</c> and
/// <c>port-forward</c>, answers one result line, then relays the dialed stream's raw bytes over the
/// control connection until both sides close.
/// <code>
///  1. parse      params → DialRequest; a bad field is -32602 naming it, before anything is opened
///  2. dial       vsock port 1025, header, status; refused and other failures are server errors
///  3. answer     {"network", "port", "address"} on one line
///  4. relay      bytes the client sent after the request line first, then StreamRelay both ways
/// </code>
/// </summary>
internal static class PortDialMethod
{
    /// <summary>The method name.</summary>
    public const string Name = "pod.portDial";

    /// <summary>The handler for a box whose streams <paramref name="dialer"/> opens; <paramref name="stopping"/> says when the box is going away.</summary>
    public static ControlHandler Create(StreamDialer dialer, Func<bool> stopping) => async (request, cancellationToken) =>
    {
        // :: Step 1
        var dial = Parse(request.Params);
        if (stopping())
        {
            throw new ControlException(ControlErrorCodes.BoxNotRunning, $"{Name}: box '{dialer.BoxName}' is stopping", status: StreamStatus.Word(StreamStatusCode.BoxNotRunning));
        }

        // :: Step 2
        Socket dialed;
        try
        {
            dialed = await dialer.DialAsync(dial, cancellationToken).ConfigureAwait(false);
        }
        catch (StreamException e)
        {
            throw ToControlException(e);
        }

        // :: Steps 3 and 4
        return new ControlReply(
            writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("network", dial.Network.Name());
                writer.WriteNumber("port", dial.Port);
                writer.WriteString("address", dial.Address ?? "127.0.0.1");
                if (dial.Container is not null)
                {
                    writer.WriteString("container", dial.Container);
                }

                writer.WriteEndObject();
            },
            (client, early) => RelayAsync(client, early, dialed, cancellationToken));
    };

    /// <summary>Reads and checks the params; every failure is -32602 naming the field.</summary>
    public static DialRequest Parse(JsonElement parameters)
    {
        if (parameters.ValueKind != JsonValueKind.Object)
        {
            throw ControlException.InvalidParams("params", $"{Name}: params must be an object with 'network' and 'port'");
        }

        var network = parameters.TryGetProperty("network", out var n) && n.ValueKind == JsonValueKind.String
            && StreamHeader.TryParseNetwork(n.GetString(), out var parsed)
            ? parsed
            : throw ControlException.InvalidParams("network", $"{Name}: 'network' must be \"tcp\" or \"udp\"");
        var port = parameters.TryGetProperty("port", out var p) && p.ValueKind == JsonValueKind.Number
            && p.TryGetInt32(out var number) && number is >= 1 and <= 65535
            ? number
            : throw ControlException.InvalidParams("port", $"{Name}: 'port' must be an integer from 1 to 65535");
        var address = OptionalString(parameters, "address");
        var container = OptionalString(parameters, "container");
        var dial = new DialRequest(network, port, address, container);
        try
        {
            StreamHeader.Validate(dial);
        }
        catch (StreamException e)
        {
            var field = e.Status switch
            {
                StreamStatusCode.BadAddress => "address",
                StreamStatusCode.UnknownContainer => "container",
                StreamStatusCode.BadPort => "port",
                StreamStatusCode.BadNetwork => "network",
                _ => "params",
            };
            throw ControlException.InvalidParams(field, $"{Name}: {e.Message}");
        }

        return dial;
    }

    /// <summary>A failed dial as a control error: refused, box not running, or any other dial failure, with the agent's status word.</summary>
    public static ControlException ToControlException(StreamException e)
    {
        var code = e.Status switch
        {
            StreamStatusCode.Refused => ControlErrorCodes.DialRefused,
            StreamStatusCode.BoxNotRunning => ControlErrorCodes.BoxNotRunning,
            StreamStatusCode.BadAddress => ControlErrorCodes.InvalidParams,
            StreamStatusCode.UnknownContainer => ControlErrorCodes.InvalidParams,
            _ => ControlErrorCodes.DialFailed,
        };
        var field = e.Status switch
        {
            StreamStatusCode.BadAddress => "address",
            StreamStatusCode.UnknownContainer => "container",
            _ => null,
        };
        return new ControlException(code, $"{Name}: {e.Message}", field, StreamStatus.Word(e.Status));
    }

    private static string? OptionalString(JsonElement parameters, string name)
    {
        if (!parameters.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw ControlException.InvalidParams(name, $"{Name}: '{name}' must be a string");
    }

    private static async Task RelayAsync(Socket client, ReadOnlyMemory<byte> early, Socket dialed, CancellationToken cancellationToken)
    {
        using (client)
        using (dialed)
        {
            try
            {
                for (var sent = 0; sent < early.Length;)
                {
                    sent += await dialed.SendAsync(early[sent..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
                }

                await StreamRelay.RunAsync(client, dialed, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Either side went away, or the supervisor is stopping: both are closed below.
            }
        }
    }
}
