// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;

namespace Cocoon.EndToEnd.Tests.Files;

/// <summary>One real box with two volumes, /data read-write and /ro read-only, shared by the tests that only use them.</summary>
public sealed class VolumeFixture : IAsyncLifetime
{
    internal BoxTestEnvironment Environment { get; } = new();

    public string ReadWrite { get; } = Directory.CreateTempSubdirectory("cocoon-rw-").FullName;

    public string ReadOnly { get; } = Directory.CreateTempSubdirectory("cocoon-ro-").FullName;

    public Box Box { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        File.WriteAllText(Path.Combine(ReadOnly, "given.txt"), "from the host\n");
        var runtime = Environment.CreateRuntime();
        Box = await runtime.CreateBoxAsync(new BoxOptions("vols").WithVolume(ReadWrite, "/data").WithVolume(ReadOnly, "/ro", readOnly: true))
            .WaitAsync(TimeSpan.FromSeconds(120));
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
        Directory.Delete(ReadWrite, recursive: true);
        Directory.Delete(ReadOnly, recursive: true);
    }

    /// <summary>The pids of the virtiofsd processes (parents and sandboxed children) serving <paramref name="socketPath"/>.</summary>
    public static List<int> VirtiofsdPids(string socketPath)
    {
        var pids = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var argv = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                if (argv.Any(a => a.EndsWith("virtiofsd", StringComparison.Ordinal)) && argv.Contains("--socket-path=" + socketPath)
                    && !File.ReadAllText(Path.Combine(directory, "stat")).Contains(") Z ", StringComparison.Ordinal))
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return pids;
    }
}
