// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common.Images;

namespace Cocoon.EndToEnd.Tests.Docker;

/// <summary>
/// A registry started for the class, holding a <see cref="BusyboxLayer"/> image, pulled into a private
/// state root, and one box of that image created with the Docker profile (<c>--support-docker</c>),
/// shared by the class's tests (a container per test).
/// </summary>
public sealed class DockerProfileFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dkp-e2e-").FullName;
    private LocalRegistry? _registry;

    internal BoxTestEnvironment Environment { get; } = new();

    public CocoonRuntime Runtime { get; private set; } = null!;

    public Box Box { get; private set; } = null!;

    /// <summary>The image's reference in the registry.</summary>
    public string Image { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _registry = await LocalRegistry.StartAsync(Path.Combine(_directory, "registry"));
        var layout = Path.Combine(_directory, "layout");
        await OciLayouts.BuildAsync(layout, "bb", [BusyboxLayer.Build()], config:
            ["--config.entrypoint", "/bin/sh", "--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
        await _registry.PushLayoutAsync(layout, "bb", "test/bb:1");
        Image = $"{_registry.Host}/test/bb:1";
        Runtime = Environment.CreateRuntime();
        await Runtime.Images.PullAsync(Image).WaitAsync(TimeSpan.FromSeconds(120));
        Box = await Runtime.CreateBoxAsync(new BoxOptions("dkp").WithImage(Image).WithDockerSupport())
            .WaitAsync(TimeSpan.FromSeconds(180));
    }

    public async Task DisposeAsync()
    {
        if (Box is not null)
        {
            await Box.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }

        await Environment.DisposeAsync();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }
}
