// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Shim.Protocol;
using Microsoft.Extensions.Logging;

namespace Cocoon.Shim;

/// <summary>Mounts the rootfs containerd prepared (a snapshotter's overlay or bind) on the bundle's rootfs/ with mount(8).</summary>
internal static class RootfsMount
{
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
        var result = HostTool.Run("mount", args, "install mount (util-linux)");
        if (result.ExitCode != 0)
        {
            throw new CocoonException(CocoonErrorCode.Internal, $"mounting the rootfs ({mount.Type} from {mount.Source}) on {target} failed: {result.Output}");
        }
    }

    /// <summary>Unmounts <paramref name="target"/>; a failure is logged (the bundle's owner removes it next).</summary>
    public static void Unmount(string target, ILogger logger)
    {
        var result = HostTool.Run("umount", [target], "install mount (util-linux)");
        if (result.ExitCode != 0)
        {
            ShimLog.CleanupFailed(logger, target, result.Output);
        }
    }
}
