// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Xunit;

namespace Cocoon.Tests.Common;

/// <summary>
/// A fact that needs a device node of the host (<c>/dev/vsock</c>, <c>/dev/kvm</c>): where the node
/// is missing, or cannot be opened read-write when <see cref="ReadWrite"/> is set, the test is
/// reported as skipped with the reason instead of passing without running.
/// </summary>
public sealed class DeviceFactAttribute : FactAttribute
{
    /// <summary>Creates the attribute for <paramref name="device"/>.</summary>
    public DeviceFactAttribute(string device)
    {
        Device = device;
    }

    /// <summary>The device node the test needs.</summary>
    public string Device { get; }

    /// <summary>Whether the test must be able to open <see cref="Device"/> for reading and writing.</summary>
    public bool ReadWrite { get; set; }

    /// <inheritdoc />
    public override string? Skip
    {
        get => base.Skip ?? SkipReason(Device, ReadWrite);
        set => base.Skip = value;
    }

    /// <summary>Why a test needing <paramref name="device"/> cannot run here; null when it can.</summary>
    public static string? SkipReason(string device, bool readWrite = false)
    {
        if (!File.Exists(device))
        {
            return $"{device} does not exist on this host";
        }

        if (readWrite)
        {
            try
            {
                using var stream = new FileStream(device, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                return $"{device} cannot be opened read-write here: {ex.Message}";
            }
        }

        return null;
    }
}
