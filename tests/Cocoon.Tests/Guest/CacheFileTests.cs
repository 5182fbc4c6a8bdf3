// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest.Tests;

public sealed class CacheFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cocoon-cachefile-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Publish_Written_TargetInPlaceAndNoTemporaryLeft()
    {
        var target = Path.Combine(_directory, "a.cpio");
        string? written = null;

        var published = CacheFile.Publish(target, temporary =>
        {
            written = temporary;
            File.WriteAllText(temporary, "image");
            return true;
        });

        Assert.True(published);
        Assert.Equal("image", File.ReadAllText(target));
        Assert.Equal(_directory, Path.GetDirectoryName(written));
        Assert.StartsWith(".a.cpio.", Path.GetFileName(written), StringComparison.Ordinal);
        Assert.Equal([target], Directory.GetFiles(_directory));
    }

    [Fact]
    public void Publish_WriterDeclines_NothingPublishedNothingLeft()
    {
        var target = Path.Combine(_directory, "vmlinux-x");

        var published = CacheFile.Publish(target, temporary =>
        {
            File.WriteAllText(temporary, "half");
            return false;
        });

        Assert.False(published);
        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Publish_WriterThrows_ThrowsAndLeavesNothing()
    {
        var target = Path.Combine(_directory, "a.cpio");

        Assert.Throws<InvalidDataException>(() => CacheFile.Publish(target, temporary =>
        {
            File.WriteAllText(temporary, "half");
            throw new InvalidDataException("bad payload");
        }));

        Assert.Empty(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Publish_OldTemporaryOfAGoneWriter_Removed()
    {
        // No process has pid int.MaxValue (pids stay below pid_max, at most 2^22).
        var orphan = Temporary("old.cpio", int.MaxValue, age: CacheFile.OrphanAge * 2);

        CacheFile.Publish(Path.Combine(_directory, "new.cpio"), temporary =>
        {
            File.WriteAllText(temporary, "x");
            return true;
        });

        Assert.False(File.Exists(orphan));
    }

    [Fact]
    public void RemoveOrphans_LiveWriterRecentFileOrOtherNames_Kept()
    {
        var live = Temporary("live.cpio", Environment.ProcessId, age: CacheFile.OrphanAge * 2);
        var recent = Temporary("recent.cpio", int.MaxValue, age: TimeSpan.Zero);
        var image = Path.Combine(_directory, "abc.cpio");
        var notOurs = Path.Combine(_directory, ".notes.tmp");
        File.WriteAllText(image, "x");
        File.WriteAllText(notOurs, "x");
        File.SetLastWriteTimeUtc(notOurs, DateTime.UtcNow - (CacheFile.OrphanAge * 2));

        CacheFile.RemoveOrphans(_directory);

        Assert.True(File.Exists(live));
        Assert.True(File.Exists(recent));
        Assert.True(File.Exists(image));
        Assert.True(File.Exists(notOurs));
    }

    [Theory]
    [InlineData(".vmlinux-6.1.0-57-cloud-amd64-0123456789abcdef.4242.0123456789abcdef0123456789abcdef.tmp", 4242)]
    [InlineData(".abc.cpio.7.0123456789abcdef0123456789abcdef.tmp", 7)]
    [InlineData("abc.cpio.7.0123456789abcdef0123456789abcdef.tmp", null)]
    [InlineData(".abc.cpio.x7.0123456789abcdef0123456789abcdef.tmp", null)]
    [InlineData(".abc.cpio.7.short.tmp", null)]
    [InlineData(".abc.cpio.7.0123456789abcdef0123456789abcdef.json", null)]
    public void WriterPid_Names_ParsedOrNull(string name, int? expected) =>
        Assert.Equal(expected, CacheFile.WriterPid(name));

    private string Temporary(string target, int pid, TimeSpan age)
    {
        var path = Path.Combine(_directory, $".{target}.{pid}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(path, "partial");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }
}
