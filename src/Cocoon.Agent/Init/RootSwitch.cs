// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Init;

/// <summary>
/// Moves the guest's root out of the initramfs into a tmpfs mount, as <c>switch_root</c> does, so
/// that pivot_root(2) works below it: the kernel refuses to pivot away from the initial
/// <c>rootfs</c>, which has no parent mount, and crun pivots into every container's root
/// (docs/architecture.md §2.7).
/// <code>
///  1. mount a tmpfs on /.cocoon-root
///  2. copy every file of the initramfs into it, then delete the originals (a failed copy leaves
///     the initramfs whole: the tmpfs is unmounted and the boot goes on from it). /dev and /tmp are
///     not copied: devtmpfs is mounted on the new /dev, since it holds the nodes the runtime opens
///     at start (/dev/urandom) and copying device nodes needs mknod; /tmp holds only the runtime's
///     diagnostics socket, and gets a tmpfs of its own later
///  3. chdir into the new root, mount --move it onto /, chroot .
///  4. execve /init --switched-root: the agent starts again from the new root, so its own path
///     (used to drop privileges for an exec) names a file that exists, and the old binary is freed
/// </code>
/// Only PID 1 does this, once; a failure is reported and the boot goes on from the initramfs.
/// </summary>
internal static class RootSwitch
{
    /// <summary>The argument the agent is re-executed with once its root is the tmpfs.</summary>
    public const string SwitchedArgument = "--switched-root";

    /// <summary>Where the tmpfs is mounted before it becomes the root.</summary>
    public const string NewRoot = "/.cocoon-root";

    /// <summary>Steps 1–4; returns only when a step failed (with the failure), else the process is replaced.</summary>
    public static Exception? SwitchAndReexecute()
    {
        try
        {
            // :: Step 1
            Directory.CreateDirectory(NewRoot);
            Interop.Mount("tmpfs", NewRoot, "tmpfs", Interop.MS_NODEV, "mode=0755").ThrowIfFailed($"mount tmpfs on {NewRoot}");

            // :: Step 2
            try
            {
                CopyTree("/", NewRoot, skip: NewRoot, emptyDirectories: ["/dev", "/tmp"]);
                Interop.Mount("devtmpfs", NewRoot + "/dev", "devtmpfs", Interop.MS_NOSUID, "mode=0755").ThrowIfFailed("mount devtmpfs on the new /dev");
            }
            catch
            {
                _ = Interop.Unmount(NewRoot + "/dev", Interop.MNT_DETACH);
                _ = Interop.Unmount(NewRoot, Interop.MNT_DETACH);
                throw;
            }

            DeleteTree("/", skip: NewRoot);

            // :: Step 3
            Environment.CurrentDirectory = NewRoot;
            Interop.Mount(".", "/", "", Interop.MS_MOVE, null).ThrowIfFailed("mount --move the new root onto /");
            Interop.ChangeRoot(".");
            Environment.CurrentDirectory = "/";

            // :: Step 4
            var argv = Interop.AllocStringArray(["/init", SwitchedArgument]);
            var envp = Interop.AllocStringArray([.. Environment.GetEnvironmentVariables().Keys.Cast<string>().Select(key => $"{key}={Environment.GetEnvironmentVariable(key)}")]);
            Interop.Execve("/init", argv, envp);
            return new InvalidOperationException("execve /init returned without an error.");
        }
        catch (Exception ex) when (ex is CocoonException or IOException or UnauthorizedAccessException)
        {
            return ex;
        }
    }

    /// <summary>
    /// Copies the tree under <paramref name="source"/> into <paramref name="target"/>: directories
    /// (with their modes), regular files (contents and modes) and symbolic links.
    /// <paramref name="skip"/> is left out; the directories in <paramref name="emptyDirectories"/>
    /// are created empty.
    /// </summary>
    internal static void CopyTree(string source, string target, string skip, IReadOnlyCollection<string> emptyDirectories)
    {
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            if (entry.FullName == skip)
            {
                continue;
            }

            var destination = Path.Combine(target, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(destination, link);
            }
            else if (entry is DirectoryInfo directory)
            {
                Directory.CreateDirectory(destination);
                // Set after creation: the umask must not trim modes such as /tmp's 1777.
                File.SetUnixFileMode(destination, directory.UnixFileMode);
                if (!emptyDirectories.Contains(entry.FullName))
                {
                    CopyTree(entry.FullName, destination, skip, emptyDirectories);
                }
            }
            else
            {
                File.Copy(entry.FullName, destination);
                File.SetUnixFileMode(destination, entry.UnixFileMode);
            }
        }
    }

    /// <summary>Deletes everything under <paramref name="root"/> except <paramref name="skip"/>, so the initramfs no longer holds memory.</summary>
    internal static void DeleteTree(string root, string skip)
    {
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos())
        {
            if (entry.FullName == skip)
            {
                continue;
            }

            if (entry is DirectoryInfo { LinkTarget: null } directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }
    }
}
