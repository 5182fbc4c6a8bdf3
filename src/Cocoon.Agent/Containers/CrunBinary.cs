// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Containers;

/// <summary>
/// The crun the agent runs (<c>crun run</c>, <c>crun exec</c>) and its environment.
/// <para>
/// crun guards against a container overwriting the runtime through <c>/proc/self/exe</c>
/// (CVE-2019-5736) by re-executing itself from a copy that cannot be written, unless it already runs
/// from one: a fully sealed memfd, or, with <c>_LIBCONTAINER_CLONED_BINARY</c> set, a file on a
/// read-only mount. A box's root is a tmpfs, whose files answer F_GET_SEALS with F_SEAL_SEAL alone;
/// crun takes that for "not cloned" without looking at the mount, so each start re-executed twice (a
/// read-only bind mount of itself, then a sealed memfd copy): three loads of crun and its ten
/// libraries, the larger part of a container's start under TCG.
/// </para>
/// <para>
/// As init the agent copies crun once, at the first container, onto a ramfs of its own (not shmem:
/// no seals) mounted read-only, and runs it from there with the variable set; crun then starts once.
/// The copy is as safe as crun's own: the mount is in the box's mount namespace, which no container
/// sees or can remount. When the copy cannot be made, crun runs as installed and clones itself.
/// </para>
/// </summary>
internal sealed class CrunBinary
{
    /// <summary>Where the box's initramfs has crun.</summary>
    public const string Installed = "/usr/bin/crun";

    /// <summary>The read-only ramfs holding the copy.</summary>
    public const string CopyDirectory = "/run/cocoon/crun";

    private static readonly string[] PlainEnvironment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"];
    private static readonly string[] ClonedEnvironment = [.. PlainEnvironment, "_LIBCONTAINER_CLONED_BINARY=1"];

    private readonly Lazy<(string Path, string[] Environment)> _resolved;

    /// <param name="readOnlyCopy">Whether to run crun from a read-only copy (as init); otherwise it runs as installed.</param>
    /// <param name="copyFailed">Told why the copy could not be made; crun then runs as installed.</param>
    public CrunBinary(bool readOnlyCopy, Action<Exception> copyFailed)
    {
        ArgumentNullException.ThrowIfNull(copyFailed);
        _resolved = new(() =>
        {
            if (readOnlyCopy)
            {
                try
                {
                    return (MakeReadOnlyCopy(Installed, CopyDirectory), ClonedEnvironment);
                }
                catch (Exception ex) when (ex is CocoonException or IOException or UnauthorizedAccessException)
                {
                    copyFailed(ex);
                }
            }

            return (Installed, PlainEnvironment);
        });
    }

    /// <summary>The program to execute; the copy is made on first use.</summary>
    public string Path => _resolved.Value.Path;

    /// <summary>crun's environment (not the container's: that comes from the spec).</summary>
    public IReadOnlyList<string> Environment => _resolved.Value.Environment;

    /// <summary>
    /// Mounts a ramfs on <paramref name="directory"/>, copies <paramref name="installed"/> into it and
    /// remounts it read-only; returns the copy's path. A failure leaves nothing mounted.
    /// </summary>
    /// <exception cref="CocoonException">A mount failed.</exception>
    /// <exception cref="IOException">The copy failed.</exception>
    internal static string MakeReadOnlyCopy(string installed, string directory)
    {
        Directory.CreateDirectory(directory);
        Interop.Mount("ramfs", directory, "ramfs", Interop.MS_NOSUID | Interop.MS_NODEV, "mode=0755")
            .ThrowIfFailed($"mount a ramfs on {directory}");
        try
        {
            var copy = System.IO.Path.Combine(directory, System.IO.Path.GetFileName(installed));
            File.Copy(installed, copy);
            File.SetUnixFileMode(copy, (UnixFileMode)0x1ED); // 0755
            Interop.Mount("ramfs", directory, "ramfs", Interop.MS_REMOUNT | Interop.MS_RDONLY | Interop.MS_NOSUID | Interop.MS_NODEV, null)
                .ThrowIfFailed($"remount {directory} read-only");
            return copy;
        }
        catch
        {
            _ = Interop.Unmount(directory, Interop.MNT_DETACH);
            throw;
        }
    }
}
