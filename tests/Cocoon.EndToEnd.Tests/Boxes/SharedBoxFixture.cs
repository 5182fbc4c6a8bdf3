// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.EndToEnd.Tests.Boxes;

/// <summary>One real box, started through the SDK, shared by tests that do not change its state.</summary>
public sealed class SharedBoxFixture : IAsyncLifetime
{
    internal BoxTestEnvironment Environment { get; } = new();

    public Box Box { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var runtime = Environment.CreateRuntime();
        Box = await runtime.CreateBoxAsync(new BoxOptions("shared")).WaitAsync(TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync()
    {
        // Disposing the box removes it: its logs are kept first.
        Environment.KeepLogs();
        if (Box is not null)
        {
            await Box.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }

        await Environment.DisposeAsync();
    }
}
