// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vsock.Streams.Tests;

public sealed class CopyHeaderTests
{
    public static TheoryData<CopyRequest> Copies => new()
    {
        new CopyRequest(CopyDirection.In, "/tmp/x"),
        new CopyRequest(CopyDirection.In, "/", CopyPlacement.Into),
        new CopyRequest(CopyDirection.Out, "/etc/" + new string('p', StreamHeader.MaxPathLength - 5)),
        new CopyRequest(CopyDirection.Out, "/data/ünïcode", Container: "web-1"),
    };

    [Theory]
    [MemberData(nameof(Copies))]
    public void Encode_ThenParse_RoundTrips(CopyRequest copy)
    {
        var bytes = StreamHeader.Encode(copy);

        var result = StreamHeader.TryParse(bytes, out var parsed, out var needed, out var error);

        Assert.Equal(StreamHeaderParse.Complete, result);
        Assert.Null(error);
        Assert.Equal(bytes.Length, needed);
        Assert.Equal(copy, parsed);
    }

    public static TheoryData<string, byte[], StreamStatusCode> Hostile => new()
    {
        { "short body", [(byte)'C', (byte)'S', 1, 4, 0, 3, 1, 1, 0], StreamStatusCode.BadHeader },
        { "path runs past body", [(byte)'C', (byte)'S', 1, 4, 0, 6, 1, 1, 0, 9, (byte)'/', 0], StreamStatusCode.BadHeader },
        { "direction 3", [(byte)'C', (byte)'S', 1, 4, 0, 6, 3, 1, 0, 1, (byte)'/', 0], StreamStatusCode.BadHeader },
        { "in with placement 0", [(byte)'C', (byte)'S', 1, 4, 0, 6, 1, 0, 0, 1, (byte)'/', 0], StreamStatusCode.BadHeader },
        { "out with a placement", [(byte)'C', (byte)'S', 1, 4, 0, 6, 2, 1, 0, 1, (byte)'/', 0], StreamStatusCode.BadHeader },
        { "relative path", [(byte)'C', (byte)'S', 1, 4, 0, 6, 2, 0, 0, 1, (byte)'a', 0], StreamStatusCode.BadPath },
        { "empty path", [(byte)'C', (byte)'S', 1, 4, 0, 5, 2, 0, 0, 0, 0], StreamStatusCode.BadPath },
        { "NUL in path", [(byte)'C', (byte)'S', 1, 4, 0, 7, 2, 0, 0, 2, (byte)'/', 0, 0], StreamStatusCode.BadPath },
        { "path invalid UTF-8", [(byte)'C', (byte)'S', 1, 4, 0, 7, 2, 0, 0, 2, 0xc3, 0x28, 0], StreamStatusCode.BadHeader },
        { "trailing bytes", [(byte)'C', (byte)'S', 1, 4, 0, 7, 2, 0, 0, 1, (byte)'/', 0, 7], StreamStatusCode.BadHeader },
        { "container with slash", [(byte)'C', (byte)'S', 1, 4, 0, 8, 2, 0, 0, 1, (byte)'/', 2, (byte)'.', (byte)'/'], StreamStatusCode.UnknownContainer },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void TryParse_HostileCopy_InvalidWithCode(string name, byte[] input, StreamStatusCode code)
    {
        var result = StreamHeader.TryParse(input, out var parsed, out _, out var error);

        Assert.True(result == StreamHeaderParse.Invalid, name);
        Assert.Null(parsed);
        Assert.Equal(code, error!.Code);
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("")]
    public void Encode_RelativePath_BadPathBeforeAnythingOpens(string path)
    {
        var e = Assert.Throws<StreamException>(() => StreamHeader.Encode(new CopyRequest(CopyDirection.Out, path)));

        Assert.Equal(StreamStatusCode.BadPath, e.Status);
        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.Contains("not an absolute path", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_PathTooLong_BadPath()
    {
        var e = Assert.Throws<StreamException>(() => StreamHeader.Encode(new CopyRequest(CopyDirection.Out, "/" + new string('p', StreamHeader.MaxPathLength))));

        Assert.Equal(StreamStatusCode.BadPath, e.Status);
    }

    [Theory]
    [InlineData(StreamStatusCode.NotFound, "not-found", CocoonErrorCode.NotFound)]
    [InlineData(StreamStatusCode.BadPath, "bad-path", CocoonErrorCode.InvalidArgument)]
    public void Status_CopyCodes_RoundTripAndMap(StreamStatusCode code, string word, CocoonErrorCode error)
    {
        var line = StreamStatus.Error(code, "no such file or directory: /x").Encode();

        Assert.StartsWith("error " + word + " ", System.Text.Encoding.ASCII.GetString(line), StringComparison.Ordinal);
        Assert.Equal(code, StreamStatus.Parse(line.AsSpan(0, line.Length - 1))!.Code);
        Assert.Equal(error, StreamException.ToErrorCode(code));
    }
}
