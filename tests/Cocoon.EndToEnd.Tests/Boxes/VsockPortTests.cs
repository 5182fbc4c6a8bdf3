// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;

namespace Cocoon.EndToEnd.Tests.Boxes;

/// <summary>Guest-to-host vsock ports: a configured port reaches a host UNIX socket, others are refused.</summary>
public sealed class VsockPortTests
{
    [Fact]
    public async Task GuestConnect_ConfiguredPort_ReachesHostListenerAndOtherPortIsRefused()
    {
        await using var environment = new BoxTestEnvironment();
        // socat in the guest as the vsock client (busybox has none).
        environment.Environment["COCOON_GUEST_EXTRA_EXECUTABLES"] = "/usr/bin/socat";
        var socketPath = Path.Combine(environment.StateRoot, "app.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen();
        var serving = Task.Run(async () =>
        {
            using var connection = await listener.AcceptAsync();
            var buffer = new byte[64];
            var read = await connection.ReceiveAsync(buffer);
            var received = Encoding.ASCII.GetString(buffer, 0, read);
            await connection.SendAsync(Encoding.ASCII.GetBytes("pong:" + received));
            connection.Shutdown(SocketShutdown.Send);
            return received;
        });
        Assert.Equal(0, (await environment.CocoonAsync("create", "--name", "ports", "--vsock-port", "2000:" + socketPath)).ExitCode);
        var start = await environment.CocoonAsync("start", "ports");
        Assert.True(start.ExitCode == 0, start.Stderr);

        var allowed = await environment.CocoonAsync("exec", "ports", "sh", "-c", "echo -n ping | socat -t 5 - VSOCK-CONNECT:2:2000");
        var refused = await environment.CocoonAsync("exec", "ports", "sh", "-c", "echo -n ping | socat -t 5 - VSOCK-CONNECT:2:2001");

        Assert.Equal("ping", await serving.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.Equal("pong:ping", allowed.Stdout);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Connection", refused.Stderr, StringComparison.OrdinalIgnoreCase);
    }
}
