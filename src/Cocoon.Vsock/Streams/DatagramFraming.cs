// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Net.Sockets;

namespace Cocoon.Vsock.Streams;

/// <summary>
/// UDP datagrams over a data stream (docs/architecture.md §2.3): each datagram is a 2-byte big-endian length
/// followed by that many bytes, in both directions. A zero length is a valid (empty) datagram.
/// </summary>
public static class DatagramFraming
{
    /// <summary>Bytes of the length prefix.</summary>
    public const int PrefixLength = 2;

    /// <summary>The largest datagram a frame can carry (and the largest UDP payload over IPv4 is smaller).</summary>
    public const int MaxDatagramLength = ushort.MaxValue;

    /// <summary>A buffer size that holds any one frame.</summary>
    public const int MaxFrameLength = PrefixLength + MaxDatagramLength;

    /// <summary>Writes the frame for <paramref name="datagram"/> into <paramref name="destination"/>.</summary>
    /// <param name="datagram">The datagram, at most <see cref="MaxDatagramLength"/> bytes.</param>
    /// <param name="destination">At least <c>PrefixLength + datagram.Length</c> bytes.</param>
    /// <returns>The frame's length.</returns>
    public static int WriteFrame(ReadOnlySpan<byte> datagram, Span<byte> destination)
    {
        if (datagram.Length > MaxDatagramLength)
        {
            throw new ArgumentOutOfRangeException(nameof(datagram), datagram.Length, $"A datagram holds at most {MaxDatagramLength} bytes.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)datagram.Length);
        datagram.CopyTo(destination[PrefixLength..]);
        return PrefixLength + datagram.Length;
    }

    /// <summary>
    /// Sends the datagram that already sits at offset <see cref="PrefixLength"/> of
    /// <paramref name="frame"/>, as one frame: the prefix is written in front of it, so no copy is made.
    /// </summary>
    /// <param name="stream">The data stream.</param>
    /// <param name="frame">A buffer holding the datagram from offset <see cref="PrefixLength"/>.</param>
    /// <param name="datagramLength">The datagram's length.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame is sent.</returns>
    public static async ValueTask SendFrameAsync(Socket stream, Memory<byte> frame, int datagramLength, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        BinaryPrimitives.WriteUInt16BigEndian(frame.Span, (ushort)datagramLength);
        var total = PrefixLength + datagramLength;
        var sent = 0;
        while (sent < total)
        {
            sent += await stream.SendAsync(frame[sent..total], SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads one frame from <paramref name="stream"/>.</summary>
    /// <param name="stream">The data stream.</param>
    /// <param name="buffer">At least <see cref="MaxDatagramLength"/> bytes; receives the datagram.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The datagram's length, or -1 when the stream ended cleanly between frames.</returns>
    /// <exception cref="IOException">The stream ended inside a frame.</exception>
    public static async ValueTask<int> ReceiveFrameAsync(Socket stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!await ReceiveExactlyAsync(stream, buffer[..PrefixLength], allowEmpty: true, cancellationToken).ConfigureAwait(false))
        {
            return -1;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(buffer.Span);
        if (length > 0)
        {
            await ReceiveExactlyAsync(stream, buffer[..length], allowEmpty: false, cancellationToken).ConfigureAwait(false);
        }

        return length;
    }

    private static async ValueTask<bool> ReceiveExactlyAsync(Socket stream, Memory<byte> buffer, bool allowEmpty, CancellationToken cancellationToken)
    {
        var have = 0;
        while (have < buffer.Length)
        {
            var read = await stream.ReceiveAsync(buffer[have..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (have == 0 && allowEmpty)
                {
                    return false;
                }

                throw new IOException($"The datagram stream ended inside a frame ({have} of {buffer.Length} bytes).");
            }

            have += read;
        }

        return true;
    }
}
