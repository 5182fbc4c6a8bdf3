// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.EndToEnd.Tests.Forwarding;

/// <summary>
/// Two real boxes started with the CLI: <c>net</c> on the default user-mode network, with socat in
/// the guest serving a UDP echo on 7001 (busybox has no UDP server), and <c>nonet</c> started with
/// <c>--network none</c>.
/// </summary>
public sealed class NetworkBoxFixture : IAsyncLifetime
{
    public const int UdpEchoPort = 7001;

    internal Boxes.BoxTestEnvironment Environment { get; } = new();

    public Box Box { get; private set; } = null!;

    public Box Isolated { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Environment.Environment["COCOON_GUEST_EXTRA_EXECUTABLES"] = "/usr/bin/socat";
        foreach (var create in new[] { new[] { "create", "--name", "net" }, ["create", "--name", "nonet", "--network", "none"] })
        {
            var created = await Environment.CocoonAsync(create);
            Assert.True(created.ExitCode == 0, created.Stderr);
            var started = await Environment.CocoonAsync("start", create[2]);
            Assert.True(started.ExitCode == 0, started.Stderr);
        }

        var runtime = Environment.CreateRuntime();
        Box = runtime.GetBox("net");
        Isolated = runtime.GetBox("nonet");

        // Each datagram is answered by its own child; -T ends a child once its peer is quiet.
        var echo = await Box.RunAsync(["sh", "-c", $"socat -T 5 UDP4-RECVFROM:{UdpEchoPort},fork PIPE </dev/null >/dev/null 2>&1 & " +
            $"for i in $(seq 300); do netstat -lun | grep -q ':{UdpEchoPort} ' && exit 0; sleep 0.1; done; exit 1"]).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(echo.ExitCode == 0, "the UDP echo server did not start: " + echo.Stderr);
    }

    public async Task DisposeAsync()
    {
        foreach (var box in new[] { Box, Isolated })
        {
            if (box is not null)
            {
                await box.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            }
        }

        await Environment.DisposeAsync();
    }
}
