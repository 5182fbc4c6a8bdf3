// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Shim.Protocol;
using Microsoft.Extensions.Logging;

namespace Cocoon.Shim;

/// <summary>The shim's host mounts, through mount(8): the rootfs containerd prepared (a snapshotter's overlay or bind), and the pod share's.</summary>
internal static class RootfsMount
{
    private const string InstallHint = "install mount (util-linux)";

    /// <summary>Mounts <paramref name="mount"/> on <paramref name="target"/>.</summary>
    /// <exception cref="CocoonException">Internal with mount's own words when it fails.</exception>
    public static void Mount(RootMount mount, string target)
    {
        Directory.CreateDirectory(target);
        List<string> args = ["-t", mount.Type];
        if (mount.Options.Count > 0)
        {
            args.AddRange(["-o", string.Join(',', mount.Options)]);
        }

        args.AddRange([mount.Source, target]);
        Run(args, $"mounting the rootfs ({mount.Type} from {mount.Source}) on {target}");
    }

    /// <summary>Runs <c>mount</c> with <paramref name="args"/>.</summary>
    /// <exception cref="CocoonException">Internal naming <paramref name="what"/>, with mount's own words, when it fails.</exception>
    public static void Run(IReadOnlyList<string> args, string what)
    {
        var result = HostTool.Run("mount", args, InstallHint);
        if (result.ExitCode != 0)
        {
            throw new CocoonException(CocoonErrorCode.Internal, $"{what} failed: {result.Output}");
        }
    }

    /// <summary>Unmounts <paramref name="target"/> (with <paramref name="lazy"/>: detached now, gone once unused); a failure is logged (the bundle's owner removes it next).</summary>
    public static void Unmount(string target, ILogger logger, bool lazy = false)
    {
        var result = HostTool.Run("umount", lazy ? ["--lazy", "--recursive", target] : [target], InstallHint);
        if (result.ExitCode != 0)
        {
            ShimLog.CleanupFailed(logger, target, result.Output);
        }
    }

    /// <summary>Whether <paramref name="path"/> is a mount point in this mount namespace.</summary>
    public static bool IsMountPoint(string path) =>
        File.ReadLines("/proc/self/mountinfo").Any(l => l.Split(' ') is { Length: > 4 } f && Unescape(f[4]) == path);

    /// <summary>mountinfo writes space, tab, newline and backslash as octal escapes.</summary>
    private static string Unescape(string field) => field
        .Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
        .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
