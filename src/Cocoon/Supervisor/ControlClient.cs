// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Cocoon.Supervisor;

/// <summary>Calls one method on a box supervisor's control.sock (docs/control-api.md).</summary>
internal static class ControlClient
{
    /// <summary>
    /// Sends one request and returns its result. A socket nobody serves is <see cref="CocoonErrorCode.Unavailable"/>;
    /// an error answer is a <see cref="CocoonException"/> carrying the server's message.
    /// </summary>
    /// <param name="socketPath">The box's control.sock.</param>
    /// <param name="method">The method.</param>
    /// <param name="writeParams">Writes the params object's members; null sends none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The <c>result</c> member (a clone that outlives the answer).</returns>
    public static async Task<JsonElement> CallAsync(string socketPath, string method, Action<Utf8JsonWriter>? writeParams, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new CocoonException(CocoonErrorCode.Unavailable, $"the box supervisor does not answer on '{socketPath}': {e.Message}", e);
        }

        var request = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(request))
        {
            writer.WriteStartObject();
            writer.WriteString("jsonrpc", "2.0");
            writer.WriteNumber("id", 1);
            writer.WriteString("method", method);
            if (writeParams is not null)
            {
                writer.WriteStartObject("params");
                writeParams(writer);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        request.Write("\n"u8);
        using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(request.WrittenMemory, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new CocoonException(CocoonErrorCode.Unavailable, $"the box supervisor closed '{socketPath}' without answering {method}");
        using var answer = JsonDocument.Parse(line);
        if (answer.RootElement.TryGetProperty("error", out var error))
        {
            var message = error.TryGetProperty("message", out var text) ? text.GetString() : null;
            var code = error.TryGetProperty("code", out var number) && number.TryGetInt32(out var value) ? value : 0;
            throw new CocoonException(
                code switch
                {
                    ControlErrorCodes.BoxNotRunning => CocoonErrorCode.InvalidState,
                    ControlErrorCodes.InvalidParams => CocoonErrorCode.InvalidArgument,
                    _ => CocoonErrorCode.Internal,
                },
                $"{method} failed: {message} (control error {code})");
        }

        return answer.RootElement.TryGetProperty("result", out var result)
            ? result.Clone()
            : throw new CocoonException(CocoonErrorCode.Internal, $"the answer to {method} has neither result nor error");
    }
}
