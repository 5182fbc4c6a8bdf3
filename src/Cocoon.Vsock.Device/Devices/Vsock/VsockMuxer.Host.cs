// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Text;
using static Cocoon.Vsock.Device.Devices.Vsock.VsockProtocol;

namespace Cocoon.Vsock.Device.Devices.Vsock;

/// <summary>Host-side events: hybrid-socket accepts, the CONNECT line, socket readiness, timers.</summary>
internal sealed partial class VsockMuxer
{
    /// <summary>Accepts every pending connection on the hybrid socket.</summary>
    public void AcceptHost(SafeFdHandle listener)
    {
        while (true)
        {
            var fd = Interop.AcceptNonBlocking(listener, out var error);
            if (fd == null)
            {
                if (error != Interop.Errno.EAGAIN)
                {
                    VsockDeviceLog.HostConnectFailed(_logger, _options.UdsPath, $"accept: {error}");
                }

                return;
            }

            AdoptHost(fd);
        }
    }

    /// <summary>Takes a freshly accepted host socket that is expected to send "CONNECT port\n".</summary>
    internal void AdoptHost(SafeFdHandle fd)
    {
        if (_freeSlots.Count == 0)
        {
            VsockDeviceLog.ConnectionLimit(_logger, MaxConnections);
            fd.Dispose();
            return;
        }

        var c = Allocate(fd);
        c.State = ConnectionState.AwaitConnectLine;
        c.Deadline = Environment.TickCount64 + ConnectLineTimeoutMs;
        TryReadConnectLine(c);
    }

    /// <summary>Handles readiness of a host socket (edge-triggered).</summary>
    public void OnHostEvent(ulong token, uint events)
    {
        int slot = (int)(uint)token;
        uint gen = (uint)(token >> 32) & 0xFFFFFF;
        if ((uint)slot >= MaxConnections || _slots[slot] is not { } c || c.Generation != gen || c.Host == null)
        {
            return;
        }

        if (c.State == ConnectionState.AwaitConnectLine)
        {
            TryReadConnectLine(c);
            return;
        }

        if ((events & (Interop.EPOLLOUT | Interop.EPOLLERR | Interop.EPOLLHUP)) != 0)
        {
            c.HostWritable = true;
            FlushToHost(c);
            if (_slots[slot] != c)
            {
                return;
            }

            CheckClosed(c);
            if (_slots[slot] != c || c.Host == null)
            {
                return;
            }
        }

        if ((events & (Interop.EPOLLIN | Interop.EPOLLRDHUP | Interop.EPOLLHUP | Interop.EPOLLERR)) != 0)
        {
            if ((c.PeerShutdown & ShutdownRcv) != 0)
            {
                DiscardHostInput(c);
            }
            else
            {
                c.HostReadable = true;
            }
        }

        Schedule(c);
    }

    private void TryReadConnectLine(VsockConnection c)
    {
        Span<byte> buffer = stackalloc byte[ConnectLineMax];

        // Peek so bytes after the newline stay in the socket for the guest.
        var r = Interop.Recv(c.Host!, buffer, Interop.MSG_PEEK);
        if (!r.Ok)
        {
            if (!r.WouldBlock)
            {
                Remove(c);
            }

            return;
        }

        if (r.Value == 0)
        {
            Remove(c);
            return;
        }

        var seen = buffer[..(int)r.Value];
        int newline = seen.IndexOf((byte)'\n');
        if (newline < 0)
        {
            if (seen.Length >= ConnectLineMax)
            {
                VsockDeviceLog.BadConnectLine(_logger);
                Remove(c);
            }

            return;
        }

        _ = Interop.Read(c.Host!, buffer[..(newline + 1)]);
        if (!TryParseConnect(seen[..newline], out uint port))
        {
            VsockDeviceLog.BadConnectLine(_logger);
            Remove(c);
            return;
        }

        uint local = AllocateLocalPort();
        c.LocalPort = local;
        c.PeerPort = port;
        c.State = ConnectionState.LocalInit;
        c.Pending = PendingControl.Request;
        c.Deadline = Environment.TickCount64 + LocalInitTimeoutMs;
        c.InTable = true;
        _localPortsInUse.Add(local);
        _table.Add(Key(local, port), c);
        Schedule(c);
    }

    /// <summary>Parses "CONNECT &lt;port&gt;" (verb case-insensitive, optional trailing CR).</summary>
    internal static bool TryParseConnect(ReadOnlySpan<byte> line, out uint port)
    {
        port = 0;
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        const int VerbLength = 8;
        if (line.Length <= VerbLength || !System.Text.Ascii.EqualsIgnoreCase(line[..VerbLength], "CONNECT "u8))
        {
            return false;
        }

        var digits = line[VerbLength..];
        return Utf8Parser.TryParse(digits, out port, out int consumed) && consumed == digits.Length && digits[0] is >= (byte)'0' and <= (byte)'9';
    }

    private uint AllocateLocalPort()
    {
        while (true)
        {
            uint p = _nextLocalPort;
            _nextLocalPort = p + 1 >= LocalPortEnd ? FirstLocalPort : p + 1;
            if (!_localPortsInUse.Contains(p))
            {
                return p;
            }
        }
    }

    /// <summary>Fires expired timers (connect-line wait, LocalInit, close); cheap to call often.</summary>
    public void CheckTimers(long now)
    {
        if (now < _nextTimerScan)
        {
            return;
        }

        _nextTimerScan = now + 100;
        foreach (var c in _slots)
        {
            if (c == null || c.Deadline == 0 || now < c.Deadline)
            {
                continue;
            }

            c.Deadline = 0;
            if (c.State == ConnectionState.AwaitConnectLine)
            {
                Remove(c);
            }
            else
            {
                Kill(c, c.State == ConnectionState.LocalInit ? "guest did not answer the connection request in time" : "close timed out");
            }
        }
    }
}
