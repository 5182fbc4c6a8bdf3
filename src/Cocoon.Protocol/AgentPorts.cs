// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Protocol;

/// <summary>The well-known vsock ports the guest agent listens on (docs/architecture.md §2.2).</summary>
public static class AgentPorts
{
    /// <summary>The agent control API: gRPC over HTTP/2.</summary>
    public const uint Control = 1024;

    /// <summary>The agent data streams: one vsock connection per relayed connection.</summary>
    public const uint Streams = 1025;
}
