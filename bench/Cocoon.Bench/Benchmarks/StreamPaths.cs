// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net.Sockets;

namespace Cocoon.Bench.Benchmarks;

/// <summary>One way into the box: a name and how to open a connection to a guest service (by its key: a port or a socket).</summary>
internal sealed record StreamPath(string Name, Func<int, Task<Socket>> Connect);

/// <summary>Medians and samples of <see cref="StreamPaths.MeasureAsync"/>, per path name.</summary>
internal sealed record StreamPathResults(Dictionary<string, List<double>> Throughput, Dictionary<string, List<double>> Connect)
{
    public double Rate(string name) => Report.Median(Throughput[name]);

    public double P50(string name) => Report.Percentile(Connect[name], 50);

    /// <summary>One human line per path: throughput median and samples, connect p50 and p99.</summary>
    public void Print(TextWriter output, IEnumerable<StreamPath> paths)
    {
        foreach (var path in paths)
        {
            output.WriteLine($"{path.Name,-15} throughput median {Report.Number(Rate(path.Name))} MiB/s ({string.Join(", ", Throughput[path.Name].Select(Report.Number))}); " +
                $"connect+echo p50 {Report.Number(P50(path.Name))}ms p99 {Report.Number(Report.Percentile(Connect[path.Name], 99))}ms");
        }
    }
}

/// <summary>
/// The shared measurement of the forwarding benchmarks (port-forward, socket-forward): three guest
/// services reached by every path in turn.
/// <code>
///   sink    reads to end of input      upload:   the host sends N bytes, half-closes, waits for the close
///   source  writes N bytes, closes     download: the host reads to end, counting the bytes
///   echo    cat                        connect:  connect, 1 byte out, 1 byte back, close
/// </code>
/// Throughput is 2N over the upload plus download time per round; the paths take turns in every
/// round. Connect times alternate path by path. A warm-up pass is not counted.
/// </summary>
internal static class StreamPaths
{
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(300);

    public static async Task<StreamPathResults> MeasureAsync(
        IReadOnlyList<StreamPath> paths, (int Sink, int Source, int Echo) services, long bytes, int rounds, int connections, CancellationToken cancellationToken)
    {
        foreach (var path in paths)
        {
            await EchoOnceAsync(path, services.Echo, cancellationToken);
            await UploadAsync(path, services.Sink, 16 << 20, cancellationToken);
        }

        var throughput = paths.ToDictionary(p => p.Name, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var path in paths)
            {
                var seconds = await UploadAsync(path, services.Sink, bytes, cancellationToken) + await DownloadAsync(path, services.Source, bytes, cancellationToken);
                throughput[path.Name].Add(2.0 * bytes / (1 << 20) / seconds);
            }
        }

        var connect = paths.ToDictionary(p => p.Name, _ => new List<double>());
        for (var i = 0; i < connections; i++)
        {
            foreach (var path in paths)
            {
                connect[path.Name].Add(await EchoOnceAsync(path, services.Echo, cancellationToken));
            }
        }

        return new StreamPathResults(throughput, connect);
    }

    /// <summary>Seconds to send <paramref name="bytes"/> to the sink and see it close.</summary>
    private static async Task<double> UploadAsync(StreamPath path, int sink, long bytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        var start = Stopwatch.GetTimestamp();
        using var socket = await path.Connect(sink);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(IoTimeout);
        for (var sent = 0L; sent < bytes;)
        {
            sent += await socket.SendAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes - sent)), SocketFlags.None, timeout.Token);
        }

        socket.Shutdown(SocketShutdown.Send);
        if (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) != 0)
        {
            throw new InvalidOperationException($"{path.Name}: the sink answered bytes");
        }

        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>Seconds to read the source's <paramref name="bytes"/> to its end.</summary>
    private static async Task<double> DownloadAsync(StreamPath path, int source, long bytes, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        var start = Stopwatch.GetTimestamp();
        using var socket = await path.Connect(source);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(IoTimeout);
        var received = 0L;
        for (var read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token); read > 0; read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token))
        {
            received += read;
        }

        return received == bytes
            ? Stopwatch.GetElapsedTime(start).TotalSeconds
            : throw new InvalidOperationException($"{path.Name}: the source sent {received} bytes, not {bytes}");
    }

    /// <summary>Milliseconds from connect to one byte echoed back, then closes.</summary>
    private static async Task<double> EchoOnceAsync(StreamPath path, int echo, CancellationToken cancellationToken)
    {
        var one = new byte[1] { 42 };
        var start = Stopwatch.GetTimestamp();
        using var socket = await path.Connect(echo);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await socket.SendAsync(one, SocketFlags.None, timeout.Token);
        if (await socket.ReceiveAsync(one, SocketFlags.None, timeout.Token) != 1 || one[0] != 42)
        {
            throw new InvalidOperationException($"{path.Name}: the echo did not answer the byte");
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}
