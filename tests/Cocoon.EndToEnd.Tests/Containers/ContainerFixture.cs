// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common.Images;

namespace Cocoon.EndToEnd.Tests.Containers;

/// <summary>
/// A registry started for the class, holding a busybox image built from this machine's
/// <c>/bin/busybox</c> (ENTRYPOINT <c>/bin/echo ep</c>, CMD <c>cmd</c>, a user <c>app</c>), pulled
/// into a private state root, and one box of that image shared by the class's tests (a container
/// per test).
/// </summary>
public sealed class ContainerFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ctr-e2e-").FullName;
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
        await OciLayouts.BuildAsync(layout, "bb", [BusyboxLayer()], config:
        [
            "--config.entrypoint", "/bin/echo", "--config.entrypoint", "ep", "--config.cmd", "cmd",
            "--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "--config.env", "FROM_IMAGE=1", "--config.workingdir", "/srv",
        ]);
        await _registry.PushLayoutAsync(layout, "bb", "test/bb:1");
        Image = $"{_registry.Host}/test/bb:1";
        Runtime = Environment.CreateRuntime();
        await Runtime.Images.PullAsync(Image).WaitAsync(TimeSpan.FromSeconds(120));
        Box = await Runtime.CreateBoxAsync(new BoxOptions("ctr").WithImage(Image)).WaitAsync(TimeSpan.FromSeconds(180));
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

    /// <summary>busybox with its applets as links, /srv, /tmp and an /etc/passwd with root and app (1000:1000).</summary>
    private static byte[] BusyboxLayer()
    {
        var tar = new TarBuilder()
            .Directory("bin")
            .Directory("etc")
            .Directory("srv")
            .Directory("tmp", (UnixFileMode)0x3FF)
            .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
            .File("etc/group", "root:x:0:\napp:x:1000:\n");
        tar.Add(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "bin/busybox")
        {
            DataStream = new MemoryStream(File.ReadAllBytes("/bin/busybox")),
            Mode = (UnixFileMode)0x1ED,
        });
        foreach (var applet in new[] { "sh", "echo", "cat", "grep", "hostname", "id", "nc", "sleep", "seq", "mkdir", "touch", "wc", "head", "true" })
        {
            tar.Symlink("bin/" + applet, "busybox");
        }

        return tar.Build();
    }
}
