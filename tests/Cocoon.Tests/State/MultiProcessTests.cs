// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.State;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.State;

public sealed class MultiProcessTests : IDisposable
{
    private readonly TempStateRoot _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public async Task Churn_EightProcessesCreateAndRemove_UniqueCidsAndNoLeaks()
    {
        const int Workers = 8, Iterations = 100;

        var runs = Enumerable.Range(0, Workers).Select(id => ProcessRunner.RunAsync(
            "dotnet",
            [RepoLayout.WorkerAssembly, "churn", _root.Path, id.ToString(System.Globalization.CultureInfo.InvariantCulture), Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(120)));
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(150));

        Assert.All(results, r => Assert.True(r.ExitCode == 0, $"worker failed ({r.ExitCode}): {r.Stderr}"));
        var boxes = new BoxRepository(new CocoonPaths(_root.Path));
        Assert.Empty(boxes.List());
        Assert.Empty(boxes.Cids.Snapshot());
        Assert.Empty(Directory.EnumerateDirectories(boxes.Paths.BoxesDirectory));
        Assert.Empty(Directory.EnumerateFiles(_root.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Create_SameNameFromEightProcesses_ExactlyOneWins()
    {
        var env = new Dictionary<string, string> { ["COCOON_HOME"] = _root.Path };

        var runs = Enumerable.Range(0, 8).Select(_ =>
            ProcessRunner.RunAsync(RepoLayout.CliExecutable, ["create", "--name", "contested"], TimeSpan.FromSeconds(60), env));
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Single(results, r => r.ExitCode == 0);
        Assert.All(results.Where(r => r.ExitCode != 0), r => Assert.Equal(4, r.ExitCode));
        Assert.Single(new CidAllocator(new CocoonPaths(_root.Path)).Snapshot());
    }

    [Fact]
    public async Task Crash_SigkillDuringUpdates_LeavesConsistentState()
    {
        var random = new Random(1234);
        var boxes = new BoxRepository(new CocoonPaths(_root.Path));
        for (var round = 0; round < 6; round++)
        {
            using var worker = ProcessRunner.Start("dotnet", [RepoLayout.WorkerAssembly, "crash", _root.Path]);
            var ready = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("ready", ready);
            await Task.Delay(random.Next(20, 300));
            worker.Kill();
            await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

            // Every file parses and the facts agree, whatever instant the kill hit.
            var victim = boxes.Get("victim");
            var table = boxes.Cids.Snapshot();
            Assert.Equal("victim", table[victim.Cid]);
            Assert.True(table.Count(p => p.Value == "churn") <= 1);
            Assert.Equal(table.Count, table.Values.Distinct().Count());
        }

        // The next writer cleans what the crashes left: a stale CID, temp files.
        var cid = boxes.Cids.Allocate("churn");
        boxes.Cids.Release(cid, "churn");
        boxes.Update("victim", r => r with { State = BoxState.Stopped });
        Assert.Single(boxes.Cids.Snapshot());
        Assert.Empty(Directory.EnumerateFiles(_root.Path, "*.tmp", SearchOption.AllDirectories));
    }
}
