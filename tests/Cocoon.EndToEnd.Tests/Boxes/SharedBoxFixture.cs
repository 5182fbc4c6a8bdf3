// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.EndToEnd.Tests.Boxes;

/// <summary>One real box, started through the SDK, shared by tests that do not change its state; its environment has <see cref="Secret"/>.</summary>
public sealed class SharedBoxFixture : IAsyncLifetime
{
    /// <summary>The value of the box's COCOON_BOX_SECRET variable (it also sets OVERRIDDEN=box).</summary>
    public const string Secret = "s3cret-value-7f1d";

    internal BoxTestEnvironment Environment { get; } = new();

    public Box Box { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var runtime = Environment.CreateRuntime();
        Box = await runtime.CreateBoxAsync(new BoxOptions("shared").WithEnv("COCOON_BOX_SECRET", Secret).WithEnv("OVERRIDDEN", "box")).WaitAsync(TimeSpan.FromSeconds(120));
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
