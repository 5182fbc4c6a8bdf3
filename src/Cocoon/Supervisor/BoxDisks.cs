// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias oci;
using Cocoon.Protocol;
using Cocoon.State;
using Cocoon.Vmm;
using oci::Cocoon.Oci.Unpack;

namespace Cocoon.Supervisor;

/// <summary>
/// The two disks of a box with an image (docs/architecture.md §2.7): the image's read-only ext4
/// root file system (<c>images/rootfs/&lt;digest&gt;.ext4</c>, shared by every box of that image) and
/// the box's own sparse ext4 scratch disk (<c>boxes/&lt;name&gt;/scratch.ext4</c>), which holds the
/// containers' overlay upper and work directories. The agent mounts both at boot and finds them by
/// serial.
/// </summary>
/// <param name="ImagePath">The image's root file system on the host.</param>
/// <param name="ScratchPath">The box's scratch disk on the host.</param>
internal sealed record BoxDisks(string ImagePath, string ScratchPath)
{
    /// <summary>Where the agent mounts the image's root file system (read-only): the containers' lower layer.</summary>
    public const string ImageMountPoint = "/run/cocoon/image";

    /// <summary>Where the agent mounts the scratch disk: the containers' upper and work directories.</summary>
    public const string ScratchMountPoint = "/run/cocoon/scratch";

    /// <summary>
    /// The kernel modules a box with disks loads beyond the base set (ext4 is built into the Debian
    /// kernel). The agent loads them with the disks, after it serves (<see cref="BootConfig.DiskModules"/>).
    /// </summary>
    public static readonly IReadOnlyList<string> Modules = ["virtio_blk", "overlay"];

    private const string ImageSerial = "cocoon-image";
    private const string ScratchSerial = "cocoon-scratch";

    /// <summary>Whether the guest module path <paramref name="module"/> (<c>/lib/m/NAME.ko</c>) is one of <see cref="Modules"/>.</summary>
    public static bool IsDiskModule(string module) => Modules.Contains(Path.GetFileNameWithoutExtension(module));

    /// <summary>The disks as QEMU attaches them.</summary>
    public IReadOnlyList<VmDisk> VmDisks => [new(ImagePath, ImageSerial, ReadOnly: true), new(ScratchPath, ScratchSerial, ReadOnly: false)];

    /// <summary>The disks as the agent mounts them.</summary>
    public IReadOnlyList<BootDisk> BootDisks =>
    [
        new() { Serial = ImageSerial, MountPoint = ImageMountPoint, ReadOnly = true },
        new() { Serial = ScratchSerial, MountPoint = ScratchMountPoint },
    ];

    /// <summary>
    /// Finds (building it if missing) the root file system of <paramref name="record"/>'s image and
    /// makes the box's scratch disk on its first start; null for a box without an image.
    /// </summary>
    /// <exception cref="CocoonException">NotFound when the image is not stored (pull it first).</exception>
    public static BoxDisks? Prepare(CocoonPaths paths, BoxRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(record);
        if (record.Config.Image is not { } image)
        {
            return null;
        }

        var rootfs = CocoonImages.GetRootfsAsync(paths, image, cancellationToken).GetAwaiter().GetResult();
        var scratch = paths.ScratchDisk(record.Name);
        if (!File.Exists(scratch))
        {
            MakeScratchDisk(paths, scratch, record.Config.DiskSizeMiB ?? BoxOptions.DefaultDiskSizeMiB);
        }

        return new BoxDisks(rootfs, scratch);
    }

    /// <summary>
    /// Makes the empty scratch disk <paramref name="path"/>: a sparse copy of the template of that
    /// size (<see cref="CocoonPaths.ScratchTemplate"/>), which mke2fs makes once. The copy moves only
    /// the few MiB of metadata mke2fs wrote, in a few milliseconds; mke2fs itself took some 45 ms on
    /// the way to every box's first boot. Every copy has the template's file system UUID, which is
    /// harmless: a box sees only its own.
    /// </summary>
    internal static void MakeScratchDisk(CocoonPaths paths, string path, int sizeMiB)
    {
        var template = paths.ScratchTemplate(sizeMiB);
        if (!File.Exists(template))
        {
            // Concurrent first starts each make one; the renames are atomic and any of them will do.
            Directory.CreateDirectory(Path.GetDirectoryName(template)!);
            var made = $"{template}.{Environment.ProcessId}";
            RootfsBuilder.MakeEmptyExt4(made, sizeMiB);
            File.Move(made, template, overwrite: true);
        }

        var temporary = path + ".tmp";
        try
        {
            CopySparse(template, temporary);
            File.Move(temporary, path);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Copies <paramref name="source"/> to a new file <paramref name="destination"/>, leaving its holes holes.</summary>
    internal static void CopySparse(string source, string destination)
    {
        using var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read);
        using var output = File.OpenHandle(destination, FileMode.CreateNew, FileAccess.Write);
        var length = RandomAccess.GetLength(input);
        var buffer = new byte[1 << 20];
        var offset = 0L;
        while (offset < length && Interop.NextDataExtent(input, offset, source) is { } extent)
        {
            for (var at = extent.Start; at < extent.End;)
            {
                var read = RandomAccess.Read(input, buffer.AsSpan(0, (int)Math.Min(buffer.Length, extent.End - at)), at);
                if (read == 0)
                {
                    break;
                }

                RandomAccess.Write(output, buffer.AsSpan(0, read), at);
                at += read;
            }

            offset = extent.End;
        }

        RandomAccess.SetLength(output, length);
    }
}
