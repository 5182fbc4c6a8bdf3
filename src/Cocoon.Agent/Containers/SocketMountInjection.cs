// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Containers;

/// <summary>
/// Bind-mounts a socket of the box into a running container's mount namespace (a socket forward
/// added after the container was created; docs/architecture.md §6b).
/// <code>
///  1. in the agent     open_tree(CLONE) of the listener: a detached bind mount, held by a descriptor;
///                      open the container's mount namespace and root (/proc/PID/ns/mnt, /proc/PID/root)
///  2. a new thread     unshare(CLONE_FS) so root and working directory are its own, setns into the
///                      namespace, chroot to the container's root: every path below resolves as the
///                      container's processes see it, its symbolic links included, never outside it
///  3. mount point      the destination's directories, and an empty file at it when nothing is there
///  4. move_mount       the detached mount onto the destination; the thread ends (never pooled)
/// </code>
/// </summary>
internal static class SocketMountInjection
{
    /// <summary>Mounts the box path <paramref name="source"/> at <paramref name="destination"/> inside the container whose init is <paramref name="pid"/>.</summary>
    /// <exception cref="CocoonException">AlreadyExists when a directory is at the destination; Internal naming the step that failed.</exception>
    public static void Mount(int pid, string source, string destination)
    {
        // :: Step 1
        var proc = $"/proc/{pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        using var tree = Interop.CloneMount(source);
        using var ns = Interop.OpenFile($"{proc}/ns/mnt", Interop.OpenFlags.O_RDONLY);
        using var root = Interop.OpenFile($"{proc}/root", Interop.OpenFlags.O_RDONLY | Interop.OpenFlags.O_DIRECTORY);
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                // :: Step 2
                Interop.Unshare(Interop.CLONE_FS, "unshare(CLONE_FS)");
                Interop.SetNs(ns, Interop.CLONE_NEWNS, $"setns({proc}/ns/mnt, CLONE_NEWNS)");
                Interop.ChangeDirectory(root, $"fchdir({proc}/root)");
                Interop.ChangeRoot(".");

                // :: Step 3
                if (Directory.Exists(destination))
                {
                    throw new CocoonException(CocoonErrorCode.AlreadyExists, $"'{destination}' is a directory in the container; a socket cannot be mounted there");
                }

                if (Path.GetDirectoryName(destination) is { Length: > 0 } parent)
                {
                    Directory.CreateDirectory(parent);
                }

                if (!File.Exists(destination))
                {
                    using var mountPoint = Interop.OpenFile(destination, Interop.OpenFlags.O_WRONLY | Interop.OpenFlags.O_CREAT | Interop.OpenFlags.O_NOFOLLOW, 0b110_100_100);
                }

                // :: Step 4
                Interop.MoveMount(tree, destination);
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = "mount into container",
        };
        thread.Start();
        thread.Join();
        switch (failure)
        {
            case null:
                return;
            case CocoonException { Code: CocoonErrorCode.AlreadyExists }:
                throw failure;
            default:
                throw new CocoonException(CocoonErrorCode.Internal, $"cannot mount the socket forward at '{destination}' in the running container: {failure.Message}", failure);
        }
    }
}
