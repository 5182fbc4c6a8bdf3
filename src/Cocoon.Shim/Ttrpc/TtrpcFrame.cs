// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace Cocoon.Shim.Ttrpc;

/// <summary>The kind of a ttrpc frame (the header's type byte).</summary>
internal enum TtrpcMessageType : byte
{
    /// <summary>A call: a <c>TtrpcRequest</c> on a stream the client opened (odd ids).</summary>
    Request = 1,

    /// <summary>The answer: a <c>TtrpcResponse</c> on the request's stream id.</summary>
    Response = 2,

    /// <summary>Streaming data (newer ttrpc); unary-only peers drop it.</summary>
    Data = 3,
}

/// <summary>
/// ttrpc's 10-byte frame header, big-endian:
/// <code>
///  0      4          8      9       10
///  | length | stream id | type | flags | payload (length bytes)
/// </code>
/// </summary>
internal readonly record struct TtrpcFrameHeader(uint Length, uint StreamId, TtrpcMessageType Type, byte Flags)
{
    /// <summary>Bytes in a header.</summary>
    public const int Size = 10;

    /// <summary>The largest payload either side sends or accepts (ttrpc's 4 MiB).</summary>
    public const int MaxPayload = 4 << 20;

    /// <summary>Writes this header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, Length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StreamId);
        destination[8] = (byte)Type;
        destination[9] = Flags;
    }

    /// <summary>Reads a header from the first <see cref="Size"/> bytes of <paramref name="source"/>.</summary>
    public static TtrpcFrameHeader Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32BigEndian(source),
        BinaryPrimitives.ReadUInt32BigEndian(source[4..]),
        (TtrpcMessageType)source[8],
        source[9]);
}

/// <summary>What reading one frame gave.</summary>
internal enum TtrpcReadStatus
{
    /// <summary>A whole frame within the size limit.</summary>
    Frame,

    /// <summary>A frame over <see cref="TtrpcFrameHeader.MaxPayload"/>: its payload was read and discarded.</summary>
    Oversized,

    /// <summary>The peer closed the connection between frames.</summary>
    Closed,

    /// <summary>The peer closed the connection in the middle of a frame.</summary>
    Truncated,
}

/// <summary>One frame read (a value: the read loop's results are not exceptions).</summary>
internal readonly record struct TtrpcReadResult(TtrpcReadStatus Status, TtrpcFrameHeader Header, byte[] Payload);

/// <summary>Reads and writes ttrpc frames on a stream.</summary>
internal static class TtrpcFraming
{
    /// <summary>
    /// Reads the next frame. An oversized frame's payload is drained in small pieces (never
    /// allocated) so the connection stays in step and the caller can answer that stream.
    /// </summary>
    public static async ValueTask<TtrpcReadResult> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var headerBytes = new byte[TtrpcFrameHeader.Size];
        var got = await ReadFullyAsync(stream, headerBytes, cancellationToken).ConfigureAwait(false);
        if (got == 0)
        {
            return new TtrpcReadResult(TtrpcReadStatus.Closed, default, []);
        }

        if (got < headerBytes.Length)
        {
            return new TtrpcReadResult(TtrpcReadStatus.Truncated, default, []);
        }

        var header = TtrpcFrameHeader.Read(headerBytes);
        if (header.Length > TtrpcFrameHeader.MaxPayload)
        {
            var scratch = new byte[64 * 1024];
            var left = (long)header.Length;
            while (left > 0)
            {
                var n = await stream.ReadAsync(scratch.AsMemory(0, (int)Math.Min(left, scratch.Length)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return new TtrpcReadResult(TtrpcReadStatus.Truncated, header, []);
                }

                left -= n;
            }

            return new TtrpcReadResult(TtrpcReadStatus.Oversized, header, []);
        }

        var payload = header.Length == 0 ? [] : new byte[header.Length];
        if (await ReadFullyAsync(stream, payload, cancellationToken).ConfigureAwait(false) < payload.Length)
        {
            return new TtrpcReadResult(TtrpcReadStatus.Truncated, header, []);
        }

        return new TtrpcReadResult(TtrpcReadStatus.Frame, header, payload);
    }

    /// <summary>One buffer holding the header and <paramref name="payload"/>, ready for a single write.</summary>
    /// <exception cref="TtrpcException">ResourceExhausted when the payload is over the limit.</exception>
    public static byte[] Encode(uint streamId, TtrpcMessageType type, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > TtrpcFrameHeader.MaxPayload)
        {
            throw new TtrpcException(TtrpcCode.ResourceExhausted, $"message of {payload.Length} bytes exceeds ttrpc's limit of {TtrpcFrameHeader.MaxPayload} bytes");
        }

        var frame = new byte[TtrpcFrameHeader.Size + payload.Length];
        new TtrpcFrameHeader((uint)payload.Length, streamId, type, 0).Write(frame);
        payload.CopyTo(frame.AsSpan(TtrpcFrameHeader.Size));
        return frame;
    }

    private static async ValueTask<int> ReadFullyAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[total..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
