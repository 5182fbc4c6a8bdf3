// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Cocoon.Vsock;
using Xunit.Abstractions;

namespace Cocoon.EndToEnd.Tests.Vsock;

/// <summary>The vhost-user-vsock device behind real QEMU: bulk transfer both ways, refusals, concurrency.</summary>
public sealed partial class VsockDeviceTests(VsockDeviceFixture fixture, ITestOutputHelper output) : IClassFixture<VsockDeviceFixture>
{
    private static readonly TimeSpan Timeout = VsockDeviceFixture.CommandTimeout;

    public static TheoryData<int> Sizes => new() { 1, 4 * 1024, 64 * 1024, 1024 * 1024, 64 * 1024 * 1024 };

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task HostToGuest_Payload_GuestHashMatches(int size)
    {
        // Arrange
        var port = (uint)(7000 + BitOperations(size));
        var data = RandomNumberGenerator.GetBytes(size);
        await fixture.RunGuestAsync($"socat -u VSOCK-LISTEN:{port},reuseaddr SYSTEM:'sha256sum > /tmp/h{port}' </dev/null >/dev/null 2>&1 &");
        var started = System.Diagnostics.Stopwatch.StartNew();

        // Act
        using (var socket = await fixture.ConnectWithRetryAsync(port))
        {
            await socket.SendAsync(data).WaitAsync(Timeout);
            socket.Shutdown(SocketShutdown.Send);
            await VsockDeviceFixture.ReadToEndAsync(socket);
        }

        var guest = await fixture.RunGuestAsync($"while [ ! -s /tmp/h{port} ]; do sleep 0.1; done; cat /tmp/h{port}; rm /tmp/h{port}");
        output.WriteLine($"{size} bytes host->guest in {started.ElapsedMilliseconds} ms");

        // Assert
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), FirstHash(guest));
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public async Task GuestToHost_Payload_HostHashMatches(int size)
    {
        // Arrange
        var path = fixture.UdsPath + "_" + VsockDeviceFixture.AllowedHostPort.ToString(CultureInfo.InvariantCulture);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            listener.Listen();
            var receiving = Task.Run(async () =>
            {
                using var connection = await listener.AcceptAsync();
                return await VsockDeviceFixture.ReadToEndAsync(connection);
            });
            var started = System.Diagnostics.Stopwatch.StartNew();

            // Act
            var guest = await fixture.RunGuestAsync(
                $"rm -f /tmp/p; mkfifo /tmp/p; sha256sum /tmp/p & head -c {size} /dev/urandom | tee /tmp/p | socat -u - VSOCK-CONNECT:2:{VsockDeviceFixture.AllowedHostPort}; echo rc=$?; wait; rm /tmp/p");
            var received = await receiving.WaitAsync(Timeout);
            output.WriteLine($"{size} bytes guest->host in {started.ElapsedMilliseconds} ms");

            // Assert
            Assert.True(guest.Contains("rc=0", StringComparison.Ordinal), $"guest output '{guest}', host got {received.Length} bytes\n{fixture.Vm.Describe()}");
            Assert.Equal(size, received.Length);
            Assert.Equal(FirstHash(guest), Convert.ToHexStringLower(SHA256.HashData(received)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task HostConnect_PortWithoutListener_ThrowsUnavailable()
    {
        // Act
        var ex = await Assert.ThrowsAsync<CocoonException>(() => HybridVsock.ConnectAsync(fixture.UdsPath, 5999).WaitAsync(Timeout));

        // Assert
        Assert.Equal(CocoonErrorCode.Unavailable, ex.Code);
    }

    [Fact]
    public async Task GuestConnect_DisallowedHostPort_RefusedWhileAllowedPortReachesItsListener()
    {
        // Arrange: a host listener on both ports, so only the allow list tells them apart.
        const uint disallowedPort = VsockDeviceFixture.AllowedHostPort + 1;
        var allowedPath = fixture.UdsPath + "_" + VsockDeviceFixture.AllowedHostPort.ToString(CultureInfo.InvariantCulture);
        var disallowedPath = fixture.UdsPath + "_" + disallowedPort.ToString(CultureInfo.InvariantCulture);
        using var allowed = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using var disallowed = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        allowed.Bind(new UnixDomainSocketEndPoint(allowedPath));
        disallowed.Bind(new UnixDomainSocketEndPoint(disallowedPath));
        try
        {
            allowed.Listen();
            disallowed.Listen();
            var received = Task.Run(async () =>
            {
                using var connection = await allowed.AcceptAsync();
                return Encoding.ASCII.GetString(await VsockDeviceFixture.ReadToEndAsync(connection));
            });
            var sneakedIn = disallowed.AcceptAsync();

            // Act: the positive control first, then the same command on the other port.
            var control = await fixture.RunGuestAsync($"echo -n ping | socat -t 5 - VSOCK-CONNECT:2:{VsockDeviceFixture.AllowedHostPort}; echo rc=$?");
            var guest = await fixture.RunGuestAsync($"echo -n ping | socat -t 5 - VSOCK-CONNECT:2:{disallowedPort}; echo rc=$?");

            // Assert
            Assert.Contains("rc=0", control, StringComparison.Ordinal);
            Assert.Equal("ping", await received.WaitAsync(Timeout));
            Assert.Matches("rc=[1-9]", guest);
            Assert.False(sneakedIn.IsCompleted, "the disallowed port's host listener accepted a connection");
        }
        finally
        {
            File.Delete(allowedPath);
            File.Delete(disallowedPath);
        }
    }

    [Fact]
    public async Task HostConnect_64ConcurrentEchoes_EachGetsItsOwnPayload()
    {
        // Arrange
        const uint port = 7100;
        // -t 30: socat ends a connection 0.5 s after the host's EOF by default, which under load can
        // come before cat has echoed anything.
        await fixture.RunGuestAsync($"socat -t 30 VSOCK-LISTEN:{port},fork,reuseaddr,backlog=128 EXEC:cat </dev/null >/dev/null 2>&1 &");
        (await fixture.ConnectWithRetryAsync(port)).Dispose();

        // Act
        var echoes = await Task.WhenAll(Enumerable.Range(0, 64).Select(async i =>
        {
            var payload = Encoding.ASCII.GetBytes($"payload-{i}-" + new string((char)('a' + (i % 26)), 100 + i));
            using var socket = await HybridVsock.ConnectAsync(fixture.UdsPath, port).WaitAsync(Timeout);
            await socket.SendAsync(payload).WaitAsync(Timeout);
            socket.Shutdown(SocketShutdown.Send);
            return (payload, echo: await VsockDeviceFixture.ReadToEndAsync(socket));
        })).WaitAsync(Timeout);

        // Assert
        Assert.All(echoes, e => Assert.Equal(e.payload, e.echo));
    }

    [Fact]
    public async Task HostShutsDownSend_GuestSeesEofThenReplies_HostGetsWholeReplyThenEof()
    {
        // Arrange: the guest hashes what it reads until EOF, then answers; -t keeps socat's
        // guest->host direction open after the host's EOF for as long as the answer takes.
        const uint port = 7200;
        const int replySize = (1024 * 1024) + 7;
        var data = RandomNumberGenerator.GetBytes((256 * 1024) + 3);
        await fixture.RunGuestAsync(
            $"rm -f /tmp/hc-in /tmp/hc-out; socat -t 60 VSOCK-LISTEN:{port},reuseaddr SYSTEM:'sha256sum > /tmp/hc-in; head -c {replySize} /dev/urandom > /tmp/hc-out; cat /tmp/hc-out' </dev/null >/dev/null 2>&1 &");

        // Act
        byte[] reply;
        using (var socket = await fixture.ConnectWithRetryAsync(port))
        {
            await socket.SendAsync(data).WaitAsync(Timeout);
            socket.Shutdown(SocketShutdown.Send);
            reply = await VsockDeviceFixture.ReadToEndAsync(socket);
        }

        var guest = await fixture.RunGuestAsync("cat /tmp/hc-in; sha256sum /tmp/hc-out; rm -f /tmp/hc-in /tmp/hc-out");

        // Assert: the guest read exactly the host's bytes up to EOF, and all it sent afterwards arrived.
        var hashes = Hashes(guest);
        Assert.True(hashes.Count == 2, $"guest output '{guest}', host got {reply.Length} bytes\n{fixture.Vm.Describe()}");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), hashes[0]);
        Assert.Equal(replySize, reply.Length);
        Assert.Equal(hashes[1], Convert.ToHexStringLower(SHA256.HashData(reply)));
    }

    [Fact]
    public async Task GuestShutsDownSend_HostReadsEofThenReplies_GuestGetsWholeReply()
    {
        // Arrange
        const int size = (256 * 1024) + 5;
        const int replySize = (1024 * 1024) + 11;
        var reply = RandomNumberGenerator.GetBytes(replySize);
        var path = fixture.UdsPath + "_" + VsockDeviceFixture.AllowedHostPort.ToString(CultureInfo.InvariantCulture);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            listener.Listen();
            var host = Task.Run(async () =>
            {
                using var connection = await listener.AcceptAsync().WaitAsync(Timeout);
                var received = await VsockDeviceFixture.ReadToEndAsync(connection);
                await connection.SendAsync(reply).WaitAsync(Timeout);
                connection.Shutdown(SocketShutdown.Send);
                var afterReply = await VsockDeviceFixture.ReadToEndAsync(connection);
                return (received, afterReply);
            });

            // Act: socat sends the file, shuts down its write side at the file's EOF (shut-down) and
            // keeps reading the host's answer into /tmp/hc-gin.
            var guest = await fixture.RunGuestAsync(
                $"head -c {size} /dev/urandom > /tmp/hc-gout; sha256sum /tmp/hc-gout; socat -t 60 - VSOCK-CONNECT:2:{VsockDeviceFixture.AllowedHostPort},shut-down < /tmp/hc-gout > /tmp/hc-gin; echo rc=$?; sha256sum /tmp/hc-gin; rm -f /tmp/hc-gout /tmp/hc-gin");
            var (received, afterReply) = await host.WaitAsync(Timeout);

            // Assert
            var hashes = Hashes(guest);
            Assert.True(guest.Contains("rc=0", StringComparison.Ordinal) && hashes.Count == 2, $"guest output '{guest}', host got {received.Length} bytes\n{fixture.Vm.Describe()}");
            Assert.Equal(size, received.Length);
            Assert.Equal(hashes[0], Convert.ToHexStringLower(SHA256.HashData(received)));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(reply)), hashes[1]);
            Assert.Empty(afterReply);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int BitOperations(int size) => System.Numerics.BitOperations.Log2((uint)size);

    private static string FirstHash(string text)
    {
        var match = HashPattern().Match(text);
        Assert.True(match.Success, $"no SHA-256 in guest output: {text}");
        return match.Value;
    }

    private static List<string> Hashes(string text) => [.. HashPattern().Matches(text).Select(m => m.Value)];

    [GeneratedRegex("[0-9a-f]{64}")]
    private static partial Regex HashPattern();
}
