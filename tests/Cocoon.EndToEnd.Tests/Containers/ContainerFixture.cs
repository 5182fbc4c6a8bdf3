// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common.Images;

namespace Cocoon.EndToEnd.Tests.Containers;

/// <summary>
/// A registry started for the class, holding a <see cref="BusyboxLayer"/> image (ENTRYPOINT
/// <c>/bin/echo ep</c>, CMD <c>cmd</c>, a user <c>app</c>), pulled into a private state root, and one box of that image shared by the class's tests (a container
/// per test), with a read-write volume at /data and a read-only one at /ro.
/// </summary>
public sealed class ContainerFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ctr-e2e-").FullName;
    private LocalRegistry? _registry;

    internal BoxTestEnvironment Environment { get; } = new();

    public CocoonRuntime Runtime { get; private set; } = null!;

    public Box Box { get; private set; } = null!;

    /// <summary>The host directory of the box's read-write volume at /data.</summary>
    public string DataVolume => Path.Combine(_directory, "data");

    /// <summary>The host directory of the box's read-only volume at /ro.</summary>
    public string ReadOnlyVolume => Path.Combine(_directory, "ro");

    /// <summary>The image's reference in the registry.</summary>
    public string Image { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _registry = await LocalRegistry.StartAsync(Path.Combine(_directory, "registry"));
        var layout = Path.Combine(_directory, "layout");
        await OciLayouts.BuildAsync(layout, "bb", [BusyboxLayer.Build()], config:
        [
            "--config.entrypoint", "/bin/echo", "--config.entrypoint", "ep", "--config.cmd", "cmd",
            "--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "--config.env", "FROM_IMAGE=1", "--config.workingdir", "/srv",
        ]);
        await _registry.PushLayoutAsync(layout, "bb", "test/bb:1");
        Image = $"{_registry.Host}/test/bb:1";
        Runtime = Environment.CreateRuntime();
        await Runtime.Images.PullAsync(Image).WaitAsync(TimeSpan.FromSeconds(120));
        Directory.CreateDirectory(DataVolume);
        Directory.CreateDirectory(ReadOnlyVolume);
        await File.WriteAllTextAsync(Path.Combine(ReadOnlyVolume, "host.txt"), "from the host\n");
        Box = await Runtime.CreateBoxAsync(new BoxOptions("ctr").WithImage(Image).WithVolume(DataVolume, "/data").WithVolume(ReadOnlyVolume, "/ro", readOnly: true))
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
