// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net.Sockets;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// The host's side of the into-box socket benchmark: three services on UNIX sockets, timed where the
/// bytes end up, so every path into them is measured the same way whatever the guest client costs.
/// <code>
///   sink    reads to end of input          seconds from accept to the client's half-close, and the bytes
///   source  writes N bytes, closes         seconds from accept to the client's close after the last byte
///   echo    one byte back, then closes     the time of every accept (sequential clients: the gaps are
///                                          connect + echo + close, each the client's whole connection)
/// </code>
/// </summary>
internal sealed class HostSocketServices : IDisposable
{
    private readonly List<Socket> _listeners = [];
    private readonly CancellationTokenSource _stop = new();

    /// <param name="directory">Where to put the sockets: sink.sock, source.sock, echo.sock.</param>
    /// <param name="sourceBytes">How much the source writes.</param>
    public HostSocketServices(string directory, long sourceBytes)
    {
        Sink = Path.Combine(directory, "sink.sock");
        Source = Path.Combine(directory, "source.sock");
        Echo = Path.Combine(directory, "echo.sock");
        Serve(Sink, SinkAsync);
        Serve(Source, peer => SourceAsync(peer, sourceBytes));
        Serve(Echo, EchoAsync);
    }

    public string Sink { get; }

    public string Source { get; }

    public string Echo { get; }

    /// <summary>Seconds per upload the sink saw, with its byte count, in order.</summary>
    public List<(double Seconds, long Bytes)> Uploads { get; } = [];

    /// <summary>Seconds per download the source served, in order.</summary>
    public List<double> Downloads { get; } = [];

    /// <summary>Timestamps (<see cref="Stopwatch"/>) of the echo's accepts, in order.</summary>
    public List<long> EchoAccepts { get; } = [];

    /// <summary>The median gap between consecutive echo accepts from <paramref name="first"/> on, in milliseconds.</summary>
    public double MedianEchoGapMs(int first)
    {
        lock (EchoAccepts)
        {
            var gaps = EchoAccepts.Skip(first).Zip(EchoAccepts.Skip(first + 1), (a, b) => Stopwatch.GetElapsedTime(a, b).TotalMilliseconds).ToList();
            return Report.Median(gaps);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        _stop.Dispose();
    }

    private void Serve(string path, Func<Socket, Task> serve)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(128);
        _listeners.Add(listener);
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket peer;
                try
                {
                    peer = await listener.AcceptAsync(_stop.Token);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (peer)
                    {
                        try
                        {
                            await serve(peer);
                        }
                        catch (Exception e) when (e is SocketException or OperationCanceledException)
                        {
                            // A client gone early is counted by what it did not deliver.
                        }
                    }
                });
            }
        });
    }

    private async Task SinkAsync(Socket peer)
    {
        var start = Stopwatch.GetTimestamp();
        var buffer = new byte[1 << 20];
        var total = 0L;
        for (var read = await peer.ReceiveAsync(buffer, _stop.Token); read > 0; read = await peer.ReceiveAsync(buffer, _stop.Token))
        {
            total += read;
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        lock (Uploads)
        {
            Uploads.Add((seconds, total));
        }
    }

    private async Task SourceAsync(Socket peer, long bytes)
    {
        var start = Stopwatch.GetTimestamp();
        var buffer = new byte[1 << 20];
        for (var sent = 0L; sent < bytes;)
        {
            sent += await peer.SendAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes - sent)), SocketFlags.None, _stop.Token);
        }

        peer.Shutdown(SocketShutdown.Send);
        while (await peer.ReceiveAsync(buffer, _stop.Token) > 0)
        {
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        lock (Downloads)
        {
            Downloads.Add(seconds);
        }
    }

    private async Task EchoAsync(Socket peer)
    {
        lock (EchoAccepts)
        {
            EchoAccepts.Add(Stopwatch.GetTimestamp());
        }

        var one = new byte[1];
        if (await peer.ReceiveAsync(one, _stop.Token) == 1)
        {
            await peer.SendAsync(one, SocketFlags.None, _stop.Token);
        }

        peer.Shutdown(SocketShutdown.Send);
    }
}
