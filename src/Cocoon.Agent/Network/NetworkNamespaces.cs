// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;

namespace Cocoon.Agent.Network;

/// <summary>Finds the network namespace of a container in this box (<see cref="Containers.BoxContainers"/>).</summary>
internal interface INetworkNamespaces
{
    /// <summary>The path of <paramref name="container"/>'s network namespace (<c>/proc/PID/ns/net</c>), or null when no such container runs.</summary>
    string? Find(string container);
}

/// <summary>
/// Creates sockets inside another network namespace. A socket belongs to the namespace it was
/// created in, so only socket(2) needs to run there: a dedicated thread (never a pooled one, whose
/// namespace would leak to unrelated work) enters the namespace with setns(2), creates the socket
/// and ends; connect and all I/O then run on .NET's ordinary async engine.
/// </summary>
internal static class NamespacedSocket
{
    public static Task<Socket> CreateAsync(string namespacePath, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        var created = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle(namespacePath, FileMode.Open, FileAccess.Read);
                Interop.SetNs(ns, Interop.CLONE_NEWNET, $"setns({namespacePath}, CLONE_NEWNET)");
                created.SetResult(new Socket(family, type, protocol));
            }
            catch (Exception ex)
            {
                created.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "netns socket",
        };
        thread.Start();
        return created.Task;
    }
}
