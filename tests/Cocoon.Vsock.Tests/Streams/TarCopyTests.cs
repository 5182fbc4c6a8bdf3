// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Formats.Tar;

namespace Cocoon.Vsock.Streams.Tests;

/// <summary><see cref="TarCopy"/> on real files in a temporary directory: docker cp's placement rules and hostile archives.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TarCopyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-tar-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string At(string relative) => Path.Combine(_root, relative);

    [Fact]
    public async Task PackThenUnpack_Tree_ModesLinksAndContentKept()
    {
        var source = MakeTree("src");
        Directory.CreateDirectory(At("dst"));

        await CopyAsync(source, At("dst"));

        var copy = At("dst/src");
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(copy, "a.txt")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead,
            File.GetUnixFileMode(Path.Combine(copy, "sub/run.sh")));
        Assert.Equal("../a.txt", new FileInfo(Path.Combine(copy, "sub/link")).LinkTarget);
        Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(copy, "abs")).LinkTarget);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(copy, "locked")));
        Assert.Equal("inside\n", File.ReadAllText(Path.Combine(copy, "locked/f")));
    }

    [Fact]
    public async Task Unpack_MissingDestination_DirectoryRenamedToIt()
    {
        var source = MakeTree("src");

        await CopyAsync(source, At("renamed"));

        Assert.Equal("hello\n", File.ReadAllText(At("renamed/a.txt")));
    }

    [Fact]
    public async Task Unpack_ContentsOfDirectory_MergedIntoExisting()
    {
        var source = MakeTree("src");
        Directory.CreateDirectory(At("dst"));
        File.WriteAllText(At("dst/keep.txt"), "kept");

        await CopyAsync(source + "/.", At("dst"));

        Assert.Equal("hello\n", File.ReadAllText(At("dst/a.txt")));
        Assert.Equal("kept", File.ReadAllText(At("dst/keep.txt")));
    }

    [Fact]
    public async Task Unpack_FileOntoFile_Replaced_LinkAtPlaceNotFollowed()
    {
        File.WriteAllText(At("new.txt"), "new");
        File.WriteAllText(At("victim.txt"), "victim");
        File.CreateSymbolicLink(At("dst.txt"), At("victim.txt"));

        await CopyAsync(At("new.txt"), At("dst.txt"));

        Assert.Equal("new", File.ReadAllText(At("dst.txt")));
        Assert.Null(new FileInfo(At("dst.txt")).LinkTarget);
        Assert.Equal("victim", File.ReadAllText(At("victim.txt")));
    }

    [Fact]
    public async Task Unpack_DirectoryOntoFile_BadPath()
    {
        var source = MakeTree("src");
        File.WriteAllText(At("file"), "x");

        var e = await Assert.ThrowsAsync<StreamException>(() => CopyAsync(source, At("file")));

        Assert.Equal(StreamStatusCode.BadPath, e.Status);
        Assert.Contains("cannot copy a directory onto the file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckDestination_ParentMissing_NotFoundNamingIt()
    {
        var e = Assert.Throws<StreamException>(() => TarCopy.CheckDestination(At("no/such/x"), CopyPlacement.Place));

        Assert.Equal(StreamStatusCode.NotFound, e.Status);
        Assert.Contains($"destination directory {At("no/such")} does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unpack_FileToMissingDirectoryWithSlash_NotFound()
    {
        File.WriteAllText(At("f"), "x");

        var e = await Assert.ThrowsAsync<StreamException>(() => CopyAsync(At("f"), At("newdir") + "/"));

        Assert.Equal(StreamStatusCode.NotFound, e.Status);
    }

    [Fact]
    public void CheckSource_Missing_NotFound()
    {
        var e = Assert.Throws<StreamException>(() => TarCopy.CheckSource(At("nope")));

        Assert.Equal(StreamStatusCode.NotFound, e.Status);
        Assert.Equal(CocoonErrorCode.NotFound, e.Code);
        Assert.Contains("no such file or directory: " + At("nope"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unpack_Into_RequiresDirectoryAndKeepsNames()
    {
        var archive = Archive(w => w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "./x/y.txt") { DataStream = new MemoryStream("y"u8.ToArray()) }));
        File.WriteAllText(At("file"), "x");

        var notDirectory = await Assert.ThrowsAsync<StreamException>(() => TarCopy.UnpackAsync(archive, At("file"), CopyPlacement.Into, dropSetId: false));
        archive.Position = 0;
        await TarCopy.UnpackAsync(archive, _root, CopyPlacement.Into, dropSetId: false);

        Assert.Equal(StreamStatusCode.BadPath, notDirectory.Status);
        Assert.Equal("y", File.ReadAllText(At("x/y.txt")));
    }

    public static TheoryData<string, string> HostileNames => new()
    {
        { "../escape.txt", "'..'" },
        { "/tmp/absolute.txt", "absolute name" },
        { "a/../../escape.txt", "'..'" },
    };

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task Unpack_HostileName_RefusedAndNothingWrittenOutside(string name, string expected)
    {
        Directory.CreateDirectory(At("dst"));
        var archive = Archive(w => w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream("x"u8.ToArray()) }));

        var e = await Assert.ThrowsAsync<StreamException>(() => TarCopy.UnpackAsync(archive, At("dst"), CopyPlacement.Into, dropSetId: false));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(At("escape.txt")));
    }

    [Fact]
    public async Task Unpack_EntryThroughPlantedSymlink_RefusedAndTargetUntouched()
    {
        Directory.CreateDirectory(At("dst"));
        Directory.CreateDirectory(At("outside"));
        var archive = Archive(w =>
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "top/evil") { LinkName = At("outside") });
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "top/evil/pwned.txt") { DataStream = new MemoryStream("x"u8.ToArray()) });
        });

        var e = await Assert.ThrowsAsync<StreamException>(() => TarCopy.UnpackAsync(archive, At("dst"), CopyPlacement.Into, dropSetId: false));

        Assert.Contains("links are never followed", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(At("outside/pwned.txt")));
    }

    [Fact]
    public async Task Unpack_EntryOutsideTopEntry_Refused()
    {
        var archive = Archive(w =>
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "top"));
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "other.txt") { DataStream = new MemoryStream("x"u8.ToArray()) });
        });

        var e = await Assert.ThrowsAsync<StreamException>(() => TarCopy.UnpackAsync(archive, At("dst"), CopyPlacement.Place, dropSetId: false));

        Assert.Contains("outside the archive's top entry", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(At("other.txt")));
    }

    [Fact]
    public async Task Unpack_DropSetId_SetUserIdBitRemoved()
    {
        var archive = Archive(w => w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "suid")
        {
            Mode = UnixFileMode.SetUser | UnixFileMode.UserRead | UnixFileMode.UserExecute,
            DataStream = new MemoryStream("x"u8.ToArray()),
        }));

        await TarCopy.UnpackAsync(archive, At("suid"), CopyPlacement.Place, dropSetId: true);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserExecute, File.GetUnixFileMode(At("suid")));
    }

    [Fact]
    public async Task Unpack_DeviceNode_Refused()
    {
        var archive = Archive(w => w.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, "null") { DeviceMajor = 1, DeviceMinor = 3 }));

        var e = await Assert.ThrowsAsync<StreamException>(() => TarCopy.UnpackAsync(archive, _root, CopyPlacement.Into, dropSetId: false));

        Assert.Contains("cp copies files, directories and links only", e.Message, StringComparison.Ordinal);
    }

    private async Task CopyAsync(string source, string destination)
    {
        using var archive = new MemoryStream();
        await TarCopy.PackAsync(source, archive);
        archive.Position = 0;
        await TarCopy.UnpackAsync(archive, destination, CopyPlacement.Place, dropSetId: false);
    }

    private string MakeTree(string name)
    {
        var top = At(name);
        Directory.CreateDirectory(Path.Combine(top, "sub"));
        File.WriteAllText(Path.Combine(top, "a.txt"), "hello\n");
        File.WriteAllText(Path.Combine(top, "sub/run.sh"), "#!/bin/sh\n");
        File.SetUnixFileMode(Path.Combine(top, "sub/run.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead);
        File.CreateSymbolicLink(Path.Combine(top, "sub/link"), "../a.txt");
        File.CreateSymbolicLink(Path.Combine(top, "abs"), "/etc/passwd");
        Directory.CreateDirectory(Path.Combine(top, "locked"));
        File.WriteAllText(Path.Combine(top, "locked/f"), "inside\n");
        File.SetUnixFileMode(Path.Combine(top, "locked"), UnixFileMode.UserRead | UnixFileMode.UserExecute);
        return top;
    }

    private static MemoryStream Archive(Action<TarWriter> write)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }

        stream.Position = 0;
        return stream;
    }
}
