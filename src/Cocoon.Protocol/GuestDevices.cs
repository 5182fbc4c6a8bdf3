// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Protocol;

/// <summary>Names of the guest devices both the host and the agent rely on.</summary>
public static class GuestDevices
{
    /// <summary>
    /// The virtio-serial port the agent writes the box log to: its own log lines and the output of
    /// the box's main command. The host appends what arrives to <c>boxes/NAME/box.log</c>, which
    /// <c>cocoon logs</c> prints.
    /// </summary>
    public const string BoxLogPortName = "cocoon.log";
}
