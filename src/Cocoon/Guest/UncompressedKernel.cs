// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

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
        var key = GuestImageCache.RecipeKey([stamp.Path, stamp.Size.ToString(CultureInfo.InvariantCulture), stamp.ModifiedTicks.ToString(CultureInfo.InvariantCulture)])[..16];
        var target = Path.Combine(cacheDirectory, $"vmlinux-{kernel.Version}-{key}");
        reason = null;
        if (File.Exists(target))
        {
            return target;
        }

        var watch = Stopwatch.StartNew();
        string? why = null;
        if (!CacheFile.Publish(target, temporary => TryExtract(kernel.KernelPath, temporary, out why)))
        {
            reason = why;
            return null;
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
            // Temporary files are hidden (CacheFile), so the pattern never matches a kernel being written.
            if (path != keep)
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

    /// <summary>
    /// Writes the uncompressed ELF kernel inside the bzImage <paramref name="kernelPath"/> to
    /// <paramref name="output"/>, streaming (a block of LZ4 at a time), so that the supervisor that does
    /// this keeps none of the ~50 MiB. False with the reason when it has none QEMU can start; what was
    /// written then is the caller's to remove.
    /// </summary>
    /// <exception cref="InvalidDataException">The header says LZ4 or gzip but the payload does not decode.</exception>
    internal static bool TryExtract(string kernelPath, string output, out string? reason)
    {
        using var input = new FileStream(kernelPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> header = stackalloc byte[0x250];
        if (input.Length < header.Length + 8 || input.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) != header.Length
            || !header.Slice(0x202, 4).SequenceEqual("HdrS"u8) || BinaryPrimitives.ReadUInt16LittleEndian(header[0x206..]) < 0x208)
        {
            reason = "it is not a bzImage of boot protocol 2.08 or later";
            return false;
        }

        var setupSectors = header[0x1F1] == 0 ? 4 : header[0x1F1];
        var start = (setupSectors + 1) * 512L + BinaryPrimitives.ReadUInt32LittleEndian(header[0x248..]);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[0x24C..]);
        if (length < 8 || start + length > input.Length)
        {
            reason = $"its payload ({length} bytes at {start}) lies outside the file's {input.Length} bytes";
            return false;
        }

        Span<byte> word = stackalloc byte[4];
        input.Position = start + length - 4;
        input.ReadExactly(word);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(word);
        if (size is 0 or > 1u << 30)
        {
            reason = $"its payload claims to decompress to {size} bytes";
            return false;
        }

        input.Position = start;
        input.ReadExactly(word);
        input.Position = start;
        using (var elf = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            if (word.SequenceEqual(Lz4LegacyFrame.Magic))
            {
                Lz4LegacyFrame.Decode(input, elf, size);
            }
            else if (word[..2].SequenceEqual((ReadOnlySpan<byte>)[0x1F, 0x8B]))
            {
                using var gzip = new GZipStream(input, CompressionMode.Decompress, leaveOpen: true);
                CopyExactly(gzip, elf, size);
            }
            else
            {
                reason = $"its payload is compressed with a format this build does not decode (first bytes {Convert.ToHexString(word)}); LZ4 and gzip are decoded";
                return false;
            }
        }

        using var written = File.OpenHandle(output);
        if (!HasPvhEntry(written))
        {
            reason = "it has no PVH entry point (a kernel built without CONFIG_PVH)";
            return false;
        }

        reason = null;
        return true;
    }

    /// <summary>Whether <paramref name="elf"/> is a 64-bit little-endian ELF file with a Xen <c>PHYS32_ENTRY</c> note.</summary>
    internal static bool HasPvhEntry(SafeFileHandle elf)
    {
        var fileLength = RandomAccess.GetLength(elf);
        Span<byte> header = stackalloc byte[64];
        if (fileLength < header.Length || RandomAccess.Read(elf, header, 0) != header.Length
            || !header.StartsWith((ReadOnlySpan<byte>)[0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1]))
        {
            return false;
        }

        var headers = BinaryPrimitives.ReadUInt64LittleEndian(header[0x20..]);
        var headerSize = BinaryPrimitives.ReadUInt16LittleEndian(header[0x36..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(header[0x38..]);
        if (headerSize < 0x28 || headers + ((ulong)count * headerSize) > (ulong)fileLength)
        {
            return false;
        }

        var table = new byte[count * headerSize];
        RandomAccess.Read(elf, table, (long)headers);
        for (var i = 0; i < count; i++)
        {
            var entry = table.AsSpan(i * headerSize, headerSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) != ElfNoteProgramHeader)
            {
                continue;
            }

            var offset = BinaryPrimitives.ReadUInt64LittleEndian(entry[0x08..]);
            var size = BinaryPrimitives.ReadUInt64LittleEndian(entry[0x20..]);
            if (size > 1 << 20 || offset + size > (ulong)fileLength)
            {
                return false;
            }

            var notes = new byte[size];
            RandomAccess.Read(elf, notes, (long)offset);
            if (HasXenEntryNote(notes))
            {
                return true;
            }
        }

        return false;
    }

    private static void CopyExactly(Stream source, Stream destination, long length)
    {
        var buffer = new byte[1 << 16];
        var left = length;
        while (left > 0)
        {
            var read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
            {
                throw new InvalidDataException($"the gzip payload ends {left} bytes before its {length}");
            }

            destination.Write(buffer, 0, read);
            left -= read;
        }
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
