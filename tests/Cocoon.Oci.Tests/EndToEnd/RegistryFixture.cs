// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Oci.Tests.Infrastructure;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Oci.EndToEnd.Tests;

/// <summary>One anonymous registry per test class, holding the multi-layer test image as app:1.</summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ocireg-").FullName;

    public LocalRegistry Registry { get; private set; } = null!;

    /// <summary>The OCI layout the images were built in (tags "multi", "arm").</summary>
    public string Layout => Path.Combine(_directory, "layout");

    /// <summary>The multi-layer image's reference in the registry.</summary>
    public string MultiLayer => $"{Registry.Host}/test/app:1";

    public async Task InitializeAsync()
    {
        Registry = await LocalRegistry.StartAsync(Path.Combine(_directory, "registry"));
        await OciLayouts.BuildAsync(Layout, "multi", TestImages.MultiLayer());
        await Registry.PushLayoutAsync(Layout, "multi", "test/app:1");
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
