// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent;

/// <summary>
/// The box log: the virtio-serial port named <see cref="GuestDevices.BoxLogPortName"/>, whose host
/// side QEMU appends to the box's <c>box.log</c> (<c>cocoon logs</c>). The agent writes its log lines
/// and the output of execs that ask for it (the box's main command) here.
/// </summary>
/// <remarks>
/// The port is announced by the host after <c>virtio_console</c> loads, asynchronously, so it is
/// looked up on each write until found; what is written before is kept (bounded) and written
/// first. A box without the port (a test server, a VM started by hand) writes nowhere. Writes are
/// synchronous: the host side is a file, so a write waits for QEMU's I/O thread only.
/// </remarks>
internal static class BoxLog
{
    private const string PortsDirectory = "/sys/class/virtio-ports";

    /// <summary>At most this much is kept while the port has not appeared yet.</summary>
    private const int MaxPending = 256 * 1024;

    private static readonly Lock WriteLock = new();
    private static readonly List<byte[]> Pending = [];
    private static SafeFileHandle? _port;
    private static int _pendingBytes;
    private static bool _failed;

    /// <summary>Set when the agent is the guest's init: only a real box has the port.</summary>
    public static bool Enabled { get; set; }

    /// <summary>Appends <paramref name="data"/> to the box log; a failure turns the log off (it must never fail the caller).</summary>
    public static void Write(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || !Enabled || _failed)
        {
            return;
        }

        lock (WriteLock)
        {
            if (_port is null && !TryOpen())
            {
                if (_pendingBytes + data.Length <= MaxPending)
                {
                    Pending.Add(data.ToArray());
                    _pendingBytes += data.Length;
                }

                return;
            }

            foreach (var earlier in Pending)
            {
                WriteToPort(earlier);
            }

            Pending.Clear();
            _pendingBytes = 0;
            WriteToPort(data);
        }
    }

    private static void WriteToPort(ReadOnlySpan<byte> data)
    {
        if (_port is { } port && !Interop.WriteAll(port, data).Ok)
        {
            _failed = true;
            port.Dispose();
            _port = null;
        }
    }

    /// <summary>Finds the port by its name (<c>/sys/class/virtio-ports/vportNpM/name</c>) and opens <c>/dev/vportNpM</c>.</summary>
    private static bool TryOpen()
    {
        if (!Directory.Exists(PortsDirectory))
        {
            return false;
        }

        try
        {
            foreach (var directory in Directory.EnumerateDirectories(PortsDirectory))
            {
                var nameFile = Path.Combine(directory, "name");
                if (File.Exists(nameFile) && File.ReadAllText(nameFile).Trim() == GuestDevices.BoxLogPortName)
                {
                    _port = Interop.OpenFile("/dev/" + Path.GetFileName(directory), Interop.OpenFlags.O_WRONLY);
                    return true;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CocoonException)
        {
            _failed = true;
        }

        return false;
    }
}
