// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.Oci.Unpack;

/// <summary>One layer blob to apply, bottom first.</summary>
/// <param name="Path">The blob in the content store.</param>
/// <param name="Compression">How it is compressed.</param>
/// <param name="Name">Names the layer in errors ("layer 2 of docker.io/library/app:1").</param>
internal sealed record LayerFile(string Path, LayerCompression Compression, string Name);

/// <summary>
/// Builds an image's read-only root file system: the layers applied in order into a staging
/// directory (<see cref="LayerApplier"/>), then an ext4 image made from it by
/// <c>mke2fs -d</c> (e2fsprogs), which copies ownership, modes, xattrs, hard links, symlinks and
/// device nodes. The staging directory is removed afterwards, whatever happens.
/// </summary>
/// <remarks>
/// Ownership can only be kept by a process that may chown and mknod, so building needs root
/// (Cocoon runs as root on its hosts); a non-root caller gets a clear Unsupported error instead
/// of an image whose files all belong to the wrong user.
/// </remarks>
internal static class RootfsBuilder
{
    private const long BlockSize = 4096;

    /// <summary>Builds <paramref name="output"/> from <paramref name="layers"/>, staging in <paramref name="staging"/>.</summary>
    public static void Build(IReadOnlyList<LayerFile> layers, string output, string staging, UnpackLimits limits)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new CocoonException(
                CocoonErrorCode.Unsupported,
                "building an image's root file system needs root (to keep file owners and device nodes); run cocoon as root");
        }

        UnixFiles.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        try
        {
            Unpack(layers, staging, limits);
            MakeExt4(staging, output);
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Applies <paramref name="layers"/> in order to <paramref name="directory"/>.</summary>
    public static void Unpack(IReadOnlyList<LayerFile> layers, string directory, UnpackLimits limits)
    {
        var applier = new LayerApplier(directory, limits, Environment.IsPrivilegedProcess);
        foreach (var layer in layers)
        {
            using var tar = LayerApplier.OpenLayer(layer.Path, layer.Compression);
            try
            {
                applier.Apply(tar, layer.Name);
            }
            catch (InvalidDataException e)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{layer.Name} cannot be decompressed ({e.Message}); the image is corrupt", e);
            }
        }
    }

    /// <summary>Makes a read-only-use ext4 image of <paramref name="directory"/>, sized to fit it.</summary>
    public static void MakeExt4(string directory, string output)
    {
        var (blocks, inodes) = Measure(directory);

        // Room for the metadata: inode tables (256 bytes each), directories' blocks, group
        // descriptors and bitmaps, plus a margin so mke2fs never runs out of space.
        var totalBlocks = blocks + (blocks / 10) + (inodes * 256 / BlockSize) + 2048;
        var inodeCount = inodes + (inodes / 10) + 256;
        var arguments = new[]
        {
            "-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-m", "0",
            "-O", "^has_journal,^resize_inode",
            "-E", "root_owner=0:0,lazy_itable_init=0",
            "-N", inodeCount.ToString(CultureInfo.InvariantCulture),
            "-L", "cocoon-rootfs",
            "-d", directory,
            output,
            totalBlocks.ToString(CultureInfo.InvariantCulture),
        };
        Run("mke2fs", arguments);

        // mke2fs always makes /lost+found; an image's tree has none, and a container must see
        // exactly the image's tree.
        Run("debugfs", ["-w", "-R", "rmdir /lost+found", output]);
    }

    /// <summary>
    /// Makes an empty ext4 file system of <paramref name="sizeMiB"/> in a new sparse file
    /// <paramref name="output"/> (a box's scratch disk): written to a temporary name and renamed,
    /// so a half-made disk is never found. Inode tables and the journal are initialised lazily, by
    /// the guest's kernel, so this is quick and the file stays sparse.
    /// </summary>
    public static void MakeEmptyExt4(string output, int sizeMiB)
    {
        var temporary = output + ".tmp";
        File.Delete(temporary);
        try
        {
            Run("mke2fs", ["-q", "-F", "-t", "ext4", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1",
                temporary, sizeMiB.ToString(System.Globalization.CultureInfo.InvariantCulture) + "M"]);
            File.Move(temporary, output);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static (long Blocks, long Inodes) Measure(string directory)
    {
        long blocks = 0;
        long inodes = 1;
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false, ReturnSpecialDirectories = false };
        foreach (var info in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", options))
        {
            inodes++;
            blocks += info is FileInfo { LinkTarget: null } file ? (file.Length + BlockSize - 1) / BlockSize : 1;
        }

        return (blocks, inodes);
    }

    private static void Run(string program, string[] arguments)
    {
        var result = HostTool.Run(program, arguments, "install e2fsprogs");
        if (result.ExitCode != 0)
        {
            throw new CocoonException(CocoonErrorCode.Internal, $"{program} failed with exit code {result.ExitCode}: {result.Output}");
        }
    }
}
