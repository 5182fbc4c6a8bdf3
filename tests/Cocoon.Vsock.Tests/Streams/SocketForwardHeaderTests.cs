// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vsock.Streams.Tests;

/// <summary>The <c>connect</c> and <c>accept</c> kinds of the stream header (socket forwards); round trips and hostile bytes are in <see cref="StreamHeaderTests"/>.</summary>
public sealed class SocketForwardHeaderTests
{
    private const string Token = "00112233445566778899aabbccddeeff";

    [Fact]
    public void Encode_Accept_HasTheDocumentedLayout()
    {
        var bytes = StreamHeader.Encode(new AcceptRequest(Token, Refuse: true));

        Assert.Equal("CS"u8.ToArray(), bytes[..2]);
        Assert.Equal([1, (byte)StreamKind.Accept, 0, 34, 32], bytes[2..7]);
        Assert.Equal(Token, System.Text.Encoding.ASCII.GetString(bytes, 7, 32));
        Assert.Equal(2, bytes[^1]);
    }

    [Theory]
    [InlineData("uppercase", 'A', 1)]
    [InlineData("not hex", 'g', 1)]
    [InlineData("action 0", 'a', 0)]
    [InlineData("action 3", 'a', 3)]
    public void TryParse_BadAcceptBody_BadHeader(string name, char tokenChar, byte action)
    {
        var bytes = StreamHeader.Encode(new AcceptRequest(Token));
        bytes[7] = (byte)tokenChar;
        bytes[^1] = action;

        var result = StreamHeader.TryParse(bytes, out var parsed, out _, out var error);

        Assert.True(result == StreamHeaderParse.Invalid, name);
        Assert.Null(parsed);
        Assert.Equal(StreamStatusCode.BadHeader, error!.Code);
    }

    [Theory]
    [InlineData("relative.sock", "not absolute")]
    [InlineData("", "is empty")]
    [InlineData("/tmp/a\0b", "NUL")]
    public void Encode_BadConnectPath_BadPathNamingThePath(string path, string why)
    {
        var e = Assert.Throws<StreamException>(() => StreamHeader.Encode(new ConnectRequest(path)));

        Assert.Equal(StreamStatusCode.BadPath, e.Status);
        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_ConnectPathOverSunPath_BadPathWithLength()
    {
        var path = "/" + new string('s', 107);

        var e = Assert.Throws<StreamException>(() => StreamHeader.Encode(new ConnectRequest(path)));

        Assert.Equal(StreamStatusCode.BadPath, e.Status);
        Assert.Contains("108 bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00112233445566778899AABBCCDDEEFF")]
    [InlineData("0011")]
    public void Encode_BadToken_Throws(string token)
    {
        var e = Assert.Throws<StreamException>(() => StreamHeader.Encode(new AcceptRequest(token)));

        Assert.Equal(StreamStatusCode.BadHeader, e.Status);
    }
}
