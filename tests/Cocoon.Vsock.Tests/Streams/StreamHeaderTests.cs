// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;

namespace Cocoon.Vsock.Streams.Tests;

public sealed class StreamHeaderTests
{
    public static TheoryData<StreamRequest> Requests => new()
    {
        new DialRequest(DialNetwork.Tcp, 80),
        new DialRequest(DialNetwork.Udp, 65535, "::1"),
        new DialRequest(DialNetwork.Tcp, 1, "10.0.2.15", "web-1"),
        new DialRequest(DialNetwork.Tcp, 8080, "localhost", new string('c', Protocol.ContainerName.MaxLength)),
        new ConnectRequest("/run/app.sock"),
        new ConnectRequest("/var/run/docker.sock", "web-1"),
        new ConnectRequest("/" + new string('s', 106)),
        new ConnectRequest("/tmp/ünïcode.sock", new string('c', Protocol.ContainerName.MaxLength)),
        new AcceptRequest("00112233445566778899aabbccddeeff"),
        new AcceptRequest("00112233445566778899aabbccddeeff", Refuse: true),
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public void Encode_ThenParse_RoundTrips(StreamRequest request)
    {
        var bytes = StreamHeader.Encode(request);

        var result = StreamHeader.TryParse(bytes, out var parsed, out var needed, out var error);

        Assert.Equal(StreamHeaderParse.Complete, result);
        Assert.Null(error);
        Assert.Equal(bytes.Length, needed);
        Assert.Equal(request, parsed);
    }

    [Fact]
    public void TryParse_EveryPrefix_NeedsMoreAndSaysHowMuch()
    {
        var bytes = StreamHeader.Encode(new DialRequest(DialNetwork.Tcp, 443, "127.0.0.1", "db"));

        for (var length = 0; length < bytes.Length; length++)
        {
            var result = StreamHeader.TryParse(bytes.AsSpan(0, length), out var parsed, out var needed, out _);

            Assert.Equal(StreamHeaderParse.NeedMore, result);
            Assert.Null(parsed);
            Assert.True(needed > length && needed <= bytes.Length, $"prefix {length}: needed {needed}");
        }
    }

    [Fact]
    public void TryParse_TrailingBytesAfterHeader_AreNotPartOfIt()
    {
        var bytes = StreamHeader.Encode(new DialRequest(DialNetwork.Tcp, 80));
        var withData = bytes.Concat("GET / HTTP/1.0\r\n"u8.ToArray()).ToArray();

        var result = StreamHeader.TryParse(withData, out _, out var needed, out _);

        Assert.Equal(StreamHeaderParse.Complete, result);
        Assert.Equal(bytes.Length, needed);
    }

    public static TheoryData<string, byte[], StreamStatusCode> Hostile => new()
    {
        { "bad magic", [(byte)'X', (byte)'S', 1, 1, 0, 0], StreamStatusCode.BadHeader },
        { "bad second magic byte", [(byte)'C', 0], StreamStatusCode.BadHeader },
        { "future version", [(byte)'C', (byte)'S', 2, 1, 0, 5], StreamStatusCode.BadHeader },
        { "body too long", [(byte)'C', (byte)'S', 1, 1, 0xff, 0xff], StreamStatusCode.BadHeader },
        { "unknown kind", [(byte)'C', (byte)'S', 1, 99, 0, 0], StreamStatusCode.BadHeader },
        { "connect with empty body", [(byte)'C', (byte)'S', 1, 2, 0, 0], StreamStatusCode.BadHeader },
        { "short dial body", [(byte)'C', (byte)'S', 1, 1, 0, 3, 1, 0, 80], StreamStatusCode.BadHeader },
        { "address runs past body", [(byte)'C', (byte)'S', 1, 1, 0, 5, 1, 0, 80, 9, 0], StreamStatusCode.BadHeader },
        { "container length missing", [(byte)'C', (byte)'S', 1, 1, 0, 5, 1, 0, 80, 1, (byte)'x'], StreamStatusCode.BadHeader },
        { "trailing body bytes", [(byte)'C', (byte)'S', 1, 1, 0, 6, 1, 0, 80, 0, 0, 7], StreamStatusCode.BadHeader },
        { "network 3", [(byte)'C', (byte)'S', 1, 1, 0, 5, 3, 0, 80, 0, 0], StreamStatusCode.BadNetwork },
        { "network 0", [(byte)'C', (byte)'S', 1, 1, 0, 5, 0, 0, 80, 0, 0], StreamStatusCode.BadNetwork },
        { "port 0", [(byte)'C', (byte)'S', 1, 1, 0, 5, 1, 0, 0, 0, 0], StreamStatusCode.BadPort },
        { "address not an IP", [(byte)'C', (byte)'S', 1, 1, 0, 8, 1, 0, 80, 3, (byte)'a', (byte)'.', (byte)'b', 0], StreamStatusCode.BadAddress },
        { "address invalid UTF-8", [(byte)'C', (byte)'S', 1, 1, 0, 7, 1, 0, 80, 2, 0xc3, 0x28, 0], StreamStatusCode.BadHeader },
        { "container with slash", [(byte)'C', (byte)'S', 1, 1, 0, 8, 1, 0, 80, 0, 3, (byte)'.', (byte)'/', (byte)'x'], StreamStatusCode.UnknownContainer },
        { "container with newline", [(byte)'C', (byte)'S', 1, 1, 0, 6, 1, 0, 80, 0, 1, (byte)'\n'], StreamStatusCode.UnknownContainer },
        { "connect short body", [(byte)'C', (byte)'S', 1, 2, 0, 2, 0, 1], StreamStatusCode.BadHeader },
        { "connect path runs past body", [(byte)'C', (byte)'S', 1, 2, 0, 4, 0, 9, (byte)'/', 0], StreamStatusCode.BadHeader },
        { "connect relative path", [(byte)'C', (byte)'S', 1, 2, 0, 4, 0, 1, (byte)'a', 0], StreamStatusCode.BadPath },
        { "connect empty path", [(byte)'C', (byte)'S', 1, 2, 0, 3, 0, 0, 0], StreamStatusCode.BadPath },
        { "connect NUL in path", [(byte)'C', (byte)'S', 1, 2, 0, 5, 0, 2, (byte)'/', 0, 0], StreamStatusCode.BadPath },
        { "connect path invalid UTF-8", [(byte)'C', (byte)'S', 1, 2, 0, 5, 0, 2, 0xc3, 0x28, 0], StreamStatusCode.BadHeader },
        { "connect trailing bytes", [(byte)'C', (byte)'S', 1, 2, 0, 5, 0, 1, (byte)'/', 0, 7], StreamStatusCode.BadHeader },
        { "connect container with slash", [(byte)'C', (byte)'S', 1, 2, 0, 6, 0, 1, (byte)'/', 2, (byte)'.', (byte)'/'], StreamStatusCode.UnknownContainer },
        { "accept empty body", [(byte)'C', (byte)'S', 1, 3, 0, 0], StreamStatusCode.BadHeader },
        { "accept short token", [(byte)'C', (byte)'S', 1, 3, 0, 3, 1, (byte)'a', 1], StreamStatusCode.BadHeader },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void TryParse_HostileInput_InvalidWithCode(string name, byte[] input, StreamStatusCode code)
    {
        var result = StreamHeader.TryParse(input, out var parsed, out _, out var error);

        Assert.True(result == StreamHeaderParse.Invalid, name);
        Assert.Null(parsed);
        Assert.Equal(code, error!.Code);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData(0, "port")]
    [InlineData(65536, "port")]
    [InlineData(-1, "port")]
    public void Encode_BadPort_ThrowsNamingPort(int port, string field)
    {
        var ex = Assert.Throws<StreamException>(() => StreamHeader.Encode(new DialRequest(DialNetwork.Tcp, port)));

        Assert.Equal(StreamStatusCode.BadPort, ex.Status);
        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_BadNetworkOrAddress_ThrowsNamingField()
    {
        var network = Assert.Throws<StreamException>(() => StreamHeader.Encode(new DialRequest((DialNetwork)7, 80)));
        var address = Assert.Throws<StreamException>(() => StreamHeader.Encode(new DialRequest(DialNetwork.Tcp, 80, "example.com")));

        Assert.Equal(StreamStatusCode.BadNetwork, network.Status);
        Assert.Equal(StreamStatusCode.BadAddress, address.Status);
        Assert.Contains("network", network.Message, StringComparison.Ordinal);
        Assert.Contains("example.com", address.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_HeaderThenData_ConsumesOnlyTheHeader()
    {
        var (a, b) = SocketPair();
        using (a)
        using (b)
        {
            var header = StreamHeader.Encode(new DialRequest(DialNetwork.Udp, 53, "::1"));
            await a.SendAsync(header.Concat("after"u8.ToArray()).ToArray());

            var (request, error) = await StreamHeader.ReadAsync(b, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            var rest = new byte[5];
            await b.ReceiveAsync(rest).WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Null(error);
            Assert.Equal(new DialRequest(DialNetwork.Udp, 53, "::1"), request);
            Assert.Equal("after"u8.ToArray(), rest);
        }
    }

    [Fact]
    public async Task ReadAsync_PeerClosesMidHeader_BadHeader()
    {
        var (a, b) = SocketPair();
        using (a)
        using (b)
        {
            await a.SendAsync(StreamHeader.Encode(new DialRequest(DialNetwork.Tcp, 80)).AsMemory(0, 7));
            a.Shutdown(SocketShutdown.Send);

            var (request, error) = await StreamHeader.ReadAsync(b, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Null(request);
            Assert.Equal(StreamStatusCode.BadHeader, error!.Code);
        }
    }

    /// <summary>
    /// Mutates valid headers at random (bit flips, byte overwrites, truncation, extension, random
    /// bytes): the parser must never throw, never claim more than it was given, and whatever it
    /// accepts must re-encode to the very bytes it consumed. COCOON_FUZZ_SEED replays a run.
    /// </summary>
    [Fact]
    public void TryParse_Fuzz_NeverThrowsAndAcceptsOnlyCanonicalHeaders()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("COCOON_FUZZ_SEED"), out var s) ? s : 20261201;
        var random = new Random(seed);
        var seeds = new[]
        {
            StreamHeader.Encode(new DialRequest(DialNetwork.Tcp, 80)),
            StreamHeader.Encode(new DialRequest(DialNetwork.Udp, 5353, "fe80::1", "c")),
            StreamHeader.Encode(new DialRequest(DialNetwork.Tcp, 65535, "255.255.255.255", "a.b_c-d")),
            StreamHeader.Encode(new ConnectRequest("/run/app.sock", "web")),
            StreamHeader.Encode(new AcceptRequest("0123456789abcdef0123456789abcdef")),
        };
        var accepted = 0;
        for (var iteration = 0; iteration < 200_000; iteration++)
        {
            var input = Mutate(random, seeds[random.Next(seeds.Length)]);
            StreamHeaderParse result;
            StreamRequest? parsed;
            int needed;
            StreamStatus? error;
            try
            {
                result = StreamHeader.TryParse(input, out parsed, out needed, out error);
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed}, iteration {iteration}, input {Convert.ToHexString(input)}: threw {ex}");
                return;
            }

            switch (result)
            {
                case StreamHeaderParse.Complete:
                    accepted++;
                    Assert.True(needed <= input.Length, $"seed {seed}, iteration {iteration}: needed {needed} > {input.Length}");
                    Assert.Equal(input.AsSpan(0, needed).ToArray(), StreamHeader.Encode(parsed!));
                    break;
                case StreamHeaderParse.NeedMore:
                    Assert.True(needed > input.Length && needed <= StreamHeader.PrefixLength + StreamHeader.MaxBodyLength, $"seed {seed}, iteration {iteration}: needed {needed}");
                    break;
                default:
                    Assert.NotNull(error);
                    Assert.True(error.Encode().Length <= StreamStatus.MaxLineLength);
                    break;
            }
        }

        Assert.True(accepted > 0, $"seed {seed}: no mutated header was accepted; the fuzzer explores nothing valid");
    }

    private static byte[] Mutate(Random random, byte[] source)
    {
        var bytes = new List<byte>(source);
        var steps = random.Next(1, 4);
        for (var i = 0; i < steps; i++)
        {
            switch (random.Next(6))
            {
                case 0 when bytes.Count > 0:
                    var at = random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveRange(random.Next(bytes.Count), 1);
                    break;
                case 3:
                    bytes.Insert(random.Next(bytes.Count + 1), (byte)random.Next(256));
                    break;
                case 4:
                    bytes = bytes.Take(random.Next(bytes.Count + 1)).ToList();
                    break;
                default:
                    var junk = new byte[random.Next(1, 16)];
                    random.NextBytes(junk);
                    bytes.AddRange(junk);
                    break;
            }
        }

        return [.. bytes];
    }

    internal static (Socket A, Socket B) SocketPair()
    {
        var directory = Directory.CreateTempSubdirectory("cocoon-pair-");
        var path = Path.Combine(directory.FullName, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var a = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        a.Connect(new UnixDomainSocketEndPoint(path));
        var b = listener.Accept();
        directory.Delete(recursive: true);
        return (a, b);
    }
}
