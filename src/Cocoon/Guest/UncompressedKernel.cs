// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Cocoon.Guest;

/// <summary>
/// The guest kernel as QEMU boots it: the uncompressed ELF image inside the bzImage, started at its PVH
/// entry point, extracted once per kernel into <c>cache/guest/vmlinux-VERSION-KEY</c>.
/// </summary>
/// <remarks>
/// A bzImage carries the kernel compressed, behind a decompressor that runs in the guest first. Under
/// TCG that decompressor is slow: measured on the CI host (QEMU 7.2, Debian's LZ4-compressed 6.1 cloud
/// kernel, microvm, a busybox /init that powers off), QEMU ran 2.3–2.5 s with the bzImage and
/// 1.5–1.8 s with the same kernel uncompressed. QEMU starts an ELF kernel that has a
/// <c>XEN_ELFNOTE_PHYS32_ENTRY</c> note (<c>CONFIG_PVH</c>) at that entry point, with the initramfs and
/// command line as usual; Firecracker boots its guests the same way.
/// <para>
/// An uncompressed kernel runs at its link address: no in-guest KASLR. Inside a box the guest is the
/// untrusted party already (docs/architecture.md §3); its kernel's layout guards nothing of the host.
/// </para>
/// <para>
/// The payload is found through the boot protocol header (<c>Documentation/arch/x86/boot.rst</c>:
/// <c>setup_sects</c> at 0x1F1, <c>HdrS</c> at 0x202, <c>payload_offset</c> and <c>payload_length</c> at
/// 0x248, protocol 2.08 and later); its last four bytes are the decompressed length. LZ4 and gzip
/// payloads are decoded; a kernel compressed otherwise, or without the PVH note, boots as the bzImage.
/// </para>
/// </remarks>
internal static class UncompressedKernel
{
    private const int XenPhys32EntryNote = 18;
    private const int ElfNoteProgramHeader = 4;

    /// <summary>
    /// The kernel file to give QEMU: the cached uncompressed image of <paramref name="kernel"/>, made
    /// now when missing, or the bzImage itself when it cannot be made (the reason is logged).
    /// </summary>
    public static string BootPath(GuestKernel kernel, string cacheDirectory, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(logger);
        try
        {
            if (GetOrExtract(kernel, cacheDirectory, logger, out var reason) is { } path)
            {
                return path;
            }

            GuestLog.KernelKeptCompressed(logger, kernel.KernelPath, reason!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            GuestLog.KernelKeptCompressed(logger, kernel.KernelPath, ex.Message);
        }

        return kernel.KernelPath;
    }

    /// <summary>The cached uncompressed image, extracted when missing; null with the reason when it cannot be.</summary>
    internal static string? GetOrExtract(GuestKernel kernel, string cacheDirectory, ILogger logger, out string? reason)
    {
        var stamp = HostFileStamp.Of(kernel.KernelPath) ?? throw new FileNotFoundException($"guest kernel '{kernel.KernelPath}' does not exist", kernel.KernelPath);
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{stamp.Path}\n{stamp.Size}\n{stamp.ModifiedTicks}")))[..16];
        var target = Path.Combine(cacheDirectory, $"vmlinux-{kernel.Version}-{key}");
        reason = null;
        if (File.Exists(target))
        {
            return target;
        }

        var watch = Stopwatch.StartNew();
        if (Extract(File.ReadAllBytes(kernel.KernelPath), out reason) is not { } elf)
        {
            return null;
        }

        Directory.CreateDirectory(cacheDirectory);
        var temporary = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temporary, elf);
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        GuestLog.KernelExtracted(logger, target, kernel.KernelPath, watch.ElapsedMilliseconds);
        RemoveOthers(cacheDirectory, target);
        return target;
    }

