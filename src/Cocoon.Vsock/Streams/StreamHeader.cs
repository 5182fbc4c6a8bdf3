// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Cocoon.Vsock.Streams;

/// <summary>What a data stream attaches to (docs/architecture.md §2.3).</summary>
public enum StreamKind : byte
{
    /// <summary>A TCP or UDP connection to an address inside the box.</summary>
    Dial = 1,

    /// <summary>A UNIX socket path inside the box or a container's mount namespace (<see cref="ConnectRequest"/>).</summary>
    Connect = 2,

    /// <summary>A pending connection the guest announced, by token (<see cref="AcceptRequest"/>).</summary>
    Accept = 3,

    /// <summary>A tar stream into or out of a path (<see cref="CopyRequest"/>).</summary>
    Copy = 4,
}

/// <summary>Which way a copy stream's tar flows.</summary>
public enum CopyDirection : byte
{
    /// <summary>Host to box: the host sends a tar stream, the agent unpacks it at the path.</summary>
    In = 1,

    /// <summary>Box to host: the agent sends a tar stream of the path.</summary>
    Out = 2,
}

/// <summary>The transport a dial opens inside the box.</summary>
public enum DialNetwork : byte
{
    /// <summary>A TCP connection; the stream carries its bytes.</summary>
    Tcp = 1,

    /// <summary>A connected UDP socket; the stream carries length-prefixed datagrams (<see cref="DatagramFraming"/>).</summary>
    Udp = 2,
}

/// <summary>A request carried by a stream header; one subtype per <see cref="StreamKind"/>.</summary>
public abstract record StreamRequest
{
    /// <summary>The kind written into the header.</summary>
    public abstract StreamKind Kind { get; }
}

/// <summary>Dial <paramref name="Network"/> to <paramref name="Address"/>:<paramref name="Port"/> inside the box.</summary>
/// <param name="Network">tcp or udp.</param>
/// <param name="Port">1–65535.</param>
/// <param name="Address">An IPv4 or IPv6 literal inside the box; null for 127.0.0.1.</param>
/// <param name="Container">The container whose network namespace to dial from; null for the box's own.</param>
public sealed record DialRequest(DialNetwork Network, int Port, string? Address = null, string? Container = null) : StreamRequest
{
    /// <inheritdoc/>
    public override StreamKind Kind => StreamKind.Dial;
}

/// <summary>
/// Copy a tar stream into or out of <paramref name="Path"/> in the box. After the agent's <c>ok</c>, an
/// <see cref="CopyDirection.Out"/> stream carries the tar of the path and ends; an
/// <see cref="CopyDirection.In"/> stream carries the host's tar until the host half-closes, and the agent
/// answers a second status line once everything is unpacked (<see cref="TarCopy"/> has the rules).
/// </summary>
/// <param name="Direction">In or out of the box.</param>
/// <param name="Path">An absolute path in the box: the source (out) or the destination (in).</param>
/// <param name="Placement">In only: how the tar lands at the path.</param>
/// <param name="Container">The container whose file system the path is in; null for the box's own (reserved: not served yet).</param>
public sealed record CopyRequest(CopyDirection Direction, string Path, CopyPlacement Placement = CopyPlacement.Place, string? Container = null) : StreamRequest
{
    /// <inheritdoc/>
    public override StreamKind Kind => StreamKind.Copy;
}

/// <summary>
/// Connect to the UNIX socket at <paramref name="Path"/> inside the box (a guest service seen on the
/// host: <c>socket-forward</c>); after <c>ok</c> the stream carries that connection's bytes.
/// </summary>
/// <param name="Path">An absolute socket path in the box that fits <c>sun_path</c> (107 bytes of UTF-8, no NUL).</param>
/// <param name="Container">The container whose mount namespace the path is in; null for the box's own.</param>
public sealed record ConnectRequest(string Path, string? Container = null) : StreamRequest
{
    /// <inheritdoc/>
    public override StreamKind Kind => StreamKind.Connect;
}

