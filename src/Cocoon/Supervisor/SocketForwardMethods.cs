// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Cocoon.Supervisor;

/// <summary>
/// <c>pod.socketForward.add|remove|list</c> (docs/control-api.md): the box's socket forwards, kept by
/// the supervisor in <see cref="BoxSocketForwards"/> until removed or the box stops.
/// </summary>
internal static class SocketForwardMethods
{
    public const string Add = "pod.socketForward.add";
    public const string Remove = "pod.socketForward.remove";
    public const string List = "pod.socketForward.list";

    /// <summary>Registers the three methods.</summary>
    public static ControlDispatcher Register(ControlDispatcher dispatcher, BoxSocketForwards forwards, Func<bool> stopping) => dispatcher
        .Register(Add, async (request, cancellationToken) =>
        {
            var parameters = Object(request);
            var direction = RequiredString(parameters, "direction", Add) switch
            {
                "out" => SocketForwardDirection.Out,
                "in" => SocketForwardDirection.In,
                _ => throw ControlException.InvalidParams("direction", $"{Add}: 'direction' must be \"out\" (a box socket served on the host) or \"in\" (a host socket seen in the box)"),
            };
            var hostPath = RequiredString(parameters, "hostPath", Add);
            var path = RequiredString(parameters, "path", Add);
            var container = parameters.TryGetProperty("container", out var c) && c.ValueKind != JsonValueKind.Null
                ? (c.ValueKind == JsonValueKind.String ? c.GetString() : throw ControlException.InvalidParams("container", $"{Add}: 'container' must be a string"))
                : null;
            CheckPath(hostPath, "hostPath");
            CheckPath(path, "path");
            ThrowIfStopping(stopping, Add);
            SocketForwardInfo entry;
            try
            {
                entry = await forwards.AddAsync(direction, hostPath, path, container, cancellationToken).ConfigureAwait(false);
            }
            catch (CocoonException e) when (e.Code is CocoonErrorCode.InvalidArgument or CocoonErrorCode.AlreadyExists or CocoonErrorCode.Unsupported)
            {
                var field = container is not null && e.Code == CocoonErrorCode.Unsupported ? "container" : direction == SocketForwardDirection.Out ? "hostPath" : "path";
                throw ControlException.InvalidParams(field, $"{Add}: {e.Message}");
            }
            catch (CocoonException e) when (e.Code is CocoonErrorCode.Unavailable or CocoonErrorCode.InvalidState)
            {
                throw new ControlException(ControlErrorCodes.BoxNotRunning, $"{Add}: {e.Message}");
            }

            return new ControlReply(writer => Write(writer, entry));
        })
        .Register(Remove, async (request, cancellationToken) =>
        {
            var id = RequiredString(Object(request), "id", Remove);
            var removed = await forwards.RemoveAsync(id, cancellationToken).ConfigureAwait(false);
            if (!removed)
            {
                throw ControlException.InvalidParams("id", $"{Remove}: no socket forward has id '{id}'; {List} names them");
            }

            return new ControlReply(writer =>
            {
                writer.WriteStartObject();
                writer.WriteBoolean("removed", true);
                writer.WriteEndObject();
            });
        })
        .Register(List, (_, _) => Task.FromResult(new ControlReply(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("forwards");
            foreach (var entry in forwards.List().OrderBy(e => e.HostPath, StringComparer.Ordinal))
            {
                Write(writer, entry);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        })));

    /// <summary>Reads one forward as the SDK sees it.</summary>
    public static SocketForwardInfo Read(JsonElement element) => new(
        element.GetProperty("id").GetString()!,
        element.GetProperty("direction").GetString() == "in" ? SocketForwardDirection.In : SocketForwardDirection.Out,
        element.GetProperty("hostPath").GetString()!,
        element.GetProperty("path").GetString()!,
        element.TryGetProperty("container", out var container) ? container.GetString() : null);

    private static void Write(Utf8JsonWriter writer, SocketForwardInfo entry)
    {
        writer.WriteStartObject();
        writer.WriteString("id", entry.Id);
        writer.WriteString("direction", entry.Direction == SocketForwardDirection.In ? "in" : "out");
        writer.WriteString("hostPath", entry.HostPath);
        writer.WriteString("path", entry.BoxPath);
        if (entry.Container is not null)
        {
            writer.WriteString("container", entry.Container);
        }

        writer.WriteEndObject();
    }

    private static void CheckPath(string path, string field)
    {
        if (Protocol.UnixSocketPath.Problem(path) is { } problem)
        {
            throw ControlException.InvalidParams(field, $"{Add}: '{field}' {problem}");
        }
    }

    private static void ThrowIfStopping(Func<bool> stopping, string method)
    {
        if (stopping())
        {
            throw new ControlException(ControlErrorCodes.BoxNotRunning, $"{method}: the box is stopping");
        }
    }

    private static JsonElement Object(ControlRequest request) =>
        request.Params.ValueKind == JsonValueKind.Object
            ? request.Params
            : throw ControlException.InvalidParams("params", $"{request.Method}: params must be an object");

    private static string RequiredString(JsonElement parameters, string name, string method) =>
        parameters.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw ControlException.InvalidParams(name, $"{method}: '{name}' must be a non-empty string");
}
