// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias cli;

using System.Net.Sockets;
using System.Security.Cryptography;
using cli::Cocoon.Cli.Commands;
using Cocoon.Protocol;
using Cocoon.Vsock.Streams;

using static Cocoon.Tests.Common.SocketBytes;

namespace Cocoon.Tests.Forwarding;

/// <summary>The host side of a socket forward out of a box, with the box's connect streams played by a local socket server.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SocketForwardTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("cocoon-sf-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Start_FreePath_OwnerOnlySocketRemovedOnDispose()
    {
        var path = Path.Combine(_directory.FullName, "app.sock");

        var forward = SocketForward.Start(NoBox, path, "/run/app.sock", null, null);
        var mode = File.GetUnixFileMode(path);
        await forward.DisposeAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        Assert.Empty(_directory.EnumerateFileSystemInfos()); // neither the socket nor a staging directory
    }

    [Fact]
    public async Task Connection_RelaysToWhatTheConnectStreamOpens()
    {
        var path = Path.Combine(_directory.FullName, "relay.sock");
        var requests = new List<StreamRequest>();
        await using var forward = SocketForward.Start(
            (request, cancellationToken) =>
            {
                requests.Add(request);
                var (mine, theirs) = Pair();
                _ = Task.Run(async () =>
                {
                    using (theirs)
                    {
                        var received = await ReadToEndAsync(theirs);
                        await theirs.SendAsync(SHA256.HashData(received));
                        theirs.Shutdown(SocketShutdown.Send);
                    }
                });
                return Task.FromResult(mine);
            },
            path,
            "/run/app.sock",
            null,
            null);
        var body = RandomNumberGenerator.GetBytes(300_000);

        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(Timeout);
        for (var sent = 0; sent < body.Length;)
        {
            sent += await client.SendAsync(body.AsMemory(sent));
        }

        client.Shutdown(SocketShutdown.Send);
        var answer = await ReadToEndAsync(client).WaitAsync(Timeout);

        Assert.Equal(SHA256.HashData(body), answer);
        Assert.Equal([new ConnectRequest("/run/app.sock")], requests);
    }

    [Fact]
    public void Start_RegularFileAtPath_AlreadyExistsAndLeftAlone()
    {
        var path = Path.Combine(_directory.FullName, "file");
        File.WriteAllText(path, "keep me");

        var ex = Assert.Throws<CocoonException>(() => SocketForward.Start(NoBox, path, "/run/app.sock", null, null));

        Assert.Equal(CocoonErrorCode.AlreadyExists, ex.Code);
        Assert.Contains("not a socket", ex.Message, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(path));
    }

    [Fact]
    public void Start_LiveSocketAtPath_AlreadyExists()
    {
        var path = Path.Combine(_directory.FullName, "live.sock");
        using var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(path));
        live.Listen();

        var ex = Assert.Throws<CocoonException>(() => SocketForward.Start(NoBox, path, "/run/app.sock", null, null));

        Assert.Equal(CocoonErrorCode.AlreadyExists, ex.Code);
        Assert.Contains("in use", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_StaleSocketAtPath_Replaced()
    {
        var path = Path.Combine(_directory.FullName, "stale.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path + ".tmp"));
            File.Move(path + ".tmp", path);
        }

        await using var forward = SocketForward.Start(NoBox, path, "/run/app.sock", null, null);

        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(Timeout);
    }

    [Theory]
    [InlineData("relative.sock", "/run/app.sock", "host socket path 'relative.sock' is not absolute")]
    [InlineData("/tmp/a\0b", "/run/app.sock", "NUL")]
    [InlineData("/tmp/ok.sock", "run/app.sock", "not absolute")]
    public void Start_BadPath_InvalidArgumentNamingIt(string hostPath, string boxPath, string message)
    {
        var ex = Assert.ThrowsAny<CocoonException>(() => SocketForward.Start(NoBox, hostPath, boxPath, null, null));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_HostPathOverSunPath_InvalidArgumentWithLength()
    {
        var path = "/tmp/" + new string('s', 103);

        var ex = Assert.ThrowsAny<CocoonException>(() => SocketForward.Start(NoBox, path, "/run/app.sock", null, null));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("108 bytes", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("/tmp/a.sock:/run/b.sock", "/tmp/a.sock", "/run/b.sock")]
    [InlineData("/tmp/odd:name.sock:/run/b.sock", "/tmp/odd:name.sock", "/run/b.sock")]
    public void Parse_HostAndBoxPath_SplitAtColonSlash(string value, string hostPath, string boxPath)
    {
        Assert.Equal((hostPath, boxPath), SocketForwardCommand.Parse(value));
    }

    [Theory]
    [InlineData("/tmp/a.sock")]
    [InlineData("a.sock:/run/b.sock")]
    [InlineData("/tmp/a.sock:run/b.sock")]
    public void Parse_NotTwoAbsolutePaths_InvalidArgumentNamingValue(string value)
    {
        var ex = Assert.Throws<CocoonException>(() => SocketForwardCommand.Parse(value));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForwardId_SameDestinationTwoContainers_Differ()
    {
        var a = ForwardId.Compute("c1", "/var/run/docker.sock");
        var b = ForwardId.Compute("c2", "/var/run/docker.sock");

        Assert.NotEqual(a, b);
        Assert.True(ForwardId.IsValid(a));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("c1:/var/run/docker.sock"u8)), a);
        Assert.False(ForwardId.IsValid(a.ToUpperInvariant()));
        Assert.False(ForwardId.IsValid("../" + a[3..]));
    }

    private static Task<Socket> NoBox(StreamRequest request, CancellationToken cancellationToken) =>
        Task.FromException<Socket>(new StreamException(StreamStatusCode.BoxNotRunning, "no box in this test"));

    private static (Socket Mine, Socket Theirs) Pair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen();
        var mine = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        mine.Connect(listener.LocalEndPoint!);
        return (mine, listener.Accept());
    }

}
