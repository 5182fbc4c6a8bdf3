// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;
using Cocoon.Tests.Common;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Oci.Unpack.Tests;

public sealed class LayerApplierTests : IDisposable
{
    private readonly TempStateRoot _temp = new();
    private readonly string _root;
    private readonly string _outside;

    public LayerApplierTests()
    {
        _root = Directory.CreateDirectory(Path.Combine(_temp.Path, "root")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_temp.Path, "outside")).FullName;
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Whiteout_LowerFileAndDirectory_Removed()
    {
        var applier = Applier();
        Apply(applier, new TarBuilder().Directory("etc").File("etc/keep", "k").File("etc/gone", "g")
            .Directory("var/cache").File("var/cache/a", "a").Directory("var/cache/sub").File("var/cache/sub/b", "b"));

        Apply(applier, new TarBuilder().Whiteout("etc", "gone").Whiteout("var", "cache"));

        Assert.Equal(["etc", "etc/keep", "var"], Tree());
    }

    [Fact]
    public void Opaque_MarkerAfterOrBeforeEntries_HidesOnlyLowerContent()
    {
        var applier = Applier();
        Apply(applier, new TarBuilder().Directory("app").File("app/old", "o").Directory("app/sub").File("app/sub/lower", "l")
            .Directory("other").File("other/x", "x"));

        Apply(applier, new TarBuilder().Directory("app").File("app/new", "n").File("app/sub/upper", "u").Opaque("app"));
        Assert.Equal(["app", "app/new", "app/sub", "app/sub/upper", "other", "other/x"], Tree());

        Apply(applier, new TarBuilder().Opaque("other").File("other/y", "y"));
        Assert.Equal(["app", "app/new", "app/sub", "app/sub/upper", "other", "other/y"], Tree());
        Assert.Equal("n", Read("app/new"));
    }

