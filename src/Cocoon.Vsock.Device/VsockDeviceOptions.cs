// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol;

namespace Cocoon.Vsock.Device;

/// <summary>Configuration of one <see cref="VsockDevice"/>.</summary>
public sealed class VsockDeviceOptions
{
    /// <summary>Smallest accepted <see cref="ConnectionBufferSize"/> (4 KiB).</summary>
    public const int MinConnectionBufferSize = 4 * 1024;

    /// <summary>Largest accepted <see cref="ConnectionBufferSize"/> (64 MiB).</summary>
    public const int MaxConnectionBufferSize = 64 * 1024 * 1024;

    /// <summary>The vhost-user socket: the device listens, the VMM (QEMU) connects.</summary>
    public required string SocketPath { get; init; }

    /// <summary>The Firecracker-style hybrid vsock socket on the host (CONNECT &lt;port&gt;).</summary>
    public required string UdsPath { get; init; }

    /// <summary>The guest's context id, 3 .. 0xFFFFFFFE.</summary>
    public required ulong GuestCid { get; init; }

    /// <summary>Guest→host ports reachable, each at <c>UdsPath + "_" + port</c>; any other port is refused with RST.</summary>
    public IReadOnlyList<uint> AllowedHostPorts { get; init; } = [];

    /// <summary>The buf_alloc advertised per connection: how much guest→host data the device buffers.</summary>
    public int ConnectionBufferSize { get; init; } = 256 * 1024;

    /// <summary>Checks every option; throws <see cref="CocoonException"/> (InvalidArgument) naming the bad one.</summary>
    public void Validate()
    {
        CheckPath(nameof(SocketPath), SocketPath);
        uint longestPort = 0;
        foreach (uint port in AllowedHostPorts ?? [])
        {
            if (port is 0 or > 0xFFFFFFFE)
            {
                throw Invalid(nameof(AllowedHostPorts), $"port {port} is not a valid vsock port (1 .. 4294967294)");
            }

            longestPort = Math.Max(longestPort, port);
        }

        // The muxer connects to UdsPath_PORT for guest-initiated connections: the largest port makes the longest path.
        CheckPath(nameof(UdsPath), UdsPath);
        if (longestPort != 0)
        {
            UnixSocketPath.EnsureFits(FormattableString.Invariant($"{UdsPath}_{longestPort}"), $"vsock device option {nameof(UdsPath)} with port {longestPort}", "use a shorter path");
        }
        if (string.Equals(SocketPath, UdsPath, StringComparison.Ordinal))
        {
            throw Invalid(nameof(UdsPath), "it must differ from SocketPath");
        }

        if (!VsockCids.IsGuest(GuestCid))
        {
            throw Invalid(nameof(GuestCid), $"{GuestCid} is reserved or out of range; use 3 .. 4294967294");
        }

        if (ConnectionBufferSize is < MinConnectionBufferSize or > MaxConnectionBufferSize)
        {
            throw Invalid(nameof(ConnectionBufferSize), $"{ConnectionBufferSize} bytes is outside {MinConnectionBufferSize} .. {MaxConnectionBufferSize}");
        }
    }

    private static void CheckPath(string name, string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Contains('\0', StringComparison.Ordinal))
        {
            throw Invalid(name, "a socket path is required");
        }

        UnixSocketPath.EnsureFits(path, $"vsock device option {name}", "use a shorter path");
    }

    private static CocoonException Invalid(string option, string problem) =>
        new(CocoonErrorCode.InvalidArgument, $"Invalid vsock device option {option}: {problem}.");
}
