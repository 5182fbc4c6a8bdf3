// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Text;

namespace Cocoon.Guest.Tests;

public sealed class CpioWriterTests
{
    [Fact]
    public void Write_EveryEntryKind_ReadsBackWithModesAndPadding()
    {
        // Arrange
        using var stream = new MemoryStream();

        // Act
        using (var writer = new CpioWriter(stream, leaveOpen: true))
        {
            writer.AddDirectory("bin", 0x1ED);
            writer.AddFile("bin/a", 0x1ED, "x"u8);
            writer.AddFile("bin/bb", 0x1A4, new MemoryStream(Encoding.ASCII.GetBytes("hello")), 5);
            writer.AddSymlink("bin/sh", "/bin/busybox");
            writer.AddCharDevice("dev-console", 0x180, 5, 1);
            writer.Finish();
        }

        // Assert
        var entries = CpioReader.Read(stream.ToArray());
        Assert.Equal(["bin", "bin/a", "bin/bb", "bin/sh", "dev-console"], entries.Select(e => e.Name));
        Assert.Equal(0x41EDu, entries[0].Mode);
        Assert.Equal(2u, entries[0].Nlink);
        Assert.Equal(0x81EDu, entries[1].Mode);
        Assert.Equal("x"u8.ToArray(), entries[1].Data);
        Assert.Equal(0x81A4u, entries[2].Mode);
        Assert.Equal("hello"u8.ToArray(), entries[2].Data);
        Assert.Equal(0xA1FFu, entries[3].Mode);
        Assert.Equal("/bin/busybox", Encoding.UTF8.GetString(entries[3].Data));
        Assert.Equal(0x2180u, entries[4].Mode);
        Assert.Equal((5u, 1u), (entries[4].RdevMajor, entries[4].RdevMinor));
        Assert.Equal([1u, 2u, 3u, 4u, 5u], entries.Select(e => e.Inode));
        Assert.All(entries, e => Assert.Equal((0u, 0u, 0u), (e.Uid, e.Gid, e.Mtime)));
    }

    [Fact]
    public void Write_SameEntries_SameBytes()
    {
        static byte[] Write()
        {
            using var stream = new MemoryStream();
            using var writer = new CpioWriter(stream, leaveOpen: true);
            writer.AddDirectory("etc", 0x1ED);
            writer.AddFile("etc/hostname", 0x1A4, "box\n"u8);
            writer.Finish();
            return stream.ToArray();
        }

        Assert.Equal(Write(), Write());
    }

    [Fact]
    public void AddFile_StreamShorterThanLength_Throws()
    {
        using var stream = new MemoryStream();
        using var writer = new CpioWriter(stream, leaveOpen: true);

        var ex = Assert.Throws<CocoonException>(() => writer.AddFile("f", 0x1A4, new MemoryStream([1, 2]), 3));

        Assert.Equal(CocoonErrorCode.InvalidState, ex.Code);
    }

    [Fact]
    public void Write_Archive_HostCpioListsIt()
    {
        // Arrange
        var path = Path.Combine(Path.GetTempPath(), $"cocoon-cpio-{Guid.NewGuid():N}.cpio");
        try
        {
            using (var writer = new CpioWriter(File.Create(path)))
            {
                writer.AddDirectory("d", 0x1ED);
                writer.AddFile("d/f", 0x1A4, "abc"u8);
                writer.AddSymlink("d/l", "f");
                writer.Finish();
            }

            // Act
            var start = new ProcessStartInfo("cpio", "-t -v --quiet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            using var cpio = Process.Start(start)!;
            cpio.StandardInput.BaseStream.Write(File.ReadAllBytes(path));
            cpio.StandardInput.Close();
            var listing = cpio.StandardOutput.ReadToEnd();
            var errors = cpio.StandardError.ReadToEnd();
            Assert.True(cpio.WaitForExit(10_000));

            // Assert
            Assert.True(cpio.ExitCode == 0, errors);
            var lines = listing.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("drwxr-xr-x", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("-rw-r--r--", lines[1], StringComparison.Ordinal);
            Assert.EndsWith("d/l -> f", lines[2], StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