    /// <summary>
    /// Removes the uncompressed images of other kernels (or of this kernel's file before it changed),
    /// some 50 MiB each, which a kernel upgrade would otherwise leave behind for good. QEMU reads its
    /// kernel when it starts, so only a box starting with the old kernel at this very moment can miss it.
    /// </summary>
    private static void RemoveOthers(string cacheDirectory, string keep)
    {
        foreach (var path in Directory.EnumerateFiles(cacheDirectory, "vmlinux-*"))
        {
            if (path != keep && !path.EndsWith(".tmp", StringComparison.Ordinal))
            {
                try
                {
                    File.Delete(path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Another process's, or already gone: it is only space.
                }
            }
        }
    }

    /// <summary>The uncompressed ELF kernel inside <paramref name="bzImage"/>; null with the reason when it has none QEMU can start.</summary>
    /// <exception cref="InvalidDataException">The header says LZ4 or gzip but the payload does not decode.</exception>
    internal static byte[]? Extract(ReadOnlySpan<byte> bzImage, out string? reason)
    {
        if (bzImage.Length < 0x250 || !bzImage.Slice(0x202, 4).SequenceEqual("HdrS"u8) || BinaryPrimitives.ReadUInt16LittleEndian(bzImage[0x206..]) < 0x208)
        {
            reason = "it is not a bzImage of boot protocol 2.08 or later";
            return null;
        }

        var setupSectors = bzImage[0x1F1] == 0 ? 4 : bzImage[0x1F1];
        var start = (setupSectors + 1) * 512L + BinaryPrimitives.ReadUInt32LittleEndian(bzImage[0x248..]);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(bzImage[0x24C..]);
        if (length < 8 || start + length > bzImage.Length)
        {
            reason = $"its payload ({length} bytes at {start}) lies outside the file's {bzImage.Length} bytes";
            return null;
        }

        var payload = bzImage.Slice((int)start, (int)length);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(payload[^4..]);
        if (size is 0 or > 1u << 30)
        {
            reason = $"its payload claims to decompress to {size} bytes";
            return null;
        }

        var elf = new byte[size];
        if (payload.StartsWith(Lz4LegacyFrame.Magic))
        {
            Lz4LegacyFrame.Decode(payload, elf);
        }
        else if (payload.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]))
        {
            using var gzip = new GZipStream(new MemoryStream(payload.ToArray()), CompressionMode.Decompress);
            try
            {
                gzip.ReadExactly(elf);
            }
            catch (EndOfStreamException ex)
            {
                throw new InvalidDataException($"the gzip payload ends before {size} bytes", ex);
            }
        }
        else
        {
            reason = $"its payload is compressed with a format this build does not decode (first bytes {Convert.ToHexString(payload[..4])}); LZ4 and gzip are decoded";
            return null;
        }

        if (!HasPvhEntry(elf))
        {
            reason = "it has no PVH entry point (a kernel built without CONFIG_PVH)";
            return null;
        }

        reason = null;
        return elf;
    }

    /// <summary>Whether <paramref name="elf"/> is a 64-bit little-endian ELF file with a Xen <c>PHYS32_ENTRY</c> note.</summary>
    internal static bool HasPvhEntry(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || !elf.StartsWith((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1]))
        {
            return false;
        }

        var headers = BinaryPrimitives.ReadUInt64LittleEndian(elf[0x20..]);
        var headerSize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x36..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x38..]);
        for (var i = 0; i < count; i++)
        {
            var at = headers + (ulong)(i * headerSize);
            if (headerSize < 0x28 || at + 0x28 > (ulong)elf.Length)
            {
                return false;
            }

            var header = elf.Slice((int)at, headerSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != ElfNoteProgramHeader)
            {
                continue;
            }

            var offset = BinaryPrimitives.ReadUInt64LittleEndian(header[0x08..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(header[0x20..]);
            if (offset + size > (ulong)elf.Length || offset + size < offset)
            {
                return false;
            }

            if (HasXenEntryNote(elf.Slice((int)offset, (int)size)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasXenEntryNote(ReadOnlySpan<byte> notes)
    {
        while (notes.Length >= 12)
        {
            var nameSize = BinaryPrimitives.ReadUInt32LittleEndian(notes);
            var descriptionSize = BinaryPrimitives.ReadUInt32LittleEndian(notes[4..]);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(notes[8..]);
            var name = (long)Align4(nameSize);
            var total = 12 + name + Align4(descriptionSize);
            if (total > notes.Length)
            {
                return false;
            }

            if (type == XenPhys32EntryNote && nameSize == 4 && notes.Slice(12, 4).SequenceEqual("Xen\0"u8))
            {
                return true;
            }

            notes = notes[(int)total..];
        }

        return false;
    }

    private static long Align4(uint value) => (value + 3L) & ~3L;
}