    [Fact]
    public void Replace_KindChanges_NewEntryWins()
    {
        var applier = Applier();
        Apply(applier, new TarBuilder().File("a", "file").Directory("b").File("b/inner", "i").Symlink("c", _outside + "/target"));
        File.WriteAllText(Path.Combine(_outside, "target"), "host");

        Apply(applier, new TarBuilder().Directory("a").File("b", "now a file").File("c", "not through the link"));

        Assert.True(Directory.Exists(Path.Combine(_root, "a")));
        Assert.Equal("now a file", Read("b"));
        Assert.Equal("not through the link", Read("c"));
        Assert.Null(new FileInfo(Path.Combine(_root, "c")).LinkTarget);
        Assert.Equal("host", File.ReadAllText(Path.Combine(_outside, "target")));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/../escape")]
    [InlineData("a/./../../../escape")]
    public void Apply_NameEscapingRoot_Refused(string name)
    {
        var error = Assert.Throws<CocoonException>(() => Apply(Applier(), new TarBuilder().File(name, "x")));

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains($"'{name}'", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
        Assert.False(File.Exists(Path.Combine(_temp.Path, "escape")));
    }

    [Fact]
    public void Apply_AbsoluteNames_LandUnderTheRoot()
    {
        // umoci writes the root as "/"; other tools write "/etc/x". Docker and containerd read both under the root.
        Apply(Applier(), new TarBuilder().Directory("/", (UnixFileMode)0b111_101_000).Directory("/etc").File("/etc/abs", "a").HardLink("/etc/hard", "/etc/abs"));

        Assert.Equal(["etc", "etc/abs", "etc/hard"], Tree());
        Assert.Equal("a", Read("etc/hard"));
        Assert.Equal((UnixFileMode)0b111_101_000, new DirectoryInfo(_root).UnixFileMode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
    }

    [Fact]
    public void Apply_SymlinkFromEarlierLayerPointsOut_LaterEntriesStayInside()
    {
        var applier = Applier();
        Apply(applier, new TarBuilder().Symlink("abs", _outside).Symlink("rel", "../../../../..").Directory("d").Symlink("d/up", "../.."));

        Apply(applier, new TarBuilder().File("abs/pwned", "1").File("rel/pwned2", "2").File("d/up/pwned3", "3"));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
        Assert.Equal("1", Read(_outside.TrimStart('/') + "/pwned"));
        Assert.Equal("2", Read("pwned2"));
        Assert.Equal("3", Read("pwned3"));
    }

    [Fact]
    public void Whiteout_ThroughSymlinkPointingOut_DeletesNothingOutside()
    {
        File.WriteAllText(Path.Combine(_outside, "precious"), "p");
        var applier = Applier();
        Apply(applier, new TarBuilder().Symlink("abs", _outside));

        Apply(applier, new TarBuilder().Whiteout("abs", "precious").Opaque("abs"));

        Assert.True(File.Exists(Path.Combine(_outside, "precious")));
    }

    [Fact]
    public void HardLink_InsideRoot_SharesInode()
    {
        Apply(Applier(), new TarBuilder().Directory("bin").File("bin/busybox", "bb", (UnixFileMode)0b111_101_101).HardLink("bin/sh", "bin/busybox"));

        File.AppendAllText(Path.Combine(_root, "bin/sh"), "+");

        Assert.Equal("bb+", Read("bin/busybox"));
    }

    [Theory]
    [InlineData("../outside/precious")]
    [InlineData("/../outside/precious")]
    public void HardLink_TargetOutsideRoot_Refused(string target)
    {
        File.WriteAllText(Path.Combine(_outside, "precious"), "p");

        var error = Assert.Throws<CocoonException>(() => Apply(Applier(), new TarBuilder().HardLink("steal", target)));

        Assert.Contains(target, error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "steal")));
    }

    [Fact]
    public void HardLink_ThroughSymlinkPointingOut_ResolvesInsideRoot()
    {
        var applier = Applier();
        Apply(applier, new TarBuilder().Symlink("evil", "/etc").Symlink("loop", "/loop"));

        var error = Assert.Throws<CocoonException>(() => Apply(applier, new TarBuilder().HardLink("shadow", "evil/passwd")));
        var loop = Assert.Throws<CocoonException>(() => Apply(applier, new TarBuilder().HardLink("shadow", "loop/passwd")));

        Assert.Contains("whose directory 'etc' does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("loop through symlinks", loop.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "shadow")));
    }

    [Fact]
    public void Apply_AsRoot_OwnershipModesDevicesAndXattrsKept()
    {
        Assert.True(Environment.IsPrivilegedProcess, "the project's tests run as root");
        var pax = new Dictionary<string, string> { ["SCHILY.xattr.trusted.cocoon"] = "marked" };
        Apply(Applier(), new TarBuilder()
            .Directory("home/user", (UnixFileMode)0b111_000_000, uid: 1000, gid: 1000)
            .File("usr/bin/su", "su", (UnixFileMode)0b100_111_101_101, uid: 0, gid: 0)
            .File("home/user/data", "d", (UnixFileMode)0b110_100_000, uid: 1000, gid: 100, pax: pax)
            .CharDevice("dev/null", 1, 3)
            .Fifo("run/fifo"));

        Assert.Equal("1000:1000 700", Stat("home/user", "%u:%g %a"));
        Assert.Equal("0:0 4755", Stat("usr/bin/su", "%u:%g %a"));
        Assert.Equal("1000:100 640", Stat("home/user/data", "%u:%g %a"));
        Assert.Equal("character special file 1,3", Stat("dev/null", "%F %t,%T"));
        Assert.Equal("fifo", Stat("run/fifo", "%F"));
        Assert.Equal("marked", Run("python3", "-c", $"import os; print(os.getxattr('{_root}/home/user/data', 'trusted.cocoon').decode())"));
    }

    [Fact]
    public void Apply_FileBeyondSizeLimit_RefusedBeforeWriting()
    {
        var tar = new TarBuilder().File("small", "x").File("big", "y").Build();
        PatchUstarSize(tar, "big", 8L << 30);

        var error = Assert.Throws<CocoonException>(() => new LayerApplier(_root, new UnpackLimits(1 << 20, 100), privileged: false).Apply(new ForwardOnlyStream(tar), "layer 1"));

        Assert.Contains("'big'", error.Message, StringComparison.Ordinal);
        Assert.Contains("8589934592 bytes", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "big")));
    }

