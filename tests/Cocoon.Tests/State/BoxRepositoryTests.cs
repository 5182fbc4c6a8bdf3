// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.State;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.State;

public sealed class BoxRepositoryTests : IDisposable
{
    private readonly TempStateRoot _root = new();

    public BoxRepositoryTests() => Boxes = new BoxRepository(new CocoonPaths(_root.Path));

    private BoxRepository Boxes { get; }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Create_NewName_WritesRecordAndAllocatesCid()
    {
        var record = Boxes.Create(new BoxOptions("web").WithMemory(1024).Build());

        Assert.Equal(3u, record.Cid);
        Assert.Equal(BoxState.Created, record.State);
        Assert.Equal(record.Cid, Boxes.Get("web").Cid);
        Assert.Equal(1024, Boxes.Get("web").Config.MemoryMiB);
        Assert.Equal("web", Boxes.Cids.Snapshot()[3]);
    }

    [Fact]
    public void Create_DuplicateName_ThrowsAlreadyExistsAndLeaksNothing()
    {
        Boxes.Create(new BoxOptions("web").Build());

        var e = Assert.Throws<CocoonException>(() => Boxes.Create(new BoxOptions("web").Build()));

        Assert.Equal(CocoonErrorCode.AlreadyExists, e.Code);
        Assert.Contains("'web'", e.Message, StringComparison.Ordinal);
        Assert.Single(Boxes.Cids.Snapshot());
    }

    [Fact]
    public void Remove_ExistingBox_FreesCidAndDirectory()
    {
        Boxes.Create(new BoxOptions("web").Build());

        Boxes.Remove("web");

        Assert.Empty(Boxes.List());
        Assert.Empty(Boxes.Cids.Snapshot());
        Assert.False(Directory.Exists(Boxes.Paths.BoxDirectory("web")));
        Assert.Equal(3u, Boxes.Create(new BoxOptions("db").Build()).Cid);
    }

    [Fact]
    public void Remove_MissingBox_ThrowsNotFound()
    {
        Assert.Equal(CocoonErrorCode.NotFound, Assert.Throws<CocoonException>(() => Boxes.Remove("ghost")).Code);
    }

    [Fact]
    public void Remove_RunningBox_StillRemoves()
    {
        Boxes.Create(new BoxOptions("web").Build());
        Boxes.Update("web", r => r with { State = BoxState.Running, Pid = 1234 });

        Boxes.Remove("web");

        Assert.Null(Boxes.TryGet("web"));
    }

    [Fact]
    public void Update_RuntimeFacts_AreVisibleToReaders()
    {
        Boxes.Create(new BoxOptions("web").Build());
        var started = DateTimeOffset.UnixEpoch.AddDays(1);

        Boxes.Update("web", r => r with { State = BoxState.Stopped, StartedAt = started, StopReason = "exited 0" });

        var record = Boxes.Get("web");
        Assert.Equal(BoxState.Stopped, record.State);
        Assert.Equal(started, record.StartedAt);
        Assert.Equal("exited 0", record.StopReason);
    }

    [Fact]
    public void Update_ChangingCid_IsRefused()
    {
        Boxes.Create(new BoxOptions("web").Build());

        Assert.Throws<InvalidOperationException>(() => Boxes.Update("web", r => r with { Cid = 99 }));
    }

    [Fact]
    public void Update_MissingBox_ThrowsNotFound()
    {
        Assert.Equal(CocoonErrorCode.NotFound, Assert.Throws<CocoonException>(() => Boxes.Update("ghost", r => r)).Code);
    }

    [Fact]
    public void Create_DebrisOfCrashedCreate_IsCleanedUp()
    {
        // A crash after mkdir and allocation but before box.json was written.
        Directory.CreateDirectory(Boxes.Paths.BoxDirectory("web"));
        Boxes.Cids.Allocate("web");
        Assert.Empty(Boxes.List());

        var record = Boxes.Create(new BoxOptions("web").Build());

        Assert.Equal(3u, record.Cid);
        Assert.Single(Boxes.Cids.Snapshot());
    }

    [Fact]
    public void Get_CorruptBoxFile_ThrowsNamingIt()
    {
        Boxes.Create(new BoxOptions("web").Build());
        File.WriteAllText(Boxes.Paths.BoxFile("web"), "{ not json");

        var e = Assert.Throws<CocoonException>(() => Boxes.Get("web"));

        Assert.Equal(CocoonErrorCode.InvalidState, e.Code);
        Assert.Contains(Boxes.Paths.BoxFile("web"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Get_InvalidName_ThrowsInvalidArgumentBeforeTouchingPaths()
    {
        var e = Assert.Throws<CocoonException>(() => Boxes.Get("../etc"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Create_LongestSocketPathExactlyAtLimit_Succeeds(bool withPort)
    {
        var boxes = BoxesWithLongestPath(107, withPort);

        var record = boxes.Create(Options(withPort).Build());

        Assert.Equal(107, System.Text.Encoding.UTF8.GetByteCount(LongestPath(boxes.Paths, withPort)));
        Assert.Equal("x", record.Name);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Create_LongestSocketPathOneOverLimit_RefusedBeforeAllocating(bool withPort)
    {
        var boxes = BoxesWithLongestPath(108, withPort);

        var e = Assert.Throws<CocoonException>(() => boxes.Create(Options(withPort).Build()));

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.Contains(LongestPath(boxes.Paths, withPort), e.Message, StringComparison.Ordinal);
        Assert.Contains("108 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("107-byte limit", e.Message, StringComparison.Ordinal);
        Assert.Contains("COCOON_HOME", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(boxes.Paths.CidsFile));
        Assert.False(Directory.Exists(boxes.Paths.BoxesDirectory));
    }

    private static BoxOptions Options(bool withPort) =>
        withPort ? new BoxOptions("x").WithVsock(2000, "/tmp/a.sock").WithVsock(65535, "/tmp/b.sock") : new BoxOptions("x");

    private static string LongestPath(CocoonPaths paths, bool withPort) =>
        withPort ? paths.VsockPortSocket("x", 65535) : paths.ControlSocket("x");

    // A root padded so that the box's longest socket path is exactly `length` bytes.
    private BoxRepository BoxesWithLongestPath(int length, bool withPort)
    {
        var probe = LongestPath(new CocoonPaths(_root.Path), withPort).Length;
        var padded = Path.Combine(_root.Path, new string('p', length - probe - 1));
        return new BoxRepository(new CocoonPaths(padded));
    }
}
