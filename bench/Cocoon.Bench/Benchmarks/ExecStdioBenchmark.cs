// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net.Sockets;
using Cocoon.State;
using Cocoon.Vsock;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Bulk stdio of <c>cocoon exec</c> against the raw hybrid-vsock stream of vsock-throughput, in one
/// real box (created and started by the published CLI, so the real supervisor and device carry both):
/// <code>
///  exec-stdout:  cocoon exec BOX dd if=/dev/zero bs=1M count=256      (the bench reads the CLI's stdout)
///      raw:      vsock.sock CONNECT 5101 -> guest socat -b65536 -U VSOCK-LISTEN:5101 SYSTEM:"the same dd"
///  exec-stdin:   cocoon exec -i BOX dd of=/dev/null bs=64k            (the bench writes the CLI's stdin)
///      raw:      vsock.sock CONNECT 5102 -> guest socat -b65536 -u VSOCK-LISTEN:5102 SYSTEM:"the same dd"
/// </code>
/// 256 MiB per transfer, one warm-up each, then <see cref="Rounds"/> alternating rounds; medians.
/// The exec figures include starting the CLI process, as a user's command does.
/// </summary>
internal sealed class ExecStdioBenchmark : IBenchmark
{
    private const string BoxName = "stdio";
    private const int Rounds = 3;
    private const long Bytes = 256L << 20;
    private const uint SourcePort = 5101;
    private const uint SinkPort = 5102;
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromMinutes(3);

    public string Name => "exec-stdio";

