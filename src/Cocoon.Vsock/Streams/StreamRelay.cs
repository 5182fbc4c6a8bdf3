// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers;
using System.Net.Sockets;

namespace Cocoon.Vsock.Streams;

/// <summary>How a relay ended: bytes each way, and whether it was cut short.</summary>
/// <param name="BytesAToB">Bytes copied from the first socket to the second.</param>
/// <param name="BytesBToA">Bytes copied from the second socket to the first.</param>
/// <param name="Aborted">True when a reset, an error or cancellation ended it rather than end-of-stream both ways.</param>
public readonly record struct RelayResult(long BytesAToB, long BytesBToA, bool Aborted);

/// <summary>
/// The one byte relay of Cocoon, used by the host (port-forward, publish, pod.portDial) and by the
/// agent (dial): two connected stream sockets, one async copy loop per direction on .NET's socket
/// engine (no thread per stream), one bounded buffer per direction (<see cref="BufferSize"/>).
/// <list type="bullet">
/// <item>End-of-stream read on one side becomes shutdown(SHUT_WR) on the other (half-close), so a
/// request/response peer that closes its write side still gets its answer.</item>
/// <item>The relay ends when both directions reached end-of-stream, or at the first error in either
/// direction (reset, broken pipe) or cancellation, which aborts the other direction too.</item>
/// <item>Both sockets are disposed together when it ends.</item>
/// </list>
/// splice(2) is not used: each direction would need a pipe pair and a blocking or epoll-driven loop
/// of its own outside .NET's engine, and under TCG the guest's vCPU, not the copy, bounds throughput.
/// </summary>
public static class StreamRelay
{
    /// <summary>Bytes buffered per direction.</summary>
    public const int BufferSize = 64 * 1024;

    /// <summary>Relays between <paramref name="a"/> and <paramref name="b"/> until both directions end; disposes both.</summary>
    /// <param name="a">One connected stream socket.</param>
    /// <param name="b">The other.</param>
    /// <param name="cancellationToken">Aborts the relay (both sockets are closed).</param>
    /// <returns>How it ended. Never throws for socket errors: they end the relay as <see cref="RelayResult.Aborted"/>.</returns>
    public static async Task<RelayResult> RunAsync(Socket a, Socket b, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var aToB = PumpAsync(a, b, abort);
            var bToA = PumpAsync(b, a, abort);
            var (sentAToB, cleanAToB) = await aToB.ConfigureAwait(false);
            var (sentBToA, cleanBToA) = await bToA.ConfigureAwait(false);
            return new RelayResult(sentAToB, sentBToA, !(cleanAToB && cleanBToA));
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }

    private static async Task<(long Bytes, bool Clean)> PumpAsync(Socket from, Socket to, CancellationTokenSource abort)
    {
        // Let the other direction start before this one's first await completes synchronously.
        await Task.Yield();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory(0, BufferSize), SocketFlags.None, abort.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return (total, true);
                }

                var sent = 0;
                while (sent < read)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, abort.Token).ConfigureAwait(false);
                }

                total += read;
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            await abort.CancelAsync().ConfigureAwait(false);
            return (total, false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>
/// Relays length-prefixed datagrams (<see cref="DatagramFraming"/>) between a data stream and a
/// connected UDP socket, both directions, with one bounded buffer each; the agent's side of a UDP dial.
/// ICMP errors on the UDP socket (a closed port answers "port unreachable") drop that datagram,
/// as UDP would, and do not end the relay. The relay ends when the stream ends; both are disposed.
/// </summary>
public static class DatagramRelay
{
    /// <summary>Relays until the stream ends, fails or <paramref name="cancellationToken"/> fires; disposes both sockets.</summary>
    /// <param name="stream">The data stream.</param>
    /// <param name="udp">A UDP socket connected to its peer.</param>
    /// <param name="cancellationToken">Aborts the relay.</param>
    /// <returns>A task that completes when the relay has ended.</returns>
    public static async Task RunAsync(Socket stream, Socket udp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(udp);
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var toUdp = StreamToUdpAsync(stream, udp, abort);
            var toStream = UdpToStreamAsync(udp, stream, abort);
            await Task.WhenAll(toUdp, toStream).ConfigureAwait(false);
        }
        finally
        {
            stream.Dispose();
            udp.Dispose();
        }
    }

    private static async Task StreamToUdpAsync(Socket stream, Socket udp, CancellationTokenSource abort)
    {
        await Task.Yield();
        var buffer = ArrayPool<byte>.Shared.Rent(DatagramFraming.MaxDatagramLength);
        try
        {
            while (true)
            {
                var length = await DatagramFraming.ReceiveFrameAsync(stream, buffer, abort.Token).ConfigureAwait(false);
                if (length < 0)
                {
                    break;
                }

                try
                {
                    await udp.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, abort.Token).ConfigureAwait(false);
                }
                catch (SocketException ex) when (IsIcmpError(ex))
                {
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await abort.CancelAsync().ConfigureAwait(false);
        }
    }

    private static async Task UdpToStreamAsync(Socket udp, Socket stream, CancellationTokenSource abort)
    {
        await Task.Yield();
        var frame = ArrayPool<byte>.Shared.Rent(DatagramFraming.MaxFrameLength);
        try
        {
            while (true)
            {
                int length;
                try
                {
                    length = await udp.ReceiveAsync(frame.AsMemory(DatagramFraming.PrefixLength, DatagramFraming.MaxDatagramLength), SocketFlags.None, abort.Token).ConfigureAwait(false);
                }
                catch (SocketException ex) when (IsIcmpError(ex))
                {
                    continue;
                }

                await DatagramFraming.SendFrameAsync(stream, frame, length, abort.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            await abort.CancelAsync().ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private static bool IsIcmpError(SocketException ex) =>
        ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.ConnectionReset;
}
