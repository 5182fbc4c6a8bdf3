// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Cocoon.Supervisor;

/// <summary>
/// The supervisor's control API on <c>boxes/&lt;name&gt;/control.sock</c>: JSON-RPC 2.0, one JSON object
/// per line each way (docs/control-api.md). Methods come from a <see cref="ControlDispatcher"/>.
/// <code>
///  1. accept                  any number of clients, each served on its own task
///  2. read one line           at most MaxLineBytes; longer: an error line, then the connection is closed
///  3. parse and check         not JSON: -32700; not a request object: -32600 (the client may go on)
///  4. dispatch                unknown method: -32601; the handler's ControlException: its code
///  5. answer                  one line with the request's id (none for a notification)
///  6. hand over (optional)    a ControlReply.TakeOver gets the socket and stops the line loop
/// </code>
/// A client that disconnects, even mid-line, only ends its own connection.
/// </summary>
internal sealed class ControlServer : IAsyncDisposable
{
    /// <summary>The longest request line accepted, newline excluded: 1 MiB.</summary>
    public const int MaxLineBytes = 1024 * 1024;

    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly string _path;
    private readonly ControlDispatcher _dispatcher;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Socket, Task> _connections = new();
    private readonly Task _accepting;

    private ControlServer(Socket listener, string path, ControlDispatcher dispatcher, ILogger logger)
    {
        _listener = listener;
        _path = path;
        _dispatcher = dispatcher;
        _logger = logger;
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Binds <paramref name="path"/> (replacing a stale socket), owner-only (0600), and starts serving.</summary>
    /// <param name="path">The socket path; its directory should be 0700 (a box directory is).</param>
    /// <param name="dispatcher">The methods.</param>
    /// <param name="logger">Where failures of handlers are logged.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    public static ControlServer Start(string path, ControlDispatcher dispatcher, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(dispatcher);
        ArgumentNullException.ThrowIfNull(logger);
        if (OperatingSystem.IsWindows())
        {
            throw new CocoonException(CocoonErrorCode.Unsupported, "Cocoon runs on Linux only");
        }

        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            socket.Listen(16);
            return new ControlServer(socket, path, dispatcher, logger);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Stops accepting, lets answers in flight finish (up to 5 s), closes every connection and removes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_connections.Values).WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (var socket in _connections.Keys)
            {
                socket.Dispose();
            }
        }

        File.Delete(_path);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && _stopping.IsCancellationRequested)
            {
                return;
            }

            var served = new TaskCompletionSource();
            _connections[client] = served.Task;
            _ = ServeAndForgetAsync(client, served);
        }
    }

    private async Task ServeAndForgetAsync(Socket socket, TaskCompletionSource served)
    {
        try
        {
            await ServeAsync(socket).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(socket, out _);
            served.SetResult();
        }
    }

    // :: Steps 2 to 6 for one connection.
    private async Task ServeAsync(Socket socket)
    {
        var owned = true;
        var buffer = new byte[4096];
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
                if (newline < 0)
                {
                    if (end - start > MaxLineBytes)
                    {
                        await SendAsync(socket, Error(default, ControlErrorCodes.InvalidRequest, $"request line longer than {MaxLineBytes} bytes; the connection is closed")).ConfigureAwait(false);
                        return;
                    }

                    (buffer, start, end) = MakeRoom(buffer, start, end);
                    var read = await socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return; // The client left; a partial line is dropped.
                    }

                    end += read;
                    continue;
                }

                var line = buffer.AsMemory(start, newline - start);
                start = newline + 1;
                if (line.Length > MaxLineBytes)
                {
                    await SendAsync(socket, Error(default, ControlErrorCodes.InvalidRequest, $"request line longer than {MaxLineBytes} bytes; the connection is closed")).ConfigureAwait(false);
                    return;
                }

                if (line.Span.Trim(" \t\r"u8).IsEmpty)
                {
                    continue;
                }

                var (answer, takeOver) = await HandleAsync(line).ConfigureAwait(false);
                if (answer is not null)
                {
                    await SendAsync(socket, answer).ConfigureAwait(false);
                }

                if (takeOver is not null)
                {
                    owned = false;
                    await takeOver(socket, buffer.AsMemory(start, end - start).ToArray()).ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or the server is stopping: only this connection ends.
        }
        finally
        {
            if (owned)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Compacts the unread bytes to the front and grows the buffer when full, up to one line over the limit.</summary>
    private static (byte[] Buffer, int Start, int End) MakeRoom(byte[] buffer, int start, int end)
    {
        var pending = end - start;
        if (start > 0)
        {
            Buffer.BlockCopy(buffer, start, buffer, 0, pending);
        }

        if (pending == buffer.Length)
        {
            var grown = new byte[Math.Min(buffer.Length * 2, MaxLineBytes + 2)];
            Buffer.BlockCopy(buffer, 0, grown, 0, pending);
            buffer = grown;
        }

        return (buffer, 0, pending);
    }

    // :: Steps 3 to 5 for one line: the answer (null for a notification) and an optional takeover.
    private async Task<(byte[]? Answer, Func<Socket, ReadOnlyMemory<byte>, Task>? TakeOver)> HandleAsync(ReadOnlyMemory<byte> line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            return (Error(default, ControlErrorCodes.ParseError, $"the line is not JSON: {e.Message}"), null);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (Error(default, ControlErrorCodes.InvalidRequest, "a request is one JSON object (batches are not supported)"), null);
            }

            var hasId = root.TryGetProperty("id", out var id);
            if (hasId && id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
            {
                return (Error(default, ControlErrorCodes.InvalidRequest, "'id' must be a string, a number or null"), null);
            }

            if (!root.TryGetProperty("jsonrpc", out var version) || !version.ValueEquals("2.0"))
            {
                return (Error(id, ControlErrorCodes.InvalidRequest, "'jsonrpc' must be \"2.0\""), null);
            }

            if (!root.TryGetProperty("method", out var methodElement) || methodElement.ValueKind != JsonValueKind.String)
            {
                return (Error(id, ControlErrorCodes.InvalidRequest, "'method' must be a string"), null);
            }

            if (root.TryGetProperty("params", out var parameters) && parameters.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            {
                return (Error(id, ControlErrorCodes.InvalidRequest, "'params' must be an object or an array"), null);
            }

            var method = methodElement.GetString()!;
            try
            {
                var reply = await _dispatcher.Find(method)(new ControlRequest(method, parameters), _stopping.Token).ConfigureAwait(false);
                return hasId ? (Result(id, reply.WriteResult), reply.TakeOver) : (null, reply.TakeOver);
            }
            catch (ControlException e)
            {
                return (hasId ? Error(id, e.Code, e.Message, e.Field, e.Status) : null, null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
            {
                SupervisorLog.ControlMethodFailed(_logger, method, e);
                return (hasId ? Error(id, ControlErrorCodes.InternalError, $"{method} failed: {e.Message}") : null, null);
            }
        }
    }

    private static byte[] Result(JsonElement id, Action<Utf8JsonWriter> writeResult) => Line(writer =>
    {
        WriteId(writer, id);
        writer.WritePropertyName("result");
        writeResult(writer);
    });

    private static byte[] Error(JsonElement id, int code, string message, string? field = null, string? status = null) => Line(writer =>
    {
        WriteId(writer, id);
        writer.WriteStartObject("error");
        writer.WriteNumber("code", code);
        writer.WriteString("message", message);
        if (field is not null || status is not null)
        {
            writer.WriteStartObject("data");
            if (field is not null)
            {
                writer.WriteString("field", field);
            }

            if (status is not null)
            {
                writer.WriteString("status", status);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    });

    private static void WriteId(Utf8JsonWriter writer, JsonElement id)
    {
        writer.WritePropertyName("id");
        if (id.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            id.WriteTo(writer);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    private static byte[] Line(Action<Utf8JsonWriter> writeMembers)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writeMembers(writer);
            writer.WriteEndObject();
        }

        output.Write("\n"u8);
        return output.WrittenSpan.ToArray();
    }

    private static async Task SendAsync(Socket socket, byte[] line)
    {
        // Not cancelled by the server stopping: an answer in flight is finished (DisposeAsync bounds the wait).
        var sent = 0;
        while (sent < line.Length)
        {
            sent += await socket.SendAsync(line.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
        }
    }
}