    public string Description => "256 MiB out of and into cocoon exec vs the raw hybrid-vsock stream (goal >= 0.7x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        var guestTools = new Dictionary<string, string> { ["COCOON_GUEST_EXTRA_EXECUTABLES"] = "/usr/bin/socat" };
        try
        {
            await BenchSupport.RunCheckedAsync(cli, ["create", "--name", BoxName], home, TimeSpan.FromSeconds(60), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["start", BoxName], home, TimeSpan.FromSeconds(180), cancellationToken, guestTools);
            // Ready once each socat holds its listening socket (under TCG on a busy host that takes a while).
            var listeners =
                $"setsid socat -b65536 -U VSOCK-LISTEN:{SourcePort},reuseaddr,fork SYSTEM:'dd if=/dev/zero bs=1M count=256 2>/dev/null' </dev/null >/dev/null 2>&1 & a=$!; " +
                $"setsid socat -b65536 -u VSOCK-LISTEN:{SinkPort},reuseaddr,fork SYSTEM:'dd of=/dev/null bs=64k 2>/dev/null' </dev/null >/dev/null 2>&1 & b=$!; " +
                "i=0; while [ $(ls -l /proc/$a/fd /proc/$b/fd 2>/dev/null | grep -c socket:) -lt 2 ]; do " +
                "i=$((i+1)); [ $i -gt 300 ] && { echo 'socat listeners did not start' >&2; exit 1; }; sleep 0.1; done";
            await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "sh", "-c", listeners], home, TimeSpan.FromSeconds(60), cancellationToken);
            var vsock = new CocoonPaths(home).VsockSocket(BoxName);

            var execOut = new List<double>();
            var execIn = new List<double>();
            var rawOut = new List<double>();
            var rawIn = new List<double>();
            for (var round = 0; round <= Rounds; round++)
            {
                // Round 0 warms up (page cache, guest caches, the CLI's first start) and is not counted.
                var measured = round > 0;
                var order = round % 2 == 1;
                for (var side = 0; side < 2; side++)
                {
                    if ((side == 0) == order)
                    {
                        Add(measured, execOut, await ExecOutAsync(cli, home, cancellationToken));
                        Add(measured, execIn, await ExecInAsync(cli, home, cancellationToken));
                    }
                    else
                    {
                        Add(measured, rawOut, await RawOutAsync(vsock, cancellationToken));
                        Add(measured, rawIn, await RawInAsync(vsock, cancellationToken));
                    }
                }
            }

            output.WriteLine($"cocoon exec stdout:   {BenchSupport.Describe(execOut, "MiB/s")}");
            output.WriteLine($"raw vsock g2h:        {BenchSupport.Describe(rawOut, "MiB/s")}");
            output.WriteLine($"cocoon exec -i stdin: {BenchSupport.Describe(execIn, "MiB/s")}");
            output.WriteLine($"raw vsock h2g:        {BenchSupport.Describe(rawIn, "MiB/s")}");
            output.WriteLine(Report.Figure("exec-stdout", Report.Median(execOut) / Report.Median(rawOut), "x", ">=", 0.7));
            output.WriteLine(Report.Figure("exec-stdin", Report.Median(execIn) / Report.Median(rawIn), "x", ">=", 0.7));
        }
        finally
        {
            await BenchSupport.RemoveBoxAndCleanUpAsync(cli, BoxName, home, output);
        }
    }

    private static void Add(bool measured, List<double> list, double value)
    {
        if (measured)
        {
            list.Add(value);
        }
    }

    private static double MiBPerSecond(long bytes, Stopwatch watch) => bytes / (1024.0 * 1024.0) / watch.Elapsed.TotalSeconds;

    private static async Task<double> ExecOutAsync(string cli, string home, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var process = BenchSupport.Start(cli, ["exec", BoxName, "dd", "if=/dev/zero", "bs=1M", "count=256"], home);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var received = await CountAsync(process.StandardOutput.BaseStream, cancellationToken).WaitAsync(TransferTimeout, cancellationToken);
        await process.WaitForExitAsync(cancellationToken).WaitAsync(TransferTimeout, cancellationToken);
        watch.Stop();
        return process.ExitCode == 0 && received == Bytes
            ? MiBPerSecond(received, watch)
            : throw new BenchmarkFailedException($"cocoon exec dd gave {received} bytes, exit {process.ExitCode}: {await stderr}");
    }

    private static async Task<double> ExecInAsync(string cli, string home, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var process = BenchSupport.Start(cli, ["exec", "-i", BoxName, "dd", "of=/dev/null", "bs=64k"], home, keepStdin: true);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var stdin = process.StandardInput.BaseStream;
        await WriteZerosAsync(stdin, cancellationToken).WaitAsync(TransferTimeout, cancellationToken);
        stdin.Close();
        await process.WaitForExitAsync(cancellationToken).WaitAsync(TransferTimeout, cancellationToken);
        watch.Stop();
        var text = await stderr;
        // busybox dd reports records only; it ends (exit 0) only at end of file, after every byte we sent.
        return process.ExitCode == 0 && text.Contains("records in", StringComparison.Ordinal)
            ? MiBPerSecond(Bytes, watch)
            : throw new BenchmarkFailedException($"cocoon exec -i dd exited {process.ExitCode}: {text}");
    }

    private static async Task<double> RawOutAsync(string vsock, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var socket = await HybridVsock.ConnectAsync(vsock, SourcePort, cancellationToken);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var received = await CountAsync(stream, cancellationToken).WaitAsync(TransferTimeout, cancellationToken);
        watch.Stop();
        return received == Bytes ? MiBPerSecond(received, watch) : throw new BenchmarkFailedException($"the raw stream gave {received} bytes");
    }

    private static async Task<double> RawInAsync(string vsock, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        using var socket = await HybridVsock.ConnectAsync(vsock, SinkPort, cancellationToken);
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            await WriteZerosAsync(stream, cancellationToken).WaitAsync(TransferTimeout, cancellationToken);
        }

        // The guest closes once its dd has read everything.
        socket.Shutdown(SocketShutdown.Send);
        var buffer = new byte[1];
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).AsTask().WaitAsync(TransferTimeout, cancellationToken) > 0)
        {
        }

        watch.Stop();
        return MiBPerSecond(Bytes, watch);
    }

    private static async Task<long> CountAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static async Task WriteZerosAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[256 * 1024];
        for (long sent = 0; sent < Bytes; sent += buffer.Length)
        {
            await stream.WriteAsync(buffer, cancellationToken);
        }

        await stream.FlushAsync(cancellationToken);
    }
}
