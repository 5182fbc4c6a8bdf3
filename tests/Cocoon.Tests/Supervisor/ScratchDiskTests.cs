// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using Cocoon.State;
using Cocoon.Supervisor;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.Supervisor;

public sealed class ScratchDiskTests : IDisposable
{
    private const long MiB = 1 << 20;
    private readonly TempStateRoot _root = new();
    private readonly CocoonPaths _paths;

    public ScratchDiskTests()
    {
        _paths = new CocoonPaths(_root.Path);
        Directory.CreateDirectory(_paths.BoxDirectory("b"));
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void CopySparse_DataBetweenHoles_SameBytesAndTheHolesStayHoles()
    {
        var source = Path.Combine(_root.Path, "source");
        using (var file = File.OpenHandle(source, FileMode.CreateNew, FileAccess.Write))
        {
            RandomAccess.SetLength(file, 64 * MiB);
            RandomAccess.Write(file, Bytes(4096, seed: 1), 0);
            RandomAccess.Write(file, Bytes((int)MiB + 7, seed: 2), 8 * MiB);
            RandomAccess.Write(file, Bytes(1, seed: 3), (64 * MiB) - 1);
        }

        var copy = Path.Combine(_root.Path, "copy");
        BoxDisks.CopySparse(source, copy);

        Assert.Equal(Hash(source), Hash(copy));
        Assert.Equal(Extents(source), Extents(copy));
        Assert.Equal((0L, 4096L), Extents(copy)[0]);
        Assert.True(Extents(copy)[1].Start >= 8 * MiB, $"the hole after the first block was filled: {string.Join(", ", Extents(copy))}");
    }

    [Fact]
    public void MakeScratchDisk_TwoBoxes_OneTemplateMadeOnceAndEachDiskAnExt4OfTheSize()
    {
        var first = _paths.ScratchDisk("b");
        BoxDisks.MakeScratchDisk(_paths, first, sizeMiB: 64);
        var template = new FileInfo(_paths.ScratchTemplate(64));
        var madeAt = template.LastWriteTimeUtc;

        Directory.CreateDirectory(_paths.BoxDirectory("c"));
        var second = _paths.ScratchDisk("c");
        BoxDisks.MakeScratchDisk(_paths, second, sizeMiB: 64);

        template.Refresh();
        Assert.Equal(madeAt, template.LastWriteTimeUtc);
        foreach (var disk in new[] { first, second })
        {
            Assert.Equal(64 * MiB, new FileInfo(disk).Length);
            Assert.Equal(Hash(template.FullName), Hash(disk));

            // The ext4 superblock's magic (0xEF53) at byte 1024 + 56.
            using var file = File.OpenHandle(disk);
            var magic = new byte[2];
            RandomAccess.Read(file, magic, 1024 + 56);
            Assert.Equal(new byte[] { 0x53, 0xEF }, magic);
        }

        Assert.False(File.Exists(first + ".tmp"));
        Assert.Equal([template.FullName], Directory.GetFiles(Path.GetDirectoryName(template.FullName)!));
    }

    private static byte[] Bytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }

    private static List<(long Start, long End)> Extents(string path)
    {
        using var file = File.OpenHandle(path);
        var extents = new List<(long Start, long End)>();
        var offset = 0L;
        while (Interop.NextDataExtent(file, offset, path) is { } extent)
        {
            extents.Add(extent);
            offset = extent.End;
        }

        return extents;
    }
}
