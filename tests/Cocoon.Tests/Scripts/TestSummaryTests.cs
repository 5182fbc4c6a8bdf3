// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Common;

namespace Cocoon.Tests.Scripts;

/// <summary>
/// <c>scripts/test-summary</c> turns the results of every test project into the suite's one closing line.
/// These feed it hand-made results shaped like what <c>dotnet test</c> leaves in each failure mode (a test
/// host that crashed, a run cut short, a project that ran nothing) and check none of them reads as green.
/// </summary>
public sealed class TestSummaryTests : IDisposable
{
    private readonly TempStateRoot _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task AllPassed_CountsResultsAndExitsZero()
    {
        Project("A", rc: 0, Trx("Completed", Results(passed: 3, skipped: 1)));
        Project("B", rc: 0, Trx("Completed", Results(passed: 2)));

        var (exit, lines) = await Summarize();

        Assert.Equal(0, exit);
        Assert.Equal("5 passed, 0 failed, 1 skipped", lines[^1]);
    }

    [Fact]
    public async Task CrashedTestHost_CountsAFailureBesideTheTestsThatFinished()
    {
        // What a host killed mid-run (FailFast, a guard page hit, blame's hang kill) leaves: the tests
        // that finished, outcome Failed, an error run message, and dotnet test exiting 1.
        Project("A", rc: 1, Trx("Failed", Results(passed: 2),
            runInfo: "The active test run was aborted. Reason: Test host process crashed : Process terminated."));

        var (exit, lines) = await Summarize();

        Assert.Equal(1, exit);
        Assert.Equal("2 passed, 1 failed, 0 skipped", lines[^1]);
        Assert.Contains(lines, l => l.Contains("A: run message: The active test run was aborted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NonZeroExit_WithOnlyPassedResults_CountsAFailure()
    {
        Project("A", rc: 1, Trx("Completed", Results(passed: 4)));

        var (exit, lines) = await Summarize();

        Assert.Equal(1, exit);
        Assert.Equal("4 passed, 1 failed, 0 skipped", lines[^1]);
        Assert.Contains("test-summary: A: dotnet test exited 1", lines);
    }

    [Fact]
    public async Task TruncatedTrx_CountsAFailure()
    {
        var whole = Trx("Completed", Results(passed: 3));
        Project("A", rc: 0, whole[..(whole.Length / 2)]);

        var (exit, lines) = await Summarize();

        Assert.Equal(1, exit);
        Assert.Equal("0 passed, 1 failed, 0 skipped", lines[^1]);
        Assert.Contains(lines, l => l.StartsWith("test-summary: A: results file is unreadable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MissingTrx_CountsAFailure()
    {
        Project("A", rc: 1, trx: null);
        Project("B", rc: 0, Trx("Completed", Results(passed: 1)));

        var (exit, lines) = await Summarize();

        Assert.Equal(1, exit);
        Assert.Equal("1 passed, 1 failed, 0 skipped", lines[^1]);
        Assert.Contains("test-summary: A: produced no results file", lines);
    }

    [Fact]
    public async Task ProjectThatExecutedNoTest_CountsAFailure()
    {
        Project("A", rc: 0, Trx("Completed", Results(skipped: 2)));

        var (exit, lines) = await Summarize();

        Assert.Equal(1, exit);
        Assert.Equal("0 passed, 1 failed, 2 skipped", lines[^1]);
        Assert.Contains("test-summary: A: executed no test", lines);
    }

    [Fact]
    public async Task FailedTests_AreCountedOnce()
    {
        Project("A", rc: 1, Trx("Failed", Results(passed: 1, failed: 2)));

        var (exit, lines) = await Summarize();

        Assert.Equal(1, exit);
        Assert.Equal("1 passed, 2 failed, 0 skipped", lines[^1]);
    }

    [Fact]
    public async Task FailedTest_NameMessageAndStackHeadPrintedAboveTheSummary()
    {
        // A CI log may keep only the tail of the run: the cause of a failure must be there, not only in the trx.
        var message = string.Join("\n", Enumerable.Range(1, 40).Select(i => $"message line {i}"));
        var stack = string.Join("\n", Enumerable.Range(1, 20).Select(i => $"   at Frame{i}()"));
        Project("A", rc: 1, Trx("Failed", $"""
                <UnitTestResult testName="T.Broken" outcome="Failed" duration="00:00:01.5">
                  <Output><ErrorInfo><Message>{message}</Message><StackTrace>{stack}</StackTrace></ErrorInfo></Output>
                </UnitTestResult>
            """));

        var (exit, lines) = await Summarize();

        Assert.Equal(1, exit);
        Assert.Equal("0 passed, 1 failed, 0 skipped", lines[^1]);
        Assert.Contains("test-summary: A: FAILED T.Broken (00:00:01.5)", lines);
        Assert.Contains("test-summary: A:   message line 30", lines);
        Assert.DoesNotContain("test-summary: A:   message line 31", lines);
        Assert.Contains("test-summary: A:   ... 10 more lines of message in the trx", lines);
        Assert.Contains("test-summary: A:      at Frame8()", lines);
        Assert.DoesNotContain("test-summary: A:      at Frame9()", lines);
    }

    [Fact]
    public async Task NoProjectRun_CountsAFailure()
    {
        var (exit, lines) = await Summarize();

        Assert.Equal(1, exit);
        Assert.Equal("0 passed, 1 failed, 0 skipped", lines[^1]);
    }

    private void Project(string name, int rc, string? trx)
    {
        File.WriteAllText(Path.Combine(_dir.Path, name + ".rc"), rc + "\n");
        if (trx is not null)
        {
            File.WriteAllText(Path.Combine(_dir.Path, name + ".trx"), trx);
        }
    }

    private async Task<(int Exit, string[] Lines)> Summarize()
    {
        var result = await ProcessRunner.RunAsync(
            Path.Combine(RepoLayout.Root, "scripts", "test-summary"), [_dir.Path], TimeSpan.FromSeconds(30));
        Assert.Equal("", result.Stderr);
        return (result.ExitCode, result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private static string Results(int passed = 0, int failed = 0, int skipped = 0)
    {
        var rows = new List<string>();
        var n = 0;
        foreach (var (count, outcome) in new[] { (passed, "Passed"), (failed, "Failed"), (skipped, "NotExecuted") })
        {
            for (var i = 0; i < count; i++, n++)
            {
                rows.Add($"""    <UnitTestResult testName="T.Test{n}" outcome="{outcome}" />""");
            }
        }

        return string.Join("\n", rows);
    }

    private static string Trx(string outcome, string results, string? runInfo = null)
    {
        var infos = runInfo is null
            ? ""
            : $"""
                  <RunInfos>
                    <RunInfo computerName="vm" outcome="Error"><Text>{runInfo}
                 at Some.Stack.Frame()</Text></RunInfo>
                  </RunInfos>
              """;
        return $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <Results>
            {results}
              </Results>
              <ResultSummary outcome="{outcome}">
                <Counters total="0" />
            {infos}
              </ResultSummary>
            </TestRun>
            """;
    }
}
