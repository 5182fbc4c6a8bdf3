// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Cocoon.Vsock.Device.Abi;

namespace Cocoon.Vsock.Device.VhostUser;

/// <summary>What <see cref="VhostUserChannel.TryRead"/> found.</summary>
internal enum ChannelStatus
{
    Message,
    WouldBlock,
    Closed,
    ProtocolError,
}

/// <summary>
/// vhost-user message framing over the front-end's non-blocking stream socket. Each recvmsg is
/// limited to the rest of the current message, so descriptors passed with SCM_RIGHTS always belong
/// to the message they arrive with; partial reads resume on the next readiness event.
/// </summary>
internal sealed class VhostUserChannel : IDisposable
{
    /// <summary>Largest payload accepted (rust-vmm caps messages at 0x1000 bytes).</summary>
    internal const int MaxPayload = 0x1000;

    internal const int HeaderSize = 12;

    private readonly byte[] _buffer = new byte[HeaderSize + MaxPayload];
    private readonly List<SafeFdHandle> _fds = [];
    private int _filled;

    public VhostUserChannel(SafeFdHandle socket)
    {
        Socket = socket;
    }

    public SafeFdHandle Socket { get; }

    /// <summary>The last problem behind <see cref="ChannelStatus.ProtocolError"/>.</summary>
    public string? Problem { get; private set; }

    /// <summary>
    /// Reads until one message is complete. On <see cref="ChannelStatus.Message"/> the header and
    /// payload are returned and the message's fds are moved into <paramref name="fds"/> (owned by the caller).
    /// </summary>
    public ChannelStatus TryRead(out VhostUserHeader header, out ReadOnlySpan<byte> payload, List<SafeFdHandle> fds)
    {
        header = default;
        payload = default;
        while (true)
        {
            int want = HeaderSize;
            if (_filled >= HeaderSize)
            {
                header = MemoryMarshal.Read<VhostUserHeader>(_buffer);
                if ((header.Flags & VhostUserFeatures.FlagVersionMask) != VhostUserFeatures.FlagVersion)
                {
                    return Fail($"message flags 0x{header.Flags:x} do not carry version 1");
                }

                if (header.Size > MaxPayload)
                {
                    return Fail($"payload of {header.Size} bytes for request {header.Request} exceeds {MaxPayload}");
                }

                want = HeaderSize + (int)header.Size;
            }

            if (_filled == want && _filled >= HeaderSize)
            {
                payload = _buffer.AsSpan(HeaderSize, (int)header.Size);
                fds.AddRange(_fds);
                _fds.Clear();
                _filled = 0;
                return ChannelStatus.Message;
            }

            var r = Interop.ReceiveWithFds(Socket, _buffer.AsSpan(_filled, want - _filled), _fds, out bool truncated);
            if (!r.Ok)
            {
                return r.WouldBlock ? ChannelStatus.WouldBlock : Fail($"recvmsg failed ({r.Error})");
            }

            if (r.Value == 0)
            {
                return ChannelStatus.Closed;
            }

            if (truncated)
            {
                return Fail("ancillary data truncated (too many fds)");
            }

            _filled += (int)r.Value;
        }
    }

    private ChannelStatus Fail(string problem)
    {
        Problem = problem;
        return ChannelStatus.ProtocolError;
    }

    /// <summary>Sends a reply (flags 0x5) for <paramref name="request"/>; false if the socket failed.</summary>
    public bool Reply(uint request, ReadOnlySpan<byte> payload)
    {
        Span<byte> message = stackalloc byte[HeaderSize + MaxPayload];
        var header = new VhostUserHeader { Request = request, Flags = VhostUserFeatures.FlagVersion | VhostUserFeatures.FlagReply, Size = (uint)payload.Length };
        MemoryMarshal.Write(message, in header);
        payload.CopyTo(message[HeaderSize..]);
        var total = message[..(HeaderSize + payload.Length)];
        var r = Interop.SendWithFds(Socket, total, []);
        return r.Ok && r.Value == total.Length;
    }

    /// <summary>Sends a u64 reply (GET_* and REPLY_ACK acks).</summary>
    public bool ReplyU64(uint request, ulong value) =>
        Reply(request, MemoryMarshal.AsBytes(new ReadOnlySpan<ulong>(in value)));

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var fd in _fds)
        {
            fd.Dispose();
        }

        _fds.Clear();
        Socket.Dispose();
    }
}
