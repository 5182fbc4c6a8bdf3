// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Boxes;

/// <summary>The published CLI and a private state root for one test; disposing removes every box and the root.</summary>
internal sealed class BoxTestEnvironment : IAsyncDisposable
{
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    private readonly TempStateRoot _root = new();

    public static string Cli => PublishedFile("cocoon");

    public string StateRoot => _root.Path;

    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public static string PublishedFile(string name)
    {
        var path = Path.Combine(RepoLayout.Root, "artifacts", "cocoon", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"'{path}' is not published; run ./scripts/setup first", path);
    }

    public CocoonRuntime CreateRuntime(TimeSpan? startTimeout = null) => new(new CocoonRuntimeOptions
    {
        StateRoot = StateRoot,
        CocoonPath = Cli,
        StartTimeout = startTimeout ?? TimeSpan.FromSeconds(90),
    });

    public Task<ProcessResult> CocoonAsync(params string[] arguments)
    {
        var environment = new Dictionary<string, string>(Environment, StringComparer.Ordinal) { ["COCOON_HOME"] = StateRoot };
        return ProcessRunner.RunAsync(Cli, arguments, CommandTimeout, environment);
    }

    public async Task<JsonElement> InspectAsync(string name)
    {
        var result = await CocoonAsync("inspect", name);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return JsonDocument.Parse(result.Stdout).RootElement;
    }

    /// <summary>The box's box.json as written (no refresh by the CLI).</summary>
    public JsonElement ReadRecord(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(StateRoot, "boxes", name, "box.json"))).RootElement;

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after 30 s.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(100);
        }
    }

    /// <summary>The box names that hold a CID.</summary>
    public string CidsText()
    {
        var path = Path.Combine(StateRoot, "vsock", "cids.json");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    /// <summary>Processes (QEMU or supervisors) whose command line mentions this state root.</summary>
    public IReadOnlyList<int> LeftoverProcesses()
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == System.Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(directory, "cmdline"));
                if (cmdline.Contains(StateRoot, StringComparison.Ordinal) && !File.ReadAllText(Path.Combine(directory, "stat")).Contains(") Z", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return found;
    }

    public async ValueTask DisposeAsync()
    {
        var boxes = Path.Combine(StateRoot, "boxes");
        if (Directory.Exists(boxes))
        {
            foreach (var directory in Directory.EnumerateDirectories(boxes))
            {
                var name = Path.GetFileName(directory);
                if (!name.StartsWith('.'))
                {
                    await CocoonAsync("rm", "-f", name);
                }
            }
        }

        foreach (var pid in LeftoverProcesses())
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
            }
        }

        _root.Dispose();
    }
}
