// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;

namespace Cocoon.Vsock.Streams;

/// <summary>The outcome the agent reports for a data stream; each has one word on the wire.</summary>
public enum StreamStatusCode
{
    /// <summary><c>ok</c>: attached; raw bytes follow.</summary>
    Ok,

    /// <summary><c>refused</c>: nothing listens on that port in the box (ECONNREFUSED).</summary>
    Refused,

    /// <summary><c>unreachable</c>: no route to that address from the box (ENETUNREACH, EHOSTUNREACH).</summary>
    Unreachable,

    /// <summary><c>timeout</c>: the connect did not finish in time.</summary>
    Timeout,

    /// <summary><c>bad-network</c>: not tcp or udp.</summary>
    BadNetwork,

    /// <summary><c>bad-port</c>: outside 1–65535.</summary>
    BadPort,

    /// <summary><c>bad-address</c>: not an IP address.</summary>
    BadAddress,

    /// <summary><c>unknown-container</c>: no container of that name runs in the box.</summary>
    UnknownContainer,

    /// <summary><c>bad-header</c>: the header was malformed.</summary>
    BadHeader,

    /// <summary><c>unsupported</c>: a kind or feature this agent does not serve.</summary>
    Unsupported,

    /// <summary><c>internal</c>: anything else.</summary>
    Internal,

    /// <summary>
    /// <c>box-not-running</c>: the host could not reach the box's agent at all. Reported by the host
    /// (SDK, supervisor); the agent never sends it.
    /// </summary>
    BoxNotRunning,

    /// <summary><c>not-found</c>: a copy's source, or its destination's directory, does not exist.</summary>
    NotFound,

    /// <summary><c>bad-path</c>: a copy's path is not absolute, or the copy cannot land there (a directory onto a file).</summary>
    BadPath,
}

/// <summary>
/// The one status line the agent answers after a stream header: <c>ok\n</c>, or
/// <c>error &lt;code&gt; &lt;message&gt;\n</c> with a code word from <see cref="StreamStatusCode"/>.
/// The line is ASCII, at most <see cref="MaxLineLength"/> bytes with its newline.
/// </summary>
/// <param name="Code">The outcome.</param>
/// <param name="Message">What went wrong (empty for ok).</param>
public sealed record StreamStatus(StreamStatusCode Code, string Message)
{
    /// <summary>The longest status line, newline included.</summary>
    public const int MaxLineLength = 512;

    private static readonly string[] Words =
        ["ok", "refused", "unreachable", "timeout", "bad-network", "bad-port", "bad-address", "unknown-container", "bad-header", "unsupported", "internal", "box-not-running", "not-found", "bad-path"];

    /// <summary>The status that lets bytes flow.</summary>
    public static StreamStatus Ok { get; } = new(StreamStatusCode.Ok, string.Empty);

    /// <summary>Whether this is <see cref="StreamStatusCode.Ok"/>.</summary>
    public bool IsOk => Code == StreamStatusCode.Ok;

    /// <summary>Makes an error status.</summary>
    /// <param name="code">The outcome; not ok.</param>
    /// <param name="message">What went wrong.</param>
    /// <returns>The status.</returns>
    public static StreamStatus Error(StreamStatusCode code, string message) => new(code, message);

    /// <summary>The code's word on the wire.</summary>
    /// <param name="code">The code.</param>
    /// <returns>For example <c>refused</c>.</returns>
    public static string Word(StreamStatusCode code) => Words[(int)code];

    /// <summary>Encodes the line: the message is made printable ASCII and cut to fit.</summary>
    /// <returns>The line with its newline.</returns>
    public byte[] Encode()
    {
        if (IsOk)
        {
            return "ok\n"u8.ToArray();
        }

        var head = "error " + Word(Code) + " ";
        var message = Printable(Message);
        var room = MaxLineLength - 1 - head.Length;
        if (message.Length > room)
        {
            message = message[..room];
        }

        return Encoding.ASCII.GetBytes(head + message + "\n");
    }

    /// <summary>Parses one line without its newline.</summary>
    /// <param name="line">The line's bytes.</param>
    /// <returns>The status, or null when the line is not a status line.</returns>
    public static StreamStatus? Parse(ReadOnlySpan<byte> line)
    {
        if (line.Length >= MaxLineLength)
        {
            return null;
        }

        foreach (var b in line)
        {
            if (b is < 0x20 or > 0x7e)
            {
                return null;
            }
        }

        var text = Encoding.ASCII.GetString(line);
        if (text == "ok")
        {
            return Ok;
        }

        if (!text.StartsWith("error ", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = text["error ".Length..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        var word = space < 0 ? rest : rest[..space];
        var index = Array.IndexOf(Words, word);
        if (index <= 0)
        {
            return null;
        }

        return new StreamStatus((StreamStatusCode)index, space < 0 ? string.Empty : rest[(space + 1)..]);
    }

    /// <summary>
    /// Reads the status line from <paramref name="socket"/> a byte at a time, so no byte of the stream
    /// after it is consumed.
    /// </summary>
    /// <param name="socket">The stream connection, right after the header was sent.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The status, or null when the peer closed first or sent something that is not a status line.</returns>
    public static async ValueTask<StreamStatus?> ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var line = new byte[MaxLineLength];
        var length = 0;
        while (length < line.Length)
        {
            var read = await socket.ReceiveAsync(line.AsMemory(length, 1), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            if (line[length] == (byte)'\n')
            {
                return Parse(line.AsSpan(0, length));
            }

            length++;
        }

        return null;
    }

    /// <summary>Replaces anything but printable ASCII with '?', for messages that quote untrusted text.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The printable text.</returns>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = source[i] is >= ' ' and <= '~' ? source[i] : '?';
            }
        });
    }

    /// <inheritdoc/>
    public override string ToString() => IsOk ? "ok" : $"{Word(Code)}: {Message}";
}