    [Fact]
    public void Apply_TooManyEntries_Refused()
    {
        var builder = new TarBuilder();
        for (var i = 0; i < 11; i++)
        {
            builder.File($"f{i}", "x");
        }

        var error = Assert.Throws<CocoonException>(() => new LayerApplier(_root, new UnpackLimits(1 << 20, 10), privileged: false).Apply(new ForwardOnlyStream(builder.Build()), "layer 1"));

        Assert.Contains("10 entries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_TruncatedTar_Refused()
    {
        var tar = new TarBuilder().File("a", new string('a', 5000)).Build();

        var error = Assert.Throws<CocoonException>(() => Applier().Apply(new ForwardOnlyStream(tar[..3000]), "layer 1"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains("layer 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_NoEndOfArchiveMarker_EndsAtTheLastEntry()
    {
        // umoci writes layers without the two zero blocks that end a tar; Docker and containerd read them.
        var tar = TwoFiles(out var withoutMarker);

        Applier().Apply(new ForwardOnlyStream(tar[..withoutMarker]), "layer 1");

        Assert.Equal(["a", "b"], Tree());
        Assert.Equal(new string('b', 5000), Read("b"));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(512)]
    [InlineData(1024)]
    public void Apply_NoMarkerAndCutInsideTheLastEntry_Refused(int cut)
    {
        // Cut inside the last file's padding, its last data block, its last two.
        var tar = TwoFiles(out var withoutMarker);

        var error = Assert.Throws<CocoonException>(() => Applier().Apply(new ForwardOnlyStream(tar[..(withoutMarker - cut)]), "layer 1"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains("layer 1", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Files a and b of 5000 bytes each (b's last block padded by 120 bytes), and where the end-of-archive marker starts.</summary>
    private static byte[] TwoFiles(out int withoutMarker)
    {
        var tar = new TarBuilder().File("a", new string('a', 5000)).File("b", new string('b', 5000)).Build();
        withoutMarker = tar.Length - 1024;
        Assert.All(tar[withoutMarker..], b => Assert.Equal(0, b));
        return tar;
    }

    [Theory]
    [InlineData("tar")]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public void OpenLayer_EachCompression_Unpacks(string kind)
    {
        var compression = kind switch { "gzip" => LayerCompression.Gzip, "zstd" => LayerCompression.Zstd, _ => LayerCompression.None };
        var tar = new TarBuilder().File("etc/hostname", "box").Build();
        var blob = Path.Combine(_temp.Path, "layer");
        using (var file = File.Create(blob))
        using (Stream writer = compression switch
        {
            LayerCompression.Gzip => new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest),
            LayerCompression.Zstd => new ZstdSharp.CompressionStream(file),
            _ => file,
        })
        {
            writer.Write(tar);
        }

        using (var layer = LayerApplier.OpenLayer(blob, compression))
        {
            Applier().Apply(layer, "layer 1");
        }

        Assert.Equal("box", Read("etc/hostname"));
    }

    private LayerApplier Applier() => new(_root, UnpackLimits.Default, Environment.IsPrivilegedProcess);

    private static void Apply(LayerApplier applier, TarBuilder layer) => applier.Apply(new ForwardOnlyStream(layer.Build()), "layer");

    private List<string> Tree() =>
        Directory.EnumerateFileSystemEntries(_root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(_root, p))
            .Order(StringComparer.Ordinal)
            .ToList();

    private string Read(string relative) => File.ReadAllText(Path.Combine(_root, relative));

    private string Stat(string relative, string format) => Run("stat", "-c", format, Path.Combine(_root, relative));

    private static string Run(string program, params string[] arguments)
    {
        var result = ProcessRunner.RunAsync(program, arguments, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Trim();
    }

    // Rewrites the size field of the ustar header named `name` (the PAX writer puts one after
    // each extended header) and its checksum: a header that claims more than the stream holds.
    private static void PatchUstarSize(byte[] tar, string name, long size)
    {
        for (var offset = 0; offset + 512 <= tar.Length; offset += 512)
        {
            if (Encoding.ASCII.GetString(tar, offset, 100).TrimEnd('\0') != name || tar[offset + 156] != (byte)'0')
            {
                continue;
            }

            var field = Convert.ToString(size, 8).PadLeft(11, '0') + "\0";
            Encoding.ASCII.GetBytes(field, 0, 12, tar, offset + 124);
            Encoding.ASCII.GetBytes("        ", 0, 8, tar, offset + 148);
            var sum = 0;
            for (var i = 0; i < 512; i++)
            {
                sum += tar[offset + i];
            }

            Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ", 0, 8, tar, offset + 148);
            return;
        }

        throw new InvalidOperationException($"no ustar header for '{name}'");
    }
}
