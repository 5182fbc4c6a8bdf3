// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest.Tests;

public sealed class GuestImageCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-cache-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void GetOrBuild_SecondTime_FromCacheSamePath()
    {
        // Arrange
        var cache = new GuestImageCache(_root);
        var builder = new InitramfsBuilder().AddText("/init", "x", InitramfsBuilder.ExecutableMode);

        // Act
        var first = cache.GetOrBuild(builder);
        var second = cache.GetOrBuild(builder);

        // Assert
        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Path, second.Path);
        Assert.Equal(Path.Combine(_root, "cache", "guest", first.Hash + ".cpio"), first.Path);
    }

    [Fact]
    public void GetOrBuild_DifferentInputs_DifferentImages()
    {
        var cache = new GuestImageCache(_root);

        var a = cache.GetOrBuild(new InitramfsBuilder().AddText("/init", "a"));
        var b = cache.GetOrBuild(new InitramfsBuilder().AddText("/init", "b"));

        Assert.NotEqual(a.Path, b.Path);
        Assert.False(b.FromCache);
    }

    [Fact]
    public async Task GetOrBuild_ConcurrentBuilders_OneCompleteImageNoTempFiles()
    {
        // Arrange
        var cache = new GuestImageCache(_root);
        var payload = new string('x', 1 << 20);

        // Act
        var images = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            cache.GetOrBuild(new InitramfsBuilder().AddText("/big", payload))))).WaitAsync(TimeSpan.FromSeconds(60));

        // Assert
        Assert.Single(images.Select(i => i.Path).Distinct());
        Assert.Equal(["/big"], CpioReader.Read(File.ReadAllBytes(images[0].Path)).Select(e => "/" + e.Name));
        Assert.Equal([images[0].Path], Directory.GetFiles(cache.Directory));
    }

    [Fact]
    public void TryGetByRecipe_InputsUnchanged_ReturnsRememberedImage()
    {
        // Arrange
        var cache = new GuestImageCache(_root);
        var input = WriteInput("agent", "v1");
        var image = cache.GetOrBuild(new InitramfsBuilder().AddFile(input, "/init"));
        cache.RememberRecipe("k", image, ["/lib/m/a.ko"], [input]);

        // Act
        var found = cache.TryGetByRecipe("k");

        // Assert
        Assert.NotNull(found);
        Assert.Equal(image.Path, found.Value.Image.Path);
        Assert.Equal(["/lib/m/a.ko"], found.Value.Recipe.Modules);
    }

    [Fact]
    public void TryGetByRecipe_InputRewritten_Misses()
    {
        var cache = new GuestImageCache(_root);
        var input = WriteInput("agent", "v1");
        cache.RememberRecipe("k", cache.GetOrBuild(new InitramfsBuilder().AddFile(input, "/init")), [], [input]);

        File.WriteAllText(input, "v2, longer");

        Assert.Null(cache.TryGetByRecipe("k"));
    }

    [Fact]
    public void TryGetByRecipe_InputTouchedSameSize_Misses()
    {
        var cache = new GuestImageCache(_root);
        var input = WriteInput("agent", "v1");
        cache.RememberRecipe("k", cache.GetOrBuild(new InitramfsBuilder().AddFile(input, "/init")), [], [input]);

        File.SetLastWriteTimeUtc(input, File.GetLastWriteTimeUtc(input).AddSeconds(1));

        Assert.Null(cache.TryGetByRecipe("k"));
    }

    [Fact]
    public void TryGetByRecipe_ImageDeletedOrIndexDamagedOrUnknownKey_Misses()
    {
        var cache = new GuestImageCache(_root);
        var input = WriteInput("agent", "v1");
        var image = cache.GetOrBuild(new InitramfsBuilder().AddFile(input, "/init"));
        cache.RememberRecipe("gone", image, [], [input]);
        cache.RememberRecipe("damaged", image, [], [input]);

        File.Delete(image.Path);
        File.WriteAllText(Path.Combine(cache.Directory, "recipe-damaged.json"), "{ not json");

        Assert.Null(cache.TryGetByRecipe("gone"));
        Assert.Null(cache.TryGetByRecipe("damaged"));
        Assert.Null(cache.TryGetByRecipe("never-seen"));
    }

    private string WriteInput(string name, string content)
    {
        var path = Path.Combine(_root, name);
        File.WriteAllText(path, content);
        return path;
    }
}
