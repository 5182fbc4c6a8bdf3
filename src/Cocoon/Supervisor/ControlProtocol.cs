// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text.Json;

namespace Cocoon.Supervisor;

/// <summary>The error codes of control.sock (docs/control-api.md): JSON-RPC's own, then the server's.</summary>
internal static class ControlErrorCodes
{
    /// <summary>The line is not JSON.</summary>
    public const int ParseError = -32700;

    /// <summary>The JSON is not a request object (or the line is over <see cref="ControlServer.MaxLineBytes"/>).</summary>
    public const int InvalidRequest = -32600;

    /// <summary>No such method.</summary>
    public const int MethodNotFound = -32601;

    /// <summary>A parameter is missing or wrong; <c>data.field</c> names it.</summary>
    public const int InvalidParams = -32602;

    /// <summary>The handler failed unexpectedly.</summary>
    public const int InternalError = -32603;

    /// <summary>The box is not running (it is stopping or stopped).</summary>
    public const int BoxNotRunning = -32000;

    /// <summary><c>pod.portDial</c>: nothing listens on that port in the box (the guest refused the connection).</summary>
    public const int DialRefused = -32001;

    /// <summary><c>pod.portDial</c>: the dial failed otherwise; <c>data.status</c> says how (unreachable, timeout, ...).</summary>
    public const int DialFailed = -32002;
}

/// <summary>A JSON-RPC error a handler reports; the server answers it as the request's error.</summary>
internal sealed class ControlException : Exception
{
    /// <summary>Creates the error.</summary>
    public ControlException(int code, string message, string? field = null, string? status = null)
        : base(message)
    {
        Code = code;
        Field = field;
        Status = status;
    }

    /// <summary>The JSON-RPC error code (<see cref="ControlErrorCodes"/>).</summary>
    public int Code { get; }

    /// <summary>The parameter at fault, for <see cref="ControlErrorCodes.InvalidParams"/>.</summary>
    public string? Field { get; }

    /// <summary>For a failed dial, the data-stream status word (<c>refused</c>, <c>unreachable</c>, ...), sent as <c>data.status</c>.</summary>
    public string? Status { get; }

    /// <summary>An invalid-params error naming <paramref name="field"/>.</summary>
    public static ControlException InvalidParams(string field, string message) => new(ControlErrorCodes.InvalidParams, message, field);
}

/// <summary>One request as a handler sees it.</summary>
/// <param name="Method">The method name.</param>
/// <param name="Params">The <c>params</c> member; <see cref="JsonValueKind.Undefined"/> when absent.</param>
internal sealed record ControlRequest(string Method, JsonElement Params)
{
    /// <summary>
    /// An optional number parameter (<c>params.NAME</c>) between <paramref name="min"/> and
    /// <paramref name="max"/>; <paramref name="fallback"/> when absent. Anything else is an invalid-params error naming it.
    /// </summary>
    public double GetNumber(string name, double fallback, double min, double max)
    {
        if (Params.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return fallback;
        }

        if (Params.ValueKind != JsonValueKind.Object)
        {
            throw ControlException.InvalidParams("params", $"{Method}: params must be an object");
        }

        if (!Params.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.Number && value.GetDouble() is var number && number >= min && number <= max
            ? number
            : throw ControlException.InvalidParams(name, $"{Method}: '{name}' must be a number from {min} to {max}");
    }
}

/// <summary>
/// What a handler answers: a result, written as the <c>result</c> member, and optionally a takeover
/// that receives the connection after the result line (for methods such as <c>pod.portDial</c> that
/// turn the connection into a byte stream).
/// </summary>
/// <param name="WriteResult">Writes the result value.</param>
/// <param name="TakeOver">
/// Called with the connection (now the handler's to close) and any bytes the client sent after the
/// request line; the server reads no more lines from it. Null keeps the connection a line channel.
/// </param>
internal sealed record ControlReply(Action<Utf8JsonWriter> WriteResult, Func<Socket, ReadOnlyMemory<byte>, Task>? TakeOver = null);

/// <summary>Handles one method.</summary>
/// <param name="request">The request.</param>
/// <param name="cancellationToken">Cancelled when the server stops.</param>
/// <returns>The reply.</returns>
internal delegate Task<ControlReply> ControlHandler(ControlRequest request, CancellationToken cancellationToken);

/// <summary>The method table of a control server: later features add their methods with <see cref="Register"/>.</summary>
internal sealed class ControlDispatcher
{
    private readonly Dictionary<string, ControlHandler> _handlers = new(StringComparer.Ordinal);

    /// <summary>The registered method names.</summary>
    public IEnumerable<string> Methods => _handlers.Keys;

    /// <summary>Adds <paramref name="method"/>; registering a name twice is a bug.</summary>
    public ControlDispatcher Register(string method, ControlHandler handler)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(handler);
        if (!_handlers.TryAdd(method, handler))
        {
            throw new InvalidOperationException($"control method '{method}' is registered twice");
        }

        return this;
    }

    /// <summary>The handler of <paramref name="method"/>, or a method-not-found error.</summary>
    public ControlHandler Find(string method) =>
        _handlers.TryGetValue(method, out var handler)
            ? handler
            : throw new ControlException(ControlErrorCodes.MethodNotFound, $"unknown method '{method}'; known: {string.Join(", ", _handlers.Keys.Order(StringComparer.Ordinal))}");
}
