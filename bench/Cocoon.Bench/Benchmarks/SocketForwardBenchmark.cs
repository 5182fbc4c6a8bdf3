// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.Guest;
using Cocoon.State;
using Cocoon.Supervisor;
using Cocoon.Vmm;
using Cocoon.Vsock;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// <c>cocoon socket-forward</c> against the usual workaround, a socat relay in the guest from a vsock
/// port to the UNIX socket reached through the box's hybrid vsock socket, into the same box and the
/// same guest servers, in the same run.
/// </summary>
/// <remarks>
/// One ordinary box (created and started by the published CLI, with socat in the guest). Guest
/// servers, socat on UNIX sockets (a process per connection, the same for both paths):
/// <code>
///   /run/sink.sock    reads to end of input
///   /run/source.sock  writes 256 MiB, closes
///   /run/echo.sock    cat
///
///   socat relay:     client -> vsock.sock (CONNECT 600x) -> guest socat VSOCK-LISTEN:600x,fork -> UNIX socket
///   socket-forward:  client -> HOST.sock (cocoon socket-forward process) -> vsock.sock -> agent -> UNIX socket
/// </code>
/// The measurement is <see cref="StreamPaths"/>: 256 MiB each way per round, 1,000 short connections.
///
/// Into the box (a host socket seen in the box), the same three services run on the host
/// (<see cref="HostSocketServices"/>, one set per path, timed on the host where the bytes arrive) and
/// a guest client (socat, dd) reaches them:
/// <code>
///   socat relay:     guest client -> /run/relay-X.sock (guest socat, fork per connection) -> vsock CID 2 port 700x
///                    -> the box's vsock.sock_700x, linked to the host socket (--vsock-port)
///   socket-forward:  guest client -> /run/fwd-X.sock (agent listener) -> announce -> supervisor -> host socket
/// </code>
/// The connect figure is the median gap between accepts of 1,000 sequential guest clients: each gap
/// is one client's whole life (a socat process start, connect, one byte each way, close), the same
/// process cost on both paths, so the ratio understates the relay's extra hop.
/// </remarks>
internal sealed class SocketForwardBenchmark : IBenchmark
{
    private const string BoxName = "sf";
    private const long Bytes = 256L << 20;
    private const int Rounds = 3;
    private const int Connections = 1000;
    private static readonly string[] Services = ["sink", "source", "echo"];

    public string Name => "socket-forward";

