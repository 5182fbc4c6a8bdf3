// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;

namespace Cocoon.Vsock.Streams.Tests;

public sealed class StreamStatusTests
{
    [Fact]
    public void Encode_EveryCode_ParsesBack()
    {
        foreach (var code in Enum.GetValues<StreamStatusCode>())
        {
            var status = code == StreamStatusCode.Ok ? StreamStatus.Ok : StreamStatus.Error(code, "port 80: it went wrong");
            var line = status.Encode();

            var parsed = StreamStatus.Parse(line.AsSpan(0, line.Length - 1));

            Assert.Equal(status, parsed);
            Assert.Equal((byte)'\n', line[^1]);
        }
    }

    [Fact]
    public void Encode_HostileMessage_PrintableAndBounded()
    {
        var status = StreamStatus.Error(StreamStatusCode.Internal, "a\nb\u0000c" + new string('x', 2000));

        var line = status.Encode();

        Assert.Equal(StreamStatus.MaxLineLength, line.Length);
        Assert.Equal(1, line.Count(b => b == (byte)'\n'));
        Assert.StartsWith("error internal a?b?c", Encoding.ASCII.GetString(line), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("OK")]
    [InlineData("error")]
    [InlineData("error ok fine")]
    [InlineData("error nosuchcode x")]
    [InlineData("error refused \u0001")]
    public void Parse_NotAStatusLine_Null(string line)
    {
        Assert.Null(StreamStatus.Parse(Encoding.Latin1.GetBytes(line)));
    }

    [Fact]
    public async Task ReadAsync_LineThenData_LeavesTheData()
    {
        var (a, b) = StreamHeaderTests.SocketPair();
        using (a)
        using (b)
        {
            await a.SendAsync("ok\nHTTP/1.0 200"u8.ToArray());

            var status = await StreamStatus.ReadAsync(b, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            var rest = new byte[12];
            var read = await b.ReceiveAsync(rest).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.True(status!.IsOk);
            Assert.Equal("HTTP/1.0 200", Encoding.ASCII.GetString(rest, 0, read));
        }
    }

    [Fact]
    public async Task ReadAsync_EndlessLine_NullAfterBound()
    {
        var (a, b) = StreamHeaderTests.SocketPair();
        using (a)
        using (b)
        {
            await a.SendAsync(Encoding.ASCII.GetBytes(new string('e', StreamStatus.MaxLineLength + 10)));
            a.Shutdown(SocketShutdown.Send);

            Assert.Null(await StreamStatus.ReadAsync(b, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }
    }
}
