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

    /// <summary>Copies every box's logs where <c>COCOON_TEST_LOGS</c> says (see <see cref="TempStateRoot.KeepLogs"/>); call it before disposing an SDK box that removes itself.</summary>
    public void KeepLogs() => _root.KeepLogs();

    public CocoonRuntime CreateRuntime(TimeSpan? startTimeout = null) => new(new CocoonRuntimeOptions
    {
        StateRoot = StateRoot,
        CocoonPath = Cli,
        StartTimeout = startTimeout ?? TimeSpan.FromSeconds(90),
    });

    public Task<ProcessResult> CocoonAsync(params string[] arguments) => CocoonWithInputAsync(null, arguments);

    /// <summary>Runs the CLI with <paramref name="stdin"/> as its standard input, closed after it (null: left open, unused).</summary>
    public Task<ProcessResult> CocoonWithInputAsync(string? stdin, params string[] arguments) =>
        ProcessRunner.RunAsync(Cli, arguments, CommandTimeout, CliEnvironment(), stdin);

    /// <summary>The environment the CLI runs with: <see cref="Environment"/> plus COCOON_HOME.</summary>
    public Dictionary<string, string> CliEnvironment() =>
        new(Environment, StringComparer.Ordinal) { ["COCOON_HOME"] = StateRoot };

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
    public static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(condition, () => "");

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; after 30 s fails the test with what
    /// <paramref name="describe"/> says of the moment (e.g. <see cref="DescribeBox"/>).
    /// </summary>
    public static async Task WaitUntilAsync(Func<bool> condition, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail("condition not met within 30 s\n" + describe());
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// The box's state and the ends of its console and supervisor logs, in under 30 lines (what the
    /// test summary prints of a message): a CI run keeps the logs on its own machine only.
    /// </summary>
    public string DescribeBox(string name)
    {
        var directory = Path.Combine(StateRoot, "boxes", name);
        var text = new System.Text.StringBuilder();
        var record = ReadRecord(name);
        text.Append("record: ").AppendJoin(", ", new[] { "state", "stop_reason", "vmm_pid" }
            .Where(key => record.TryGetProperty(key, out _))
            .Select(key => $"{key}={record.GetProperty(key)}")).Append('\n');
        foreach (var (file, lines) in new[] { ("console.log", 10), ("supervisor.log", 8) })
        {
            var path = Path.Combine(directory, file);
            var content = File.Exists(path) ? File.ReadAllLines(path) : ["(none)"];
            text.Append(file).Append(":\n").AppendJoin('\n', content.TakeLast(lines).Select(line => "  " + line)).Append('\n');
        }

        text.Append("processes: ").AppendJoin("; ", LeftoverProcesses().Select(ProcessLine));
        return text.ToString();
    }

    private static string ProcessLine(int pid)
    {
        try
        {
            var command = File.ReadAllText($"/proc/{pid}/comm").Trim();
            return ProcessRunner.ReadStat(pid) is var (state, _) ? $"{pid} {command} {state}" : $"{pid} (gone)";
        }
        catch (IOException)
        {
            return $"{pid} (gone)";
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

    /// <summary>
    /// Removes every box the test left (rm -f: that is the CLI's own cleanup, tested elsewhere),
    /// then checks that nothing outlived it: a process naming this state root or an allocated CID is
    /// a leak, reported by throwing (which fails the test) after the process is killed so the host
    /// stays clean.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var leaks = new List<string>();
        _root.KeepLogs();
        var boxes = Path.Combine(StateRoot, "boxes");
        if (Directory.Exists(boxes))
        {
            foreach (var directory in Directory.EnumerateDirectories(boxes))
            {
                var name = Path.GetFileName(directory);
                if (!name.StartsWith('.'))
                {
                    var rm = await CocoonAsync("rm", "-f", name);
                    if (rm.ExitCode != 0)
                    {
                        leaks.Add($"cocoon rm -f {name} exited {rm.ExitCode}: {rm.Stderr.Trim()}");
                    }
                }
            }
        }

        // QEMU dies with its supervisor (--pdeathsig), a moment after rm has seen the supervisor go.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (LeftoverProcesses().Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        foreach (var pid in LeftoverProcesses())
        {
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                leaks.Add($"process {pid} still running: {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim()}");
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException)
            {
                // Gone by now.
            }
        }

        var cids = CidsText();
        if (cids.Length > 0 && JsonDocument.Parse(cids).RootElement.EnumerateObject().Any())
        {
            leaks.Add($"CIDs still allocated after every box was removed: {cids}");
        }

        _root.Dispose();
        if (leaks.Count > 0)
        {
            throw new InvalidOperationException($"the test left behind in {StateRoot}:\n" + string.Join('\n', leaks));
        }
    }
}
