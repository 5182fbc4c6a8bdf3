// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.Versioning;
using Cocoon.Agent.Rpc;
using Cocoon.Protocol.Agent.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Cocoon.Agent.Tests;

[SupportedOSPlatform("linux")]
public sealed class GrpcFramingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    // The shape the generated code uses: contextual, serializing into the buffer writer.
    internal static readonly Marshaller<GetInfoResponse> Marshaller = Marshallers.Create<GetInfoResponse>(
        (message, context) =>
        {
            context.SetPayloadLength(message.CalculateSize());
            message.WriteTo(context.GetBufferWriter());
            context.Complete();
        },
        context => GetInfoResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence()));

    [Fact]
    public async Task WriteThenRead_TwoMessages_RoundTripInOrder()
    {
        var pipe = new Pipe();

        await GrpcFraming.WriteMessageAsync(pipe.Writer, Marshaller, new GetInfoResponse { Hostname = "one" }, CancellationToken.None).AsTask().WaitAsync(Timeout);
        await GrpcFraming.WriteMessageAsync(pipe.Writer, Marshaller, new GetInfoResponse { Hostname = "two", IsInit = true }, CancellationToken.None).AsTask().WaitAsync(Timeout);
        await pipe.Writer.CompleteAsync();
        var first = await GrpcFraming.ReadMessageAsync(pipe.Reader, Marshaller, 1024, CancellationToken.None).AsTask().WaitAsync(Timeout);
        var second = await GrpcFraming.ReadMessageAsync(pipe.Reader, Marshaller, 1024, CancellationToken.None).AsTask().WaitAsync(Timeout);
        var end = await GrpcFraming.ReadMessageAsync(pipe.Reader, Marshaller, 1024, CancellationToken.None).AsTask().WaitAsync(Timeout);

        Assert.Equal((true, "one"), (first.Read, first.Message!.Hostname));
        Assert.Equal((true, "two", true), (second.Read, second.Message!.Hostname, second.Message.IsInit));
        Assert.False(end.Read);
    }

    [Fact]
    public async Task Read_MessageArrivingInPieces_ReturnsItWhole()
    {
        var pipe = new Pipe();
        var frame = Frame(0, new GetInfoResponse { AgentVersion = new string('v', 300) }.ToByteArray());

        var read = GrpcFraming.ReadMessageAsync(pipe.Reader, Marshaller, 1024, CancellationToken.None).AsTask();
        foreach (var piece in new[] { frame[..2], frame[2..7], frame[7..] })
        {
            await pipe.Writer.WriteAsync(piece);
        }

        var (ok, message) = await read.WaitAsync(Timeout);
        Assert.True(ok);
        Assert.Equal(300, message!.AgentVersion.Length);
    }

    [Fact]
    public async Task Read_StreamEndsInsideMessage_FailsWithInternal()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Frame(0, new byte[10])[..8]);
        await pipe.Writer.CompleteAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcFraming.ReadMessageAsync(pipe.Reader, Marshaller, 1024, CancellationToken.None).AsTask().WaitAsync(Timeout));

        Assert.Equal(StatusCode.Internal, error.StatusCode);
    }

    [Fact]
    public async Task Read_CompressedFlag_FailsWithUnimplemented()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Frame(1, new byte[3]));

        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcFraming.ReadMessageAsync(pipe.Reader, Marshaller, 1024, CancellationToken.None).AsTask().WaitAsync(Timeout));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task Read_LengthOverLimit_FailsBeforeThePayloadArrives()
    {
        var pipe = new Pipe();
        var header = new byte[GrpcFraming.HeaderLength];
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(1), uint.MaxValue);
        await pipe.Writer.WriteAsync(header);

        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcFraming.ReadMessageAsync(pipe.Reader, Marshaller, 1024, CancellationToken.None).AsTask().WaitAsync(Timeout));

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("4294967295", error.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("100% done", "100%25 done")]
    [InlineData("é\n", "%C3%A9%0A")]
    public void EncodeStatusMessage_NonPrintableAndPercent_ArePercentEncoded(string message, string expected)
    {
        Assert.Equal(expected, GrpcFraming.EncodeStatusMessage(message));
    }

    private static byte[] Frame(byte flag, byte[] payload)
    {
        var frame = new byte[GrpcFraming.HeaderLength + payload.Length];
        frame[0] = flag;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame, GrpcFraming.HeaderLength);
        return frame;
    }
}
