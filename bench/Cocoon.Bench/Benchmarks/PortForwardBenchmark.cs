// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Cocoon.Guest;
using Cocoon.State;
using Cocoon.Vmm;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// <c>cocoon port-forward</c> against QEMU user-mode networking's own <c>hostfwd</c>, into the same
/// box and the same guest servers, in the same run; the SDK's in-process <c>Box.DialAsync</c> beside them.
/// </summary>
/// <remarks>
/// One ordinary box (created and started by the published CLI, run by its supervisor). For the
/// baseline only, its supervisor gets <c>COCOON_BENCH_HOSTFWD</c>, which adds QEMU <c>hostfwd</c> rules
/// on host loopback to the box's user-mode netdev; boxes never get them otherwise. Guest servers,
/// busybox <c>nc -ll</c> (a process per connection, the same for every path):
/// <code>
///   5001 sink    reads to end of input      upload:   the host sends 256 MiB, half-closes, waits for the close
///   5002 source  writes 256 MiB, closes     download: the host reads to end, counting the bytes
///   5003 echo    cat                        connect:  connect, 1 byte out, 1 byte back, close (x1000)
///
///   hostfwd:       client -> 127.0.0.1:H (QEMU slirp) -> virtio-net -> guest TCP 10.0.2.15:500x
///   port-forward:  client -> 127.0.0.1:L (cocoon port-forward process) -> vsock.sock -> agent -> 127.0.0.1:500x
///   SDK dial:      Box.DialAsync in this process -> vsock.sock -> agent -> 127.0.0.1:500x
/// </code>
/// Throughput is 512 MiB over the upload plus download time, the median of the rounds; the paths
/// take turns in every round. Connect times alternate path by path.
/// <para>
/// The source is <c>dd</c> with 64 KiB blocks, as in the socket-forward benchmark. busybox
/// <c>head -c</c> copies one byte at a time through stdio: under TCG it spent about 160 ms of guest
/// CPU per MiB (dd about 9), so every path's download measured busybox, not the path.
/// </para>
/// </remarks>
internal sealed class PortForwardBenchmark : IBenchmark
{
    private const string BoxName = "pf";
    private const int SinkPort = 5001;
    private const int SourcePort = 5002;
    private const int EchoPort = 5003;
    private const long Bytes = 256L << 20;
    private const int Rounds = 3;
    private const int Connections = 1000;
    private static readonly int[] GuestPorts = [SinkPort, SourcePort, EchoPort];

    public string Name => "port-forward";

    public string Description => "cocoon port-forward vs QEMU hostfwd: 256 MiB each way and 1,000 short connections (goal >= 2x / >= 2x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        Process? forwarder = null;
        try
        {
            var hostfwd = new[] { FreePort(), FreePort(), FreePort() };
            var supervisorEnvironment = new Dictionary<string, string>
            {
                [UserNetwork.BenchHostForwardsVariable] = $"{hostfwd[0]}:{SinkPort},{hostfwd[1]}:{SourcePort},{hostfwd[2]}:{EchoPort}",
            };
            await BenchSupport.RunCheckedAsync(cli, ["create", "--name", BoxName], home, TimeSpan.FromSeconds(60), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["start", BoxName], home, TimeSpan.FromSeconds(180), cancellationToken, supervisorEnvironment);
            var choice = await AcceleratorProbe.ChooseAsync(new QemuOptions().QemuPath, KernelLocator.FindDefault().KernelPath, new CocoonPaths(home).GuestCacheDirectory, cancellationToken: cancellationToken);
            output.WriteLine($"accelerator: {choice.Accelerator} ({choice.Reason})");

            var setup = string.Create(CultureInfo.InvariantCulture, $$"""
                set -e
                printf '#!/bin/sh\nexec cat >/dev/null\n' > /tmp/sink; printf '#!/bin/sh\nexec dd if=/dev/zero bs=65536 count={{Bytes / 65536}} 2>/dev/null\n' > /tmp/source
                chmod +x /tmp/sink /tmp/source
                for s in "{{SinkPort}} /tmp/sink" "{{SourcePort}} /tmp/source" "{{EchoPort}} cat"; do set -- $s; nc -ll -p $1 -e $2 </dev/null >/dev/null 2>&1 & done
                for p in {{SinkPort}} {{SourcePort}} {{EchoPort}}; do for i in $(seq 300); do netstat -ltn | grep -q ":$p " && break; sleep 0.1; done; done
                """);
            await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "sh", "-c", setup], home, TimeSpan.FromSeconds(120), cancellationToken);

            forwarder = BenchSupport.Start(cli, ["port-forward", BoxName, $":{SinkPort}", $":{SourcePort}", $":{EchoPort}"], home);
            var ours = await ReadForwardedPortsAsync(forwarder, cancellationToken);
            var runtime = new CocoonRuntime(new CocoonRuntimeOptions { StateRoot = home, CocoonPath = cli });
            await using var box = runtime.GetBox(BoxName);

            var paths = new StreamPath[]
            {
                new("hostfwd", port => ConnectLoopbackAsync(hostfwd[Array.IndexOf(GuestPorts, port)], cancellationToken)),
                new("port-forward", port => ConnectLoopbackAsync(ours[port], cancellationToken)),
                new("SDK dial", async port => (await box.DialAsync("tcp", port, cancellationToken: cancellationToken)).Socket),
            };
            output.WriteLine("paths: hostfwd = client -> QEMU slirp -> virtio-net -> guest; port-forward = client -> cocoon port-forward -> vsock -> agent; SDK dial = Box.DialAsync in process -> vsock -> agent");
            var results = await StreamPaths.MeasureAsync(paths, (SinkPort, SourcePort, EchoPort), Bytes, Rounds, Connections, cancellationToken);
            results.Print(output, paths);
            double Rate(string name) => results.Rate(name);
            double P50(string name) => results.P50(name);
            output.WriteLine($"SDK dial (in process) vs hostfwd: throughput {Report.Number(Rate("SDK dial") / Rate("hostfwd"))}x, connect-p50 {Report.Number(P50("hostfwd") / P50("SDK dial"))}x");
            output.WriteLine(Report.Figure("port-forward-throughput", Rate("port-forward") / Rate("hostfwd"), "x", ">=", 2));
            output.WriteLine(Report.Figure("port-forward-connect-p50", P50("hostfwd") / P50("port-forward"), "x", ">=", 2));
        }
        finally
        {
            BenchSupport.KillAndDispose(forwarder);

            await BenchSupport.RemoveBoxAndCleanUpAsync(cli, BoxName, home, output);
        }
    }

    /// <summary>The local port <c>cocoon port-forward</c> picked for each guest port, from its "Forwarding from" lines.</summary>
    private static async Task<Dictionary<int, int>> ReadForwardedPortsAsync(Process forwarder, CancellationToken cancellationToken)
    {
        var ports = new Dictionary<int, int>();
        while (ports.Count < GuestPorts.Length)
        {
            var line = await forwarder.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), cancellationToken)
                ?? throw new InvalidOperationException("cocoon port-forward ended: " + await forwarder.StandardError.ReadToEndAsync(cancellationToken));
            var match = Regex.Match(line, @"^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$");
            if (match.Success)
            {
                ports[int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)] = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }

        return ports;
    }

    private static async Task<Socket> ConnectLoopbackAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
