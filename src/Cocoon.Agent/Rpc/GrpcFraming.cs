// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Grpc.Core;

namespace Cocoon.Agent.Rpc;

/// <summary>
/// gRPC's length-prefixed messages on an HTTP/2 body: one flag byte (1 = compressed), a 4-byte
/// big-endian length, then the serialized message. The agent never negotiates compression, so a
/// compressed message is refused.
/// </summary>
internal static class GrpcFraming
{
    public const int HeaderLength = 5;

    /// <summary>
    /// Reads one whole message and deserializes it straight from the pipe's buffer; false at a clean
    /// end of the stream. A truncated message, a compressed one or one over
    /// <paramref name="maxLength"/> ends the call with a status naming it.
    /// </summary>
    public static async ValueTask<(bool Read, T? Message)> ReadMessageAsync<T>(PipeReader reader, Marshaller<T> marshaller, int maxLength, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (TryGetPayload(buffer, maxLength, out var payload))
            {
                try
                {
                    return (true, marshaller.ContextualDeserializer(new Payload(payload)));
                }
                finally
                {
                    reader.AdvanceTo(payload.End);
                }
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                var leftover = buffer.Length;
                reader.AdvanceTo(buffer.End);
                return leftover == 0
                    ? (false, default)
                    : throw new RpcException(new Status(StatusCode.Internal, $"The request stream ended inside a message ({leftover} bytes of it arrived)."));
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Serializes one message straight into the response pipe and flushes it; false when the
    /// response stream is closed (the client is gone).
    /// </summary>
    public static async ValueTask<bool> WriteMessageAsync<T>(PipeWriter writer, Marshaller<T> marshaller, T message, CancellationToken cancellationToken)
    {
        var framed = new FramedWriter(writer);
        marshaller.ContextualSerializer(message, framed);
        framed.ThrowIfIncomplete();
        var flushed = await writer.FlushAsync(cancellationToken);
        return !flushed.IsCanceled && !flushed.IsCompleted;
    }

    /// <summary>
    /// Percent-encodes a grpc-message trailer value: printable ASCII other than '%' stays, every
    /// other UTF-8 byte becomes %XX (the gRPC over HTTP/2 rule, so the host sees the exact text).
    /// </summary>
    public static string EncodeStatusMessage(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var encoded = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }

    private static bool TryGetPayload(ReadOnlySequence<byte> buffer, int maxLength, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (buffer.Length < HeaderLength)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        buffer.Slice(0, HeaderLength).CopyTo(header);
        if (header[0] != 0)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, "The agent does not accept compressed messages; send them uncompressed."));
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxLength)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"A request message of {length} bytes is over the agent's limit of {maxLength} bytes."));
        }

        if (buffer.Length < HeaderLength + length)
        {
            return false;
        }

        payload = buffer.Slice(HeaderLength, length);
        return true;
    }

    /// <summary>A received message's bytes, handed to the generated parser without a copy.</summary>
    private sealed class Payload(ReadOnlySequence<byte> bytes) : DeserializationContext
    {
        public override int PayloadLength => (int)bytes.Length;

        public override byte[] PayloadAsNewBuffer() => bytes.ToArray();

        public override ReadOnlySequence<byte> PayloadAsReadOnlySequence() => bytes;
    }

    /// <summary>Writes the frame header once the serializer knows the length, then lets it write into the pipe.</summary>
    private sealed class FramedWriter(PipeWriter writer) : SerializationContext
    {
        private int? _length;
        private bool _complete;

        public override void Complete(byte[] payload)
        {
            SetPayloadLength(payload.Length);
            writer.Write(payload);
            _complete = true;
        }

        public override void SetPayloadLength(int payloadLength)
        {
            if (_length is not null)
            {
                throw new InvalidOperationException("The payload length was already set.");
            }

            _length = payloadLength;
            var header = writer.GetSpan(HeaderLength);
            header[0] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(header[1..], (uint)payloadLength);
            writer.Advance(HeaderLength);
        }

        public override IBufferWriter<byte> GetBufferWriter() =>
            _length is null ? throw new InvalidOperationException("Set the payload length before writing the payload.") : writer;

        public override void Complete() => _complete = true;

        public void ThrowIfIncomplete()
        {
            if (!_complete)
            {
                throw new InvalidOperationException("The serializer did not complete the message.");
            }
        }
    }
}