/// <summary>
/// Attach to the connection a guest client made to a forwarded socket, which the agent announced
/// with <paramref name="Token"/> (a host service seen inside the box). With <paramref name="Refuse"/>
/// the agent closes that client instead, at once: the host has no socket for it.
/// </summary>
/// <param name="Token">The announced token: <see cref="StreamHeader.TokenLength"/> lowercase hex digits.</param>
/// <param name="Refuse">Close the guest's connection rather than splice it.</param>
public sealed record AcceptRequest(string Token, bool Refuse = false) : StreamRequest
{
    /// <inheritdoc/>
    public override StreamKind Kind => StreamKind.Accept;
}

/// <summary>How <see cref="StreamHeader.TryParse"/> ended.</summary>
public enum StreamHeaderParse
{
    /// <summary>A whole, valid header was parsed.</summary>
    Complete,

    /// <summary>The bytes so far are a valid prefix; read <c>needed</c> bytes in all and parse again.</summary>
    NeedMore,

    /// <summary>The bytes are not a valid header; the error says why.</summary>
    Invalid,
}

/// <summary>
/// The binary header that opens every data stream on vsock port 1025 (docs/architecture.md §2.3), its encoder
/// and its parser. All integers are big-endian.
/// <code>
///  offset size  field
///  0      2     magic "CS"
///  2      1     version (1)
///  3      1     kind (<see cref="StreamKind"/>)
///  4      2     body length, at most <see cref="MaxBodyLength"/>
///  6      n     body
///
///  dial body:  network (1 byte: 1 tcp, 2 udp) · port (2) · address (1-byte length + UTF-8, empty = 127.0.0.1)
///              · container (1-byte length + UTF-8, empty = the box's own network namespace)
///  copy body:  direction (1 byte: 1 in, 2 out) · placement (1 byte: 1 place, 2 into; 0 for out)
///              · path (2-byte length + UTF-8, absolute, at most <see cref="MaxPathLength"/>)
///              · container (1-byte length + UTF-8, empty = the box's own file system)
///  connect body: path (2-byte length + UTF-8, absolute, fits sun_path) · container (1-byte length + UTF-8)
///  accept body:  token (1-byte length, <see cref="TokenLength"/> lowercase hex digits) · action (1 byte: 1 splice, 2 refuse)
/// </code>
/// The parser treats its input as hostile: every length is bounded, trailing bytes are an error, text
/// must be printable UTF-8, and it never reads past the bytes it was given.
/// </summary>
public static class StreamHeader
{
    /// <summary>The version this code writes and the only one it accepts.</summary>
    public const byte Version = 1;

    /// <summary>Bytes before the body.</summary>
    public const int PrefixLength = 6;

    /// <summary>The largest body accepted.</summary>
    public const int MaxBodyLength = 1024;

    /// <summary>The longest text field (bytes of UTF-8); a container name must also follow <see cref="Protocol.ContainerName"/>, which allows fewer.</summary>
    public const int MaxTextLength = 255;

    /// <summary>The longest copy path (bytes of UTF-8); the body must hold it.</summary>
    public const int MaxPathLength = 900;

    /// <summary>The length of an accept token: 32 lowercase hex digits (16 random bytes).</summary>
    public const int TokenLength = 32;

    private const byte Magic0 = (byte)'C';
    private const byte Magic1 = (byte)'S';

    /// <summary>Encodes <paramref name="request"/> as a header.</summary>
    /// <param name="request">What to attach to; validated first.</param>
    /// <returns>The header bytes.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming the bad field.</exception>
    public static byte[] Encode(StreamRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        switch (request)
        {
            case CopyRequest copy:
                return EncodeCopy(copy);
            case ConnectRequest connect:
                return EncodeConnect(connect);
            case AcceptRequest accept:
                return EncodeAccept(accept);
        }

        if (request is not DialRequest dial)
        {
            throw new CocoonException(CocoonErrorCode.Unsupported, $"Stream kind '{request.Kind}' has no encoder yet.");
        }

        Validate(dial);
        var address = Encoding.UTF8.GetBytes(dial.Address ?? string.Empty);
        var container = Encoding.UTF8.GetBytes(dial.Container ?? string.Empty);
        var header = NewHeader(StreamKind.Dial, 1 + 2 + 1 + address.Length + 1 + container.Length);
        var body = header.AsSpan(PrefixLength);
        body[0] = (byte)dial.Network;
        BinaryPrimitives.WriteUInt16BigEndian(body[1..], (ushort)dial.Port);
        body[3] = (byte)address.Length;
        address.CopyTo(body[4..]);
        var at = 4 + address.Length;
        body[at] = (byte)container.Length;
        container.CopyTo(body[(at + 1)..]);
        return header;
    }

