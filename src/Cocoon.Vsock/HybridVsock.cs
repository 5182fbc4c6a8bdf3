// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Cocoon.Protocol;

namespace Cocoon.Vsock;

/// <summary>
/// The host side of Firecracker-style hybrid vsock (docs/architecture.md §2.1): connect to the box's UNIX socket,
/// write <c>CONNECT &lt;port&gt;\n</c>, read <c>OK &lt;host_port&gt;\n</c>; after that the socket is a
/// byte stream to the guest listener on that port.
/// </summary>
public static class HybridVsock
{
    // "OK 4294967295\n" is 14 bytes; anything much longer is not a hybrid vsock answer.
    private const int MaxAnswerBytes = 64;

    /// <summary>Connects to guest <paramref name="port"/> through the hybrid vsock socket at <paramref name="udsPath"/>.</summary>
    /// <param name="udsPath">The box's <c>vsock.sock</c>.</param>
    /// <param name="port">The guest vsock port, for example <see cref="AgentPorts.Control"/>.</param>
    /// <param name="cancellationToken">Cancels the connect and the handshake.</param>
    /// <returns>A connected socket positioned at the first byte from the guest.</returns>
    /// <exception cref="CocoonException">
    /// InvalidArgument for a bad path; Unavailable when the socket is missing, the device refuses the
    /// port, or the answer is not <c>OK</c>.
    /// </exception>
    public static Task<Socket> ConnectAsync(string udsPath, uint port, CancellationToken cancellationToken = default) =>
        ConnectAsync(udsPath, port, ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <summary>
    /// Like <see cref="ConnectAsync(string, uint, CancellationToken)"/>, but sends <paramref name="firstBytes"/>
    /// in the same write as the CONNECT line, without waiting for <c>OK</c>: the device leaves bytes after
    /// the line in the socket and forwards them once the guest accepted, so a request that opens the
    /// stream costs no extra round trip.
    /// </summary>
    internal static async Task<Socket> ConnectAsync(string udsPath, uint port, ReadOnlyMemory<byte> firstBytes, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(udsPath);
        UnixSocketPath.EnsureFits(udsPath, "hybrid vsock socket path", "use a shorter state directory");

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(udsPath), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new CocoonException(
                    CocoonErrorCode.Unavailable,
                    $"Cannot connect to the hybrid vsock socket '{udsPath}': {ex.Message}. Is the box running?",
                    ex);
            }

            var line = string.Create(CultureInfo.InvariantCulture, $"CONNECT {port}\n");
            var request = new byte[line.Length + firstBytes.Length];
            Encoding.ASCII.GetBytes(line, request);
            firstBytes.CopyTo(request.AsMemory(line.Length));
            await SendAllAsync(socket, request, udsPath, port, cancellationToken).ConfigureAwait(false);
            var answer = await ReadLineAsync(socket, udsPath, port, cancellationToken).ConfigureAwait(false);
            if (!IsOk(answer))
            {
                throw new CocoonException(
                    CocoonErrorCode.Unavailable,
                    $"The hybrid vsock socket '{udsPath}' answered '{answer}' to CONNECT {port}; expected 'OK <port>'.");
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool IsOk(string answer) =>
        answer.StartsWith("OK ", StringComparison.Ordinal)
        && uint.TryParse(answer.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private static async Task SendAllAsync(Socket socket, byte[] data, string udsPath, uint port, CancellationToken cancellationToken)
    {
        try
        {
            var sent = 0;
            while (sent < data.Length)
            {
                sent += await socket.SendAsync(data.AsMemory(sent), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (SocketException ex)
        {
            throw Refused(udsPath, port, ex);
        }
    }

    /// <summary>Reads one line a byte at a time so that no byte after the newline is consumed.</summary>
    private static async Task<string> ReadLineAsync(Socket socket, string udsPath, uint port, CancellationToken cancellationToken)
    {
        var line = new byte[MaxAnswerBytes];
        var length = 0;
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(line.AsMemory(length, 1), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw Refused(udsPath, port, ex);
            }

            if (read == 0)
            {
                throw Refused(udsPath, port, null);
            }

            if (line[length] == (byte)'\n')
            {
                return Encoding.ASCII.GetString(line, 0, length);
            }

            if (++length == line.Length)
            {
                throw new CocoonException(
                    CocoonErrorCode.Unavailable,
                    $"The hybrid vsock socket '{udsPath}' answered CONNECT {port} with more than {MaxAnswerBytes} bytes and no newline; it is not a hybrid vsock device.");
            }
        }
    }

    private static CocoonException Refused(string udsPath, uint port, Exception? inner) =>
        new(
            CocoonErrorCode.Unavailable,
            $"Guest vsock port {port} refused the connection through '{udsPath}' (closed without 'OK'). Is the guest listening on port {port}?",
            inner);
}
