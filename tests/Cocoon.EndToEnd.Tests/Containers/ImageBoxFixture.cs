// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common.Images;

namespace Cocoon.EndToEnd.Tests.Containers;

/// <summary>
/// A registry started for a test class, holding a <see cref="BusyboxLayer"/> image configured by
/// <see cref="ImageConfig"/>, pulled into a private state root, and one box of that image made by
/// <see cref="BoxOptionsFor"/>, shared by the class's tests (a container per test).
/// </summary>
public abstract class ImageBoxFixture : IAsyncLifetime
{
    private LocalRegistry? _registry;

    /// <summary>A directory for the fixture's files, deleted on dispose.</summary>
    protected string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("img-e2e-").FullName;

    internal BoxTestEnvironment Environment { get; } = new();

    public CocoonRuntime Runtime { get; private set; } = null!;

    public Box Box { get; private set; } = null!;

    /// <summary>The image's reference in the registry.</summary>
    public string Image { get; private set; } = null!;

    /// <summary>umoci's <c>--config.*</c> flags for the image.</summary>
    protected abstract IReadOnlyList<string> ImageConfig { get; }

    /// <summary>The image's layers, bottom first: <see cref="BusyboxLayer"/> unless a fixture needs more.</summary>
    protected virtual Task<IReadOnlyList<byte[]>> LayersAsync() => Task.FromResult<IReadOnlyList<byte[]>>([BusyboxLayer.Build()]);

    /// <summary>The shared box's options, for the pulled <paramref name="image"/>.</summary>
    protected abstract BoxOptions BoxOptionsFor(string image);

    public async Task InitializeAsync()
    {
        _registry = await LocalRegistry.StartAsync(Path.Combine(Directory, "registry"));
        var layout = Path.Combine(Directory, "layout");
        await OciLayouts.BuildAsync(layout, "bb", await LayersAsync(), config: ImageConfig);
        await _registry.PushLayoutAsync(layout, "bb", "test/bb:1");
        Image = $"{_registry.Host}/test/bb:1";
        Runtime = Environment.CreateRuntime();
        await Runtime.Images.PullAsync(Image).WaitAsync(TimeSpan.FromSeconds(120));
        Box = await Runtime.CreateBoxAsync(BoxOptionsFor(Image)).WaitAsync(TimeSpan.FromSeconds(180));
    }

    /// <summary>Runs a container of <see cref="Box"/> to its end; fails the test unless it exits 0.</summary>
    public async Task<(string Stdout, ExecExit Exit)> RunToEndAsync(ContainerOptions options, TimeSpan timeout)
    {
        await using var container = await Box.RunContainerAsync(options).WaitAsync(timeout);
        var session = container.Session!;
        var stdout = new StreamReader(session.Stdout).ReadToEndAsync();
        var stderr = new StreamReader(session.Stderr).ReadToEndAsync();
        var exit = await container.WaitAsync().WaitAsync(timeout);
        var output = await stdout.WaitAsync(timeout);
        Assert.True(exit.ShellExitCode == 0, $"exit {exit.Describe()}: {output} {await stderr}");
        return (output, exit);
    }

    public virtual async Task DisposeAsync()
    {
        // Disposing the box removes it: its logs are kept first.
        Environment.KeepLogs();
        if (Box is not null)
        {
            await Box.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }

        await Environment.DisposeAsync();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
