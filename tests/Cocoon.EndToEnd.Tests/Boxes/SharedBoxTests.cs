// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Boxes;

/// <summary>Commands in one shared real box (SDK).</summary>
public sealed class SharedBoxTests(SharedBoxFixture fixture) : IClassFixture<SharedBoxFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private Box Box => fixture.Box;

    [Fact]
    public async Task RunAsync_Echo_ReturnsOutputAndZero()
    {
        var result = await Box.RunAsync(["echo", "hello"]).WaitAsync(Timeout);

        Assert.Equal("hello\n", result.Stdout);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task RunAsync_Crun_IsInTheGuestWithItsLibraries()
    {
        var result = await Box.RunAsync(["crun", "--version"]).WaitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.StartsWith("crun version ", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ExitCodeAndStderr_ArePassedThrough()
    {
        var result = await Box.RunAsync(["sh", "-c", "echo out; echo err >&2; exit 7"]).WaitAsync(Timeout);

        Assert.Equal("out\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal(7, result.ExitCode);
    }

    [Fact]
    public async Task RunAsync_KilledBySignal_ReportsSignalAndShellCode()
    {
        var result = await Box.RunAsync(["sh", "-c", "kill -9 $$"]).WaitAsync(Timeout);

        Assert.Equal(9, result.Exit.Signal);
        Assert.Equal(137, result.ExitCode);
    }

    [Fact]
    public async Task RunAsync_MissingCommand_ThrowsNotFoundAndCliReturns127()
    {
        var error = await Assert.ThrowsAsync<CocoonException>(() => Box.RunAsync(["no-such-command"]).WaitAsync(Timeout));
        var cli = await fixture.Environment.CocoonAsync("exec", Box.Name, "no-such-command");

        Assert.Equal(CocoonErrorCode.NotFound, error.Code);
        Assert.Equal(127, cli.ExitCode);
    }

    [Fact]
    public async Task ExecAsync_TenMiBThroughStdin_ComesBackIntact()
    {
        var data = new byte[10 * 1024 * 1024];
        new Random(42).NextBytes(data);
        var session = await Box.ExecAsync(new ExecRequest(["cat"]) { Stdin = true }).WaitAsync(Timeout);
        await using (session)
        {
            using var received = new MemoryStream();
            var reading = session.Stdout.CopyToAsync(received);
            var errors = session.Stderr.CopyToAsync(Stream.Null);
            for (var offset = 0; offset < data.Length; offset += 64 * 1024)
            {
                await session.WriteStdinAsync(data.AsMemory(offset, Math.Min(64 * 1024, data.Length - offset))).WaitAsync(Timeout);
            }

            await session.CloseStdinAsync().WaitAsync(Timeout);
            await Task.WhenAll(reading, errors).WaitAsync(Timeout);
            var exit = await session.Exit.WaitAsync(Timeout);

            Assert.Equal(0, exit.ShellExitCode);
            Assert.Equal(Convert.ToHexString(SHA256.HashData(data)), Convert.ToHexString(SHA256.HashData(received.ToArray())));
        }
    }

    [Fact]
    public async Task RunAsync_Tty_RunsOnATerminal()
    {
        var result = await Box.RunAsync(new ExecRequest(["sh", "-c", "tty; stty size"]) { Tty = true, WindowSize = new TerminalSize(33, 101) }).WaitAsync(Timeout);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("/dev/pts/", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("33 101", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EnvironmentAndWorkingDirectory_AreApplied()
    {
        var request = new ExecRequest(["sh", "-c", "echo \"$GREETING\"; pwd"])
        {
            Environment = new Dictionary<string, string> { ["GREETING"] = "hi there" },
            WorkingDirectory = "/tmp",
        };

        var result = await Box.RunAsync(request).WaitAsync(Timeout);

        Assert.Equal("hi there\n/tmp\n", result.Stdout);
    }

    [Fact]
    public async Task RunAsync_TwentyConcurrent_AllSucceed()
    {
        var runs = Enumerable.Range(0, 20).Select(i => Box.RunAsync(["sh", "-c", $"echo {i}; exit {i % 3}"])).ToArray();

        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(120));

        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal($"{i}\n", results[i].Stdout);
            Assert.Equal(i % 3, results[i].ExitCode);
        }
    }

    [Fact]
    public async Task Agent_GetInfo_ReportsHostnameOfTheBox()
    {
        var info = await Box.Agent.GetInfoAsync().WaitAsync(Timeout);

        Assert.Equal(Box.Name, info.Hostname);
        Assert.True(info.IsInit);
    }

    [Fact]
    public async Task CliExec_OutputToAFileSharedWithOtherWriters_KeepsEveryonesLines()
    {
        // One file for the shell's lines and cocoon's stdout and stderr: each write must land at
        // the shared end, not at an offset of its own.
        var file = Path.Combine(fixture.Environment.StateRoot, "shared-output.txt");
        var script = $"echo before; \"$0\" exec {Box.Name} sh -c 'echo out; echo err >&2'; echo after";

        var result = await ProcessRunner.RunAsync(
            "/bin/sh",
            ["-c", $"{{ {script}; }} > {file} 2>&1", BoxTestEnvironment.Cli],
            BoxTestEnvironment.CommandTimeout,
            new Dictionary<string, string> { ["COCOON_HOME"] = fixture.Environment.StateRoot });

        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = File.ReadAllLines(file);
        Assert.Equal("before", lines[0]);
        Assert.Equal(["err", "out"], lines[1..3].Order(StringComparer.Ordinal));
        Assert.Equal("after", lines[3]);
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public async Task CliExec_PassesOutputStdinAndExitCode()
    {
        var result = await fixture.Environment.CocoonAsync("exec", Box.Name, "sh", "-c", "echo $(hostname); exit 5");

        Assert.Equal(5, result.ExitCode);
        Assert.Equal(Box.Name + "\n", result.Stdout);
        Assert.Equal("running", (await fixture.Environment.InspectAsync(Box.Name)).GetProperty("state").GetString());
    }
}