    public string Description => "socket forwards out of and into a box vs a socat relay over hybrid vsock: 256 MiB each way and 1,000 short connections (goal >= 1.5x / >= 2x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        System.Diagnostics.Process? forwarder = null;
        try
        {
            var environment = new Dictionary<string, string> { [AgentImage.ExtraExecutablesVariable] = "/usr/bin/socat" };
            var relayDirectory = Directory.CreateDirectory(Path.Combine(home, "r")).FullName;
            var forwardDirectory = Directory.CreateDirectory(Path.Combine(home, "f")).FullName;
            string[] relayPorts = [.. Services.Select((s, i) => string.Create(CultureInfo.InvariantCulture, $"{7000 + i}:{Path.Combine(relayDirectory, s + ".sock")}"))];
            await BenchSupport.RunCheckedAsync(cli, ["create", "--name", BoxName, .. relayPorts.SelectMany(p => new[] { "--vsock-port", p })], home, TimeSpan.FromSeconds(60), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["start", BoxName], home, TimeSpan.FromSeconds(180), cancellationToken, environment);
            var paths = new CocoonPaths(home);
            var choice = await AcceleratorProbe.ChooseAsync(new QemuOptions().QemuPath, KernelLocator.FindDefault().KernelPath, paths.GuestCacheDirectory, cancellationToken: cancellationToken);
            output.WriteLine($"accelerator: {choice.Accelerator} ({choice.Reason})");

            // Servers on UNIX sockets, and the baseline's relays from vsock ports 6000-6002 to them.
            var setup = string.Create(CultureInfo.InvariantCulture, $$"""
                set -e
                printf '#!/bin/sh\nexec cat >/dev/null\n' > /tmp/sink; printf '#!/bin/sh\nexec dd if=/dev/zero bs=65536 count={{Bytes / 65536}} 2>/dev/null\n' > /tmp/source
                chmod +x /tmp/sink /tmp/source
                socat -b65536 UNIX-LISTEN:/run/sink.sock,fork EXEC:/tmp/sink </dev/null >/dev/null 2>&1 &
                socat -b65536 UNIX-LISTEN:/run/source.sock,fork EXEC:/tmp/source </dev/null >/dev/null 2>&1 &
                socat -b65536 UNIX-LISTEN:/run/echo.sock,fork EXEC:cat </dev/null >/dev/null 2>&1 &
                socat -b65536 VSOCK-LISTEN:6000,reuseaddr,fork UNIX-CONNECT:/run/sink.sock </dev/null >/dev/null 2>&1 &
                socat -b65536 VSOCK-LISTEN:6001,reuseaddr,fork UNIX-CONNECT:/run/source.sock </dev/null >/dev/null 2>&1 &
                socat -b65536 VSOCK-LISTEN:6002,reuseaddr,fork UNIX-CONNECT:/run/echo.sock </dev/null >/dev/null 2>&1 &
                for s in sink source echo; do for i in $(seq 300); do [ -S /run/$s.sock ] && break; sleep 0.1; done; done
                sleep 1
                """);
            await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "sh", "-c", setup], home, TimeSpan.FromSeconds(120), cancellationToken);

            var hostSockets = Services.Select(s => Path.Combine(home, s + ".sock")).ToArray();
            forwarder = BenchSupport.Start(cli, ["socket-forward", BoxName, .. Services.Select((s, i) => $"{hostSockets[i]}:/run/{s}.sock")], home);
            for (var i = 0; i < Services.Length; i++)
            {
                _ = await forwarder.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), cancellationToken)
                    ?? throw new InvalidOperationException("cocoon socket-forward ended: " + await forwarder.StandardError.ReadToEndAsync(cancellationToken));
            }

            var vsock = paths.VsockSocket(BoxName);
            var streamPaths = new StreamPath[]
            {
                new("socat relay", service => HybridVsock.ConnectAsync(vsock, (uint)(6000 + service), cancellationToken)),
                new("socket-forward", service => ConnectUnixAsync(hostSockets[service], cancellationToken)),
            };
            output.WriteLine("paths: socat relay = client -> vsock.sock CONNECT -> guest socat (fork per connection) -> UNIX socket; socket-forward = client -> cocoon socket-forward -> vsock -> agent -> UNIX socket");
            var results = await StreamPaths.MeasureAsync(streamPaths, (0, 1, 2), Bytes, Rounds, Connections, cancellationToken);
            results.Print(output, streamPaths);
            output.WriteLine(Report.Figure("socket-forward-throughput", results.Rate("socket-forward") / results.Rate("socat relay"), "x", ">=", 1.5));
            output.WriteLine(Report.Figure("socket-forward-connect-p50", results.P50("socat relay") / results.P50("socket-forward"), "x", ">=", 2));

            await MeasureIntoBoxAsync(output, cli, home, relayDirectory, forwardDirectory, cancellationToken);
        }
        finally
        {
            BenchSupport.KillAndDispose(forwarder);

            await BenchSupport.RemoveBoxAndCleanUpAsync(cli, BoxName, home, output);
        }
    }

    /// <summary>Into the box: the guest's clients reach host services through a socat relay over vsock and through socket forwards.</summary>
    private static async Task MeasureIntoBoxAsync(TextWriter output, string cli, string home, string relayDirectory, string forwardDirectory, CancellationToken cancellationToken)
    {
        using var relayed = new HostSocketServices(relayDirectory, Bytes);
        using var forwarded = new HostSocketServices(forwardDirectory, Bytes);
        var runtime = new CocoonRuntime(new CocoonRuntimeOptions { StateRoot = home, CocoonPath = cli });
        await using var box = runtime.GetBox(BoxName);
        foreach (var (service, hostPath) in new[] { ("sink", forwarded.Sink), ("source", forwarded.Source), ("echo", forwarded.Echo) })
        {
            await box.AddSocketForwardAsync(SocketForwardDirection.In, hostPath, $"/run/fwd-{service}.sock", cancellationToken: cancellationToken);
        }

        var relays = string.Join('\n', Services.Select((s, i) => string.Create(CultureInfo.InvariantCulture,
            $"socat -b65536 UNIX-LISTEN:/run/relay-{s}.sock,fork VSOCK-CONNECT:2:{7000 + i} </dev/null >/dev/null 2>&1 &"))) +
            "\nfor s in sink source echo; do for i in $(seq 300); do [ -S /run/relay-$s.sock ] && break; sleep 0.1; done; done";
        await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "sh", "-c", relays], home, TimeSpan.FromSeconds(120), cancellationToken);

        // One guest client per transfer; the host times it where the bytes arrive. A warm-up round is not counted.
        var blocks = Bytes / 65536;
        string[] paths = ["relay", "fwd"];
        for (var round = 0; round <= Rounds; round++)
        {
            foreach (var path in paths)
            {
                var count = round == 0 ? 16 : blocks;
                var transfer = string.Create(CultureInfo.InvariantCulture,
                    $"dd if=/dev/zero bs=65536 count={count} 2>/dev/null | socat -b65536 -u - UNIX-CONNECT:/run/{path}-sink.sock && socat -b65536 -u UNIX-CONNECT:/run/{path}-source.sock - >/dev/null");
                await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "sh", "-c", transfer], home, TimeSpan.FromSeconds(600), cancellationToken);
            }
        }

        // 1,000 sequential clients per path, in four alternating batches.
        const int Batch = Connections / 4;
        var gapsFrom = new Dictionary<string, int> { ["relay"] = relayed.EchoAccepts.Count, ["fwd"] = forwarded.EchoAccepts.Count };
        for (var batch = 0; batch < 4; batch++)
        {
            foreach (var path in paths)
            {
                var clients = string.Create(CultureInfo.InvariantCulture, $"for i in $(seq {Batch}); do echo x | socat - UNIX-CONNECT:/run/{path}-echo.sock; done >/dev/null");
                await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "sh", "-c", clients], home, TimeSpan.FromSeconds(600), cancellationToken);
            }
        }

        double Rate(HostSocketServices services) => Report.Median([.. services.Uploads.Skip(1).Zip(services.Downloads.Skip(1), (up, down) => 2.0 * Bytes / (1 << 20) / (up.Seconds + down))]);
        foreach (var (name, services) in new[] { ("socat relay", relayed), ("socket-forward", forwarded) })
        {
            if (services.Uploads.Skip(1).Any(u => u.Bytes != Bytes) || services.Downloads.Count != Rounds + 1)
            {
                throw new InvalidOperationException($"into the box, {name}: a transfer did not deliver all {Bytes} bytes");
            }

            output.WriteLine($"into box {name,-15} throughput median {Report.Number(Rate(services))} MiB/s; accept gap p50 {Report.Number(services.MedianEchoGapMs(gapsFrom[name == "socat relay" ? "relay" : "fwd"]))}ms");
        }

        output.WriteLine(Report.Figure("socket-forward-in-throughput", Rate(forwarded) / Rate(relayed), "x", ">=", 1.5));
        output.WriteLine(Report.Figure("socket-forward-in-connect-p50", relayed.MedianEchoGapMs(gapsFrom["relay"]) / forwarded.MedianEchoGapMs(gapsFrom["fwd"]), "x", ">=", 2));
    }

    private static async Task<System.Net.Sockets.Socket> ConnectUnixAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
