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
    public async Task GuestConnect_DisallowedHostPort_Fails()
    {
        // Act
        var guest = await fixture.RunGuestAsync("echo -n ping | socat -t 5 - VSOCK-CONNECT:2:6001; echo rc=$?");

        // Assert
        Assert.DoesNotContain("rc=0", guest, StringComparison.Ordinal);
        Assert.Contains("rc=", guest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostConnect_64ConcurrentEchoes_EachGetsItsOwnPayload()
    {
        // Arrange
        const uint port = 7100;
        await fixture.RunGuestAsync($"socat VSOCK-LISTEN:{port},fork,reuseaddr,backlog=128 EXEC:cat </dev/null >/dev/null 2>&1 &");
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

    private static int BitOperations(int size) => System.Numerics.BitOperations.Log2((uint)size);

    private static string FirstHash(string text)
    {
        var match = HashPattern().Match(text);
        Assert.True(match.Success, $"no SHA-256 in guest output: {text}");
        return match.Value;
    }

    [GeneratedRegex("[0-9a-f]{64}")]
    private static partial Regex HashPattern();
}
