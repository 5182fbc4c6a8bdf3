// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;

namespace Cocoon.Vsock.Streams;

/// <summary>
/// A <see cref="Stream"/> over a connected stream socket, for the ones <see cref="NetworkStream"/>
/// refuses: an AF_VSOCK socket made from an accepted descriptor reports itself unconnected to .NET
/// (it cannot read an AF_VSOCK peer address), so <c>new NetworkStream(socket)</c> throws. Reads and
/// writes go straight to the socket; <see cref="CompleteWrites"/> half-closes it.
/// </summary>
public sealed class SocketStream : Stream
{
    private readonly Socket _socket;
    private readonly bool _ownsSocket;

    /// <summary>Wraps <paramref name="socket"/>.</summary>
    /// <param name="socket">A connected stream socket.</param>
    /// <param name="ownsSocket">Dispose the socket with the stream.</param>
    public SocketStream(Socket socket, bool ownsSocket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _ownsSocket = ownsSocket;
    }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Half-closes the socket: the peer reads end of stream; reading goes on.</summary>
    public void CompleteWrites() => _socket.Shutdown(SocketShutdown.Send);

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        try
        {
            return _socket.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException e)
        {
            throw new IOException($"Reading from the socket failed: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new IOException($"Reading from the socket failed: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                buffer = buffer[_socket.Send(buffer, SocketFlags.None)..];
            }
        }
        catch (SocketException e)
        {
            throw new IOException($"Writing to the socket failed: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                buffer = buffer[await _socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];
            }
        }
        catch (SocketException e)
        {
            throw new IOException($"Writing to the socket failed: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsSocket)
        {
            _socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
