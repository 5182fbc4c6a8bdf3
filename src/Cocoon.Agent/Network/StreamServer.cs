// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Vsock;
using Cocoon.Vsock.Streams;

namespace Cocoon.Agent.Network;

/// <summary>
/// The agent's data-stream server on vsock port 1025 (docs/architecture.md §2.3). For each connection:
/// <code>
///  1. read the stream header (bounded, within <see cref="HeaderTimeout"/>)
///  2. dial what it names (only dial is served so far)
///  3. answer one status line: ok, or error CODE MESSAGE, and close on error
///  4. relay: raw bytes for tcp (StreamRelay), length-prefixed datagrams for udp (DatagramRelay)
/// </code>
/// Connections run on .NET's async socket engine; no thread per stream.
/// </summary>
internal sealed class StreamServer : IDisposable
{
    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(10);

    private readonly VsockListener _listener;
    private readonly Dialer _dialer;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    public StreamServer(VsockListener listener, Dialer dialer, ILogger logger)
    {
        _listener = listener;
        _dialer = dialer;
        _logger = logger;
        _acceptLoop = AcceptLoopAsync();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (await _listener.AcceptAsync(CancellationToken.None).ConfigureAwait(false) is { } connection)
        {
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(Socket connection)
    {
        try
        {
            StreamRequest? request;
            StreamStatus? error;
            using (var headerTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                headerTimeout.CancelAfter(HeaderTimeout);
                try
                {
                    (request, error) = await StreamHeader.ReadAsync(connection, headerTimeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    (request, error) = (null, StreamStatus.Error(StreamStatusCode.BadHeader, $"no stream header within {HeaderTimeout.TotalSeconds:0} s"));
                }
            }

            if (request is not DialRequest dial)
            {
                await AnswerAndCloseAsync(connection, error ?? StreamStatus.Error(StreamStatusCode.Unsupported, "only dial streams are served")).ConfigureAwait(false);
                return;
            }

            var (target, status) = await _dialer.DialAsync(dial, _stop.Token).ConfigureAwait(false);
            if (target is null)
            {
                NetworkLog.DialFailed(_logger, status.ToString());
                await AnswerAndCloseAsync(connection, status).ConfigureAwait(false);
                return;
            }

            try
            {
                await SendAllAsync(connection, StreamStatus.Ok.Encode()).ConfigureAwait(false);
            }
            catch
            {
                target.Dispose();
                throw;
            }

            if (dial.Network == DialNetwork.Udp)
            {
                await DatagramRelay.RunAsync(connection, target, _stop.Token).ConfigureAwait(false);
            }
            else
            {
                await StreamRelay.RunAsync(connection, target, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            connection.Dispose();
        }
        catch (Exception ex)
        {
            NetworkLog.StreamFailed(_logger, ex);
            connection.Dispose();
        }
    }

    private async Task AnswerAndCloseAsync(Socket connection, StreamStatus status)
    {
        try
        {
            await SendAllAsync(connection, status.Encode()).ConfigureAwait(false);
            connection.Shutdown(SocketShutdown.Send);
        }
        finally
        {
            connection.Dispose();
        }
    }

    private async Task SendAllAsync(Socket connection, byte[] data)
    {
        var sent = 0;
        while (sent < data.Length)
        {
            sent += await connection.SendAsync(data.AsMemory(sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
        }
    }
}
