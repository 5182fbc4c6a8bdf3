// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Cli.Infrastructure;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Tests.Cli;

/// <summary><c>pull</c>, <c>images</c>, <c>rmi</c> and <c>load</c> against a docker-registry on loopback.</summary>
public sealed class ImageCommandTests : CliHarness, IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cli-img-").FullName;
    private LocalRegistry _registry = null!;

    private string Reference => $"{_registry.Host}/cli/app:1";

    public async Task InitializeAsync()
    {
        _registry = await LocalRegistry.StartAsync(Path.Combine(_directory, "registry"));
        var layout = Path.Combine(_directory, "layout");
        await OciLayouts.BuildAsync(layout, "app", [new TarBuilder().Directory("etc").File("etc/hostname", "app\n").Build()]);
        await _registry.PushLayoutAsync(layout, "app", "cli/app:1");
    }

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Pull_NotATerminal_PlainLinesThenReference()
    {
        var (exit, stdout, stderr) = Run("pull", Reference);

        Assert.True(exit == 0, stderr);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Equal($"{Reference}: resolving", lines[0]);
        Assert.Contains(lines, l => l.EndsWith(": pull complete (0.0 MiB)", StringComparison.Ordinal));
        Assert.Contains($"{Reference}: building root file system", lines);
        Assert.StartsWith("Digest: sha256:", lines[^2], StringComparison.Ordinal);
        Assert.Equal(Reference, lines[^1]);
        Assert.DoesNotContain("\x1b[", stdout, StringComparison.Ordinal);
        Assert.Equal(Reference + "\n", Run("images", "-q").Out);
        Assert.StartsWith("REFERENCE", Run("images").Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Rmi_ImageABoxWasCreatedFrom_RefusedUnlessForced()
    {
        Assert.Equal(0, Run("pull", "-q", Reference).Exit);
        Assert.Equal(0, Run("create", "--name", "web", "--image", Reference).Exit);

        var refused = Run("rmi", Reference);
        var forced = Run("rmi", "-f", Reference);

        Assert.Equal(5, refused.Exit);
        Assert.Contains("used by box web", refused.Err, StringComparison.Ordinal);
        Assert.Equal(0, forced.Exit);
        Assert.Equal($"Untagged: {Reference}\n", forced.Out);
        Assert.Equal(string.Empty, Run("images", "-q").Out);
    }

    [Theory]
    [InlineData(new[] { "pull", "Not/Valid" }, 2, "invalid image reference 'Not/Valid'")]
    [InlineData(new[] { "rmi", "nothing:1" }, 3, "'nothing:1' is not in the local store")]
    [InlineData(new[] { "load", "-i", "/nonexistent.tar" }, 3, "'/nonexistent.tar' does not exist")]
    public void ImageCommand_BadInput_ExitCodeAndMessage(string[] args, int code, string message)
    {
        var (exit, _, stderr) = Run(args);

        Assert.Equal(code, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }
}
