// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Common;

namespace Cocoon.Tests.Configuration;

/// <summary>The public ways a front end builds a box config: a box.yaml file, its own field names, generated names.</summary>
public sealed class BoxOptionsLoadTests : IDisposable
{
    private readonly TempStateRoot _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir.Path, "box.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void Load_ValidFile_BuildsItsConfig()
    {
        var config = BoxOptions.Load(Write("name: web\nmemory: 1G\nnetwork: none\n")).Build();

        Assert.Equal("web", config.Name);
        Assert.Equal(1024, config.MemoryMiB);
        Assert.Equal(BoxNetwork.None, config.Network);
    }

    [Fact]
    public void Build_LoadedOptionsWithBadValue_NamesFileAndLine()
    {
        var path = Write("name: web\nmemory: 64\n");

        var ex = Assert.Throws<CocoonException>(() => BoxOptions.Load(path).Build());

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains($"{path}:2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WithDescriber_NamesItsFieldsAndKeepsTheFilesForTheRest()
    {
        var path = Write("name: web\nmemory: 64\n");
        var options = BoxOptions.Load(path);
        options.Name = "Bad Name";

        var named = Assert.Throws<CocoonException>(() => options.Build(key => key == "name" ? "--name" : null));
        options.Name = "web";
        var fromFile = Assert.Throws<CocoonException>(() => options.Build(key => key == "name" ? "--name" : null));

        Assert.StartsWith("--name 'Bad Name'", named.Message, StringComparison.Ordinal);
        Assert.Contains($"{path}:2", fromFile.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_NotFoundNamingIt()
    {
        var path = Path.Combine(_dir.Path, "absent.yaml");

        var ex = Assert.Throws<CocoonException>(() => BoxOptions.Load(path));

        Assert.Equal(CocoonErrorCode.NotFound, ex.Code);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NoName_GeneratesOne()
    {
        var first = new BoxOptions().Build();
        var second = new BoxOptions().Build();

        Assert.Matches("^box-[0-9a-f]{8}$", first.Name);
        Assert.NotEqual(first.Name, second.Name);
    }

    [Theory]
    [InlineData("512", 512)]
    [InlineData("2G", 2048)]
    [InlineData("1t", 1024 * 1024)]
    public void ParseSizeMiB_Forms_InMiB(string text, int mib) => Assert.Equal(mib, BoxOptions.ParseSizeMiB(text, "--memory"));

    [Fact]
    public void ParseSizeMiB_Bad_NamesTheField()
    {
        var ex = Assert.Throws<CocoonException>(() => BoxOptions.ParseSizeMiB("lots", "--disk-size"));

        Assert.StartsWith("--disk-size 'lots'", ex.Message, StringComparison.Ordinal);
    }
}