    /// <summary>
    /// Checks a dial's fields the way the agent will, so a host can refuse bad input before it opens
    /// anything (docs/architecture.md §2.5 rule 3).
    /// </summary>
    /// <param name="dial">The request.</param>
    /// <exception cref="StreamException">bad-network, bad-port, bad-address or unknown-container, naming the field.</exception>
    public static void Validate(DialRequest dial)
    {
        ArgumentNullException.ThrowIfNull(dial);
        if (ValidateDial(dial) is { } error)
        {
            throw new StreamException(error.Code, error.Message);
        }
    }

    /// <summary>Parses a header from the start of <paramref name="input"/>.</summary>
    /// <param name="input">The bytes received so far.</param>
    /// <param name="request">The request when <see cref="StreamHeaderParse.Complete"/>.</param>
    /// <param name="needed">Bytes of header in all: how many were used when complete, how many to have before the next try when more are needed.</param>
    /// <param name="error">Why the header is invalid, with the status code to answer.</param>
    /// <returns>Whether the header is complete, needs more bytes or is invalid.</returns>
    public static StreamHeaderParse TryParse(ReadOnlySpan<byte> input, out StreamRequest? request, out int needed, out StreamStatus? error)
    {
        request = null;
        error = null;
        needed = PrefixLength;
        if (input.Length >= 1 && input[0] != Magic0 || input.Length >= 2 && input[1] != Magic1)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, "the stream does not start with a Cocoon stream header (magic 'CS')");
            return StreamHeaderParse.Invalid;
        }

        if (input.Length >= 3 && input[2] != Version)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"stream header version {input[2]} is not supported; this agent speaks version {Version}");
            return StreamHeaderParse.Invalid;
        }

        if (input.Length < PrefixLength)
        {
            return StreamHeaderParse.NeedMore;
        }

        var kind = (StreamKind)input[3];
        var bodyLength = BinaryPrimitives.ReadUInt16BigEndian(input[4..]);
        if (bodyLength > MaxBodyLength)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"stream header body of {bodyLength} bytes exceeds {MaxBodyLength}");
            return StreamHeaderParse.Invalid;
        }

        needed = PrefixLength + bodyLength;
        if (input.Length < needed)
        {
            return StreamHeaderParse.NeedMore;
        }

        var body = input.Slice(PrefixLength, bodyLength);
        switch (kind)
        {
            case StreamKind.Dial:
                var dial = ParseDial(body, out error);
                if (dial is null)
                {
                    return StreamHeaderParse.Invalid;
                }

                request = dial;
                return StreamHeaderParse.Complete;
            case StreamKind.Copy:
                var copy = ParseCopy(body, out error);
                if (copy is null)
                {
                    return StreamHeaderParse.Invalid;
                }

                request = copy;
                return StreamHeaderParse.Complete;
            case StreamKind.Connect:
                request = ParseConnect(body, out error);
                return request is null ? StreamHeaderParse.Invalid : StreamHeaderParse.Complete;
            case StreamKind.Accept:
                request = ParseAccept(body, out error);
                return request is null ? StreamHeaderParse.Invalid : StreamHeaderParse.Complete;
            default:
                error = StreamStatus.Error(StreamStatusCode.BadHeader, $"unknown stream kind {(byte)kind}");
                return StreamHeaderParse.Invalid;
        }
    }

    /// <summary>
    /// Reads exactly one header from <paramref name="socket"/> (never a byte past it).
    /// </summary>
    /// <param name="socket">The stream connection.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The request, or the status to answer when the header is bad or the peer closed early.</returns>
    public static async ValueTask<(StreamRequest? Request, StreamStatus? Error)> ReadAsync(Socket socket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var buffer = new byte[PrefixLength + MaxBodyLength];
        var have = 0;
        while (true)
        {
            var result = TryParse(buffer.AsSpan(0, have), out var request, out var needed, out var error);
            switch (result)
            {
                case StreamHeaderParse.Complete:
                    return (request, null);
                case StreamHeaderParse.Invalid:
                    return (null, error);
            }

            while (have < needed)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(have, needed - have), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return (null, StreamStatus.Error(StreamStatusCode.BadHeader, $"the stream closed after {have} of {needed} header bytes"));
                }

                have += read;
            }
        }
    }

    private static DialRequest? ParseDial(ReadOnlySpan<byte> body, out StreamStatus? error)
    {
        error = null;
        if (body.Length < 5)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"dial body of {body.Length} bytes is shorter than 5");
            return null;
        }

        var network = (DialNetwork)body[0];
        var port = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
        var at = 3;
        if (!TryReadText(body, ref at, "address", out var address, out error)
            || !TryReadText(body, ref at, "container", out var container, out error))
        {
            return null;
        }

        if (at != body.Length)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"dial body has {body.Length - at} trailing bytes");
            return null;
        }

        var dial = new DialRequest(network, port, address, container);
        error = ValidateDial(dial);
        return error is null ? dial : null;
    }

    /// <summary>
    /// Checks a copy's fields the way the agent will, so a host can refuse bad input before it opens
    /// anything.
    /// </summary>
    /// <param name="copy">The request.</param>
    /// <exception cref="StreamException">bad-path or unknown-container, naming the field.</exception>
    public static void Validate(CopyRequest copy)
    {
        ArgumentNullException.ThrowIfNull(copy);
        if (ValidateCopy(copy) is { } error)
        {
            throw new StreamException(error.Code, error.Message);
        }
    }

    private static byte[] EncodeCopy(CopyRequest copy)
    {
        Validate(copy);
        var path = Encoding.UTF8.GetBytes(copy.Path);
        var container = Encoding.UTF8.GetBytes(copy.Container ?? string.Empty);
        var header = NewHeader(StreamKind.Copy, 1 + 1 + 2 + path.Length + 1 + container.Length);
        var body = header.AsSpan(PrefixLength);
        body[0] = (byte)copy.Direction;
        body[1] = copy.Direction == CopyDirection.In ? (byte)copy.Placement : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(body[2..], (ushort)path.Length);
        path.CopyTo(body[4..]);
        var at = 4 + path.Length;
        body[at] = (byte)container.Length;
        container.CopyTo(body[(at + 1)..]);
        return header;
    }

    private static CopyRequest? ParseCopy(ReadOnlySpan<byte> body, out StreamStatus? error)
    {
        error = null;
        if (body.Length < 5)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"copy body of {body.Length} bytes is shorter than 5");
            return null;
        }

        var direction = (CopyDirection)body[0];
        var placement = (CopyPlacement)body[1];
        var pathLength = BinaryPrimitives.ReadUInt16BigEndian(body[2..]);
        if (pathLength > MaxPathLength || 4 + pathLength > body.Length)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"copy path of {pathLength} bytes runs past the body or exceeds {MaxPathLength}");
            return null;
        }

        if (!TryDecode(body.Slice(4, pathLength), "copy path", out var path, out error))
        {
            return null;
        }

        var at = 4 + pathLength;
        if (!TryReadText(body, ref at, "container", out var container, out error, "copy"))
        {
            return null;
        }

        if (at != body.Length)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"copy body has {body.Length - at} trailing bytes");
            return null;
        }

        if (direction is not (CopyDirection.In or CopyDirection.Out)
            || direction == CopyDirection.In && placement is not (CopyPlacement.Place or CopyPlacement.Into)
            || direction == CopyDirection.Out && (byte)placement != 0)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"copy direction {(byte)direction} with placement {(byte)placement} is not valid");
            return null;
        }

        var copy = new CopyRequest(direction, path ?? string.Empty, direction == CopyDirection.In ? placement : CopyPlacement.Place, container);
        error = ValidateCopy(copy);
        return error is null ? copy : null;
    }

    private static StreamStatus? ValidateCopy(CopyRequest copy)
    {
        if (string.IsNullOrEmpty(copy.Path) || copy.Path[0] != '/' || copy.Path.Contains('\0', StringComparison.Ordinal))
        {
            return StreamStatus.Error(StreamStatusCode.BadPath, $"path '{StreamStatus.Printable(copy.Path ?? string.Empty)}' is not an absolute path in the box");
        }

        if (Encoding.UTF8.GetByteCount(copy.Path) > MaxPathLength)
        {
            return StreamStatus.Error(StreamStatusCode.BadPath, $"path of {Encoding.UTF8.GetByteCount(copy.Path)} bytes is longer than the {MaxPathLength} a copy takes");
        }

        if (copy.Container is { } container && !Protocol.ContainerName.IsValid(container))
        {
            return StreamStatus.Error(StreamStatusCode.UnknownContainer, Protocol.ContainerName.Invalid(container));
        }

        return null;
    }

    private static bool TryDecode(ReadOnlySpan<byte> bytes, string field, out string? text, out StreamStatus? error)
    {
        text = null;
        error = null;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"{field} is not valid UTF-8");
            return false;
        }
    }

    private static bool TryReadText(ReadOnlySpan<byte> body, ref int at, string field, out string? text, out StreamStatus? error, string kind = "dial")
    {
        text = null;
        error = null;
        if (at >= body.Length)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"{kind} body ends before the {field} length");
            return false;
        }

        var length = body[at++];
        if (at + length > body.Length)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"{kind} {field} of {length} bytes runs past the body");
            return false;
        }

        if (length == 0)
        {
            return true;
        }

        if (!TryDecode(body.Slice(at, length), $"{kind} {field}", out text, out error))
        {
            return false;
        }

        at += length;
        return true;
    }

    /// <summary>Checks a connect's fields the way the agent will, before the host opens anything.</summary>
    /// <param name="connect">The request.</param>
    /// <exception cref="StreamException">bad-path or unknown-container, naming the field.</exception>
    public static void Validate(ConnectRequest connect)
    {
        ArgumentNullException.ThrowIfNull(connect);
        if (ValidateConnect(connect) is { } error)
        {
            throw new StreamException(error.Code, error.Message);
        }
    }

    /// <summary>Checks an accept's token the way the agent will.</summary>
    /// <param name="accept">The request.</param>
    /// <exception cref="StreamException">bad-header naming the token.</exception>
    public static void Validate(AcceptRequest accept)
    {
        ArgumentNullException.ThrowIfNull(accept);
        if (ValidateAccept(accept) is { } error)
        {
            throw new StreamException(error.Code, error.Message);
        }
    }

    /// <summary>Whether <paramref name="token"/> is <see cref="TokenLength"/> lowercase hex digits.</summary>
    /// <param name="token">The token.</param>
    /// <returns>True when it has the shape of an accept token.</returns>
    public static bool IsToken(string? token)
    {
        if (token is null || token.Length != TokenLength)
        {
            return false;
        }

        foreach (var c in token)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static byte[] EncodeConnect(ConnectRequest connect)
    {
        Validate(connect);
        var path = Encoding.UTF8.GetBytes(connect.Path);
        var container = Encoding.UTF8.GetBytes(connect.Container ?? string.Empty);
        var header = NewHeader(StreamKind.Connect, 2 + path.Length + 1 + container.Length);
        var body = header.AsSpan(PrefixLength);
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)path.Length);
        path.CopyTo(body[2..]);
        body[2 + path.Length] = (byte)container.Length;
        container.CopyTo(body[(3 + path.Length)..]);
        return header;
    }

    private static byte[] EncodeAccept(AcceptRequest accept)
    {
        Validate(accept);
        var header = NewHeader(StreamKind.Accept, 1 + TokenLength + 1);
        var body = header.AsSpan(PrefixLength);
        body[0] = TokenLength;
        Encoding.ASCII.GetBytes(accept.Token, body[1..]);
        body[1 + TokenLength] = accept.Refuse ? (byte)2 : (byte)1;
        return header;
    }

    private static byte[] NewHeader(StreamKind kind, int bodyLength)
    {
        var header = new byte[PrefixLength + bodyLength];
        header[0] = Magic0;
        header[1] = Magic1;
        header[2] = Version;
        header[3] = (byte)kind;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), (ushort)bodyLength);
        return header;
    }

    private static ConnectRequest? ParseConnect(ReadOnlySpan<byte> body, out StreamStatus? error)
    {
        error = null;
        if (body.Length < 3)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"connect body of {body.Length} bytes is shorter than 3");
            return null;
        }

        var pathLength = BinaryPrimitives.ReadUInt16BigEndian(body);
        if (2 + pathLength > body.Length)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"connect path of {pathLength} bytes runs past the body");
            return null;
        }

        if (!TryDecode(body.Slice(2, pathLength), "connect path", out var path, out error))
        {
            return null;
        }

        var at = 2 + pathLength;
        if (!TryReadText(body, ref at, "container", out var container, out error, "connect"))
        {
            return null;
        }

        if (at != body.Length)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"connect body has {body.Length - at} trailing bytes");
            return null;
        }

        var connect = new ConnectRequest(path ?? string.Empty, container);
        error = ValidateConnect(connect);
        return error is null ? connect : null;
    }

    private static AcceptRequest? ParseAccept(ReadOnlySpan<byte> body, out StreamStatus? error)
    {
        error = null;
        if (body.Length != 1 + TokenLength + 1 || body[0] != TokenLength)
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"accept body must be {2 + TokenLength} bytes: a {TokenLength}-byte token and an action");
            return null;
        }

        if (body[1 + TokenLength] is not (1 or 2))
        {
            error = StreamStatus.Error(StreamStatusCode.BadHeader, $"accept action {body[1 + TokenLength]} is not 1 (splice) or 2 (refuse)");
            return null;
        }

        foreach (var b in body.Slice(1, TokenLength))
        {
            if (b is not ((>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f')))
            {
                error = StreamStatus.Error(StreamStatusCode.BadHeader, $"accept token is not {TokenLength} lowercase hex digits");
                return null;
            }
        }

        return new AcceptRequest(Encoding.ASCII.GetString(body.Slice(1, TokenLength)), body[1 + TokenLength] == 2);
    }

    private static StreamStatus? ValidateConnect(ConnectRequest connect)
    {
        if (Protocol.UnixSocketPath.Problem(connect.Path) is { } problem)
        {
            return StreamStatus.Error(StreamStatusCode.BadPath, $"socket path '{StreamStatus.Printable(connect.Path ?? string.Empty)}' {problem}");
        }

        if (connect.Container is { } container && !Protocol.ContainerName.IsValid(container))
        {
            return StreamStatus.Error(StreamStatusCode.UnknownContainer, Protocol.ContainerName.Invalid(container));
        }

        return null;
    }

    private static StreamStatus? ValidateAccept(AcceptRequest accept) =>
        IsToken(accept.Token)
            ? null
            : StreamStatus.Error(StreamStatusCode.BadHeader, $"accept token '{StreamStatus.Printable(accept.Token ?? string.Empty)}' is not {TokenLength} lowercase hex digits");

    private static StreamStatus? ValidateDial(DialRequest dial)
    {
        if (dial.Network is not (DialNetwork.Tcp or DialNetwork.Udp))
        {
            return StreamStatus.Error(StreamStatusCode.BadNetwork, $"network {(byte)dial.Network} is not supported; use tcp or udp");
        }

        if (dial.Port is < 1 or > 65535)
        {
            return StreamStatus.Error(StreamStatusCode.BadPort, $"port {dial.Port} is outside 1-65535");
        }

        if (dial.Address is { } address
            && (address.Length == 0 || Encoding.UTF8.GetByteCount(address) > MaxTextLength || !System.Net.IPAddress.TryParse(address, out _) && address != "localhost"))
        {
            return StreamStatus.Error(StreamStatusCode.BadAddress, $"address '{StreamStatus.Printable(address)}' is not an IPv4 or IPv6 address (or 'localhost')");
        }

        if (dial.Container is { } container && !Protocol.ContainerName.IsValid(container))
        {
            return StreamStatus.Error(StreamStatusCode.UnknownContainer, Protocol.ContainerName.Invalid(container));
        }

        return null;
    }

    /// <summary>The network's name on the command line and in errors.</summary>
    /// <param name="network">The network.</param>
    /// <returns><c>tcp</c> or <c>udp</c>.</returns>
    public static string Name(this DialNetwork network) => network == DialNetwork.Udp ? "udp" : "tcp";

    /// <summary>Parses <c>tcp</c> or <c>udp</c> (any case).</summary>
    /// <param name="text">The network name.</param>
    /// <param name="network">The network.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryParseNetwork(string? text, out DialNetwork network)
    {
        network = DialNetwork.Tcp;
        if (string.Equals(text, "tcp", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        network = DialNetwork.Udp;
        return string.Equals(text, "udp", StringComparison.OrdinalIgnoreCase);
    }
}
