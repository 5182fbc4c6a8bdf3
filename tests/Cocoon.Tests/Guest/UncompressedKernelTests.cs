// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.IO.Compression;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Guest.Tests;

public sealed class UncompressedKernelTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-vmlinux-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void TryExtract_GzipBzImage_TheElfInside()
    {
        var elf = Elf(pvhNote: true);

        var extracted = TryExtract(BzImage(Gzip(elf), elf.Length), out var reason);

        Assert.Null(reason);
        Assert.Equal(elf, extracted);
    }

    [Fact]
    public void TryExtract_ElfWithoutPvhNote_FalseSayingWhy()
    {
        var elf = Elf(pvhNote: false);

        var extracted = TryExtract(BzImage(Gzip(elf), elf.Length), out var reason);

        Assert.Null(extracted);
        Assert.Contains("CONFIG_PVH", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryExtract_XzPayload_FalseNamingTheFormat()
    {
        byte[] xz = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 1, 2, 3, 4, 5, 6];

        var extracted = TryExtract(BzImage(xz, 4096), out var reason);

        Assert.Null(extracted);
        Assert.Contains("FD377A58", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryExtract_NotABzImage_FalseSayingWhy()
    {
        var extracted = TryExtract(new byte[4096], out var reason);

        Assert.Null(extracted);
        Assert.Contains("bzImage", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TryExtract_RealKernel_AnX86ElfWithAPvhEntry()
    {
        var kernel = KernelLocator.FindDefault();
        var output = Path.Combine(_root, "vmlinux");

        var extracted = UncompressedKernel.TryExtract(kernel.KernelPath, output, out var reason);

        Assert.True(extracted, $"{kernel.KernelPath}: {reason}");
        using (var elf = File.OpenHandle(output))
        {
            Assert.True(UncompressedKernel.HasPvhEntry(elf));
        }

        using var stream = File.OpenRead(output);
        var header = new byte[0x14];
        stream.ReadExactly(header);
        Assert.Equal(0x3E, BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(0x12))); // EM_X86_64
    }

    [Fact]
    public void BootPath_SecondCall_SameCachedFileUntilTheKernelChangesAndTheOldOneGoes()
    {
        var kernel = WriteKernel(Gzip(Elf(pvhNote: true)));
        var cache = Path.Combine(_root, "cache");

        var first = UncompressedKernel.BootPath(kernel, cache, NullLogger.Instance);
        var written = File.GetLastWriteTimeUtc(first);
        var second = UncompressedKernel.BootPath(kernel, cache, NullLogger.Instance);
        var (rewritten, content) = (File.GetLastWriteTimeUtc(second), File.ReadAllBytes(second));
        File.SetLastWriteTimeUtc(kernel.KernelPath, DateTime.UtcNow.AddMinutes(1));
        var changed = UncompressedKernel.BootPath(kernel, cache, NullLogger.Instance);

        Assert.StartsWith(Path.Combine(cache, "vmlinux-6.1.0-test-"), first, StringComparison.Ordinal);
        Assert.Equal(Elf(pvhNote: true), content);
        Assert.Equal(first, second);
        Assert.Equal(written, rewritten);
        Assert.NotEqual(first, changed);
        Assert.Equal([changed], Directory.GetFiles(cache));
    }

    [Fact]
    public void BootPath_PayloadThatDoesNotDecode_TheBzImageItself()
    {
        var gzip = Gzip(Elf(pvhNote: true));
        var kernel = WriteKernel(gzip.AsSpan(0, gzip.Length / 2).ToArray(), declaredSize: Elf(pvhNote: true).Length);
        var cache = Path.Combine(_root, "cache");

        var path = UncompressedKernel.BootPath(kernel, cache, NullLogger.Instance);

        Assert.Equal(kernel.KernelPath, path);
        Assert.False(Directory.Exists(cache) && Directory.EnumerateFiles(cache).Any());
    }

    /// <summary>Extracts <paramref name="bzImage"/> through files: the ELF's bytes, or null with the reason.</summary>
    private byte[]? TryExtract(byte[] bzImage, out string? reason)
    {
        var input = Path.Combine(_root, "bzImage");
        var output = Path.Combine(_root, "extracted");
        File.WriteAllBytes(input, bzImage);
        return UncompressedKernel.TryExtract(input, output, out reason) ? File.ReadAllBytes(output) : null;
    }

    private GuestKernel WriteKernel(byte[] payload, int? declaredSize = null)
    {
        var path = Path.Combine(_root, "vmlinuz-6.1.0-test");
        File.WriteAllBytes(path, BzImage(payload, declaredSize ?? Elf(pvhNote: true).Length));
        return new GuestKernel(path, "6.1.0-test", Path.Combine(_root, "modules"));
    }

    /// <summary>A bzImage of boot protocol 2.15: one setup sector, then the payload and its decompressed size.</summary>
    private static byte[] BzImage(byte[] payload, int decompressedSize)
    {
        var image = new byte[1024 + payload.Length + 4];
        image[0x1F1] = 1;
        "HdrS"u8.CopyTo(image.AsSpan(0x202));
        BinaryPrimitives.WriteUInt16LittleEndian(image.AsSpan(0x206), 0x020F);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x248), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(0x24C), (uint)payload.Length + 4);
        payload.CopyTo(image, 1024);
        BinaryPrimitives.WriteUInt32LittleEndian(image.AsSpan(1024 + payload.Length), (uint)decompressedSize);
        return image;
    }

    /// <summary>A 64-bit ELF header, one PT_NOTE program header and its notes: a Xen PHYS32_ENTRY note, or another.</summary>
    private static byte[] Elf(bool pvhNote)
    {
        var elf = new byte[64 + 56 + 2 * 20 + 100];
        byte[] ident = [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1];
        ident.CopyTo(elf, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x12), 0x3E);
        BinaryPrimitives.WriteUInt64LittleEndian(elf.AsSpan(0x20), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x36), 56);
        BinaryPrimitives.WriteUInt16LittleEndian(elf.AsSpan(0x38), 1);
        var header = elf.AsSpan(64, 56);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 4);
        BinaryPrimitives.WriteUInt64LittleEndian(header[0x08..], 120);
        BinaryPrimitives.WriteUInt64LittleEndian(header[0x20..], 40);
        Note(elf.AsSpan(120, 20), "GNU\0"u8, 3);
        Note(elf.AsSpan(140, 20), "Xen\0"u8, pvhNote ? 18u : 17u);
        return elf;
    }

    private static void Note(Span<byte> note, ReadOnlySpan<byte> name, uint type)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(note, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(note[4..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(note[8..], type);
        name.CopyTo(note[12..]);
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }
}
