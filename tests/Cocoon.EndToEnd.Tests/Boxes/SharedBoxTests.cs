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
    public async Task RunAsync_BoxEnvironment_UnderTheRequestsAndNeverOnTheKernelCommandLine()
    {
        var request = new ExecRequest(["sh", "-c", "echo $COCOON_BOX_SECRET $OVERRIDDEN; cat /proc/cmdline"])
        {
            Environment = new Dictionary<string, string> { ["OVERRIDDEN"] = "request" },
        };

        var result = await Box.RunAsync(request).WaitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Split('\n');
        Assert.Equal($"{SharedBoxFixture.Secret} request", lines[0]);
        var boot = Protocol.BootConfig.FromKernelCommandLine(lines[1]);
        Assert.NotNull(boot);
        Assert.DoesNotContain(SharedBoxFixture.Secret, boot.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain(SharedBoxFixture.Secret, lines[1], StringComparison.Ordinal);
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
        var result = await fixture.Environment.CocoonWithInputAsync("line one\nline two\n", "exec", "-i", Box.Name, "sh", "-c", "cat; hostname; exit 5");

        Assert.Equal(5, result.ExitCode);
        Assert.Equal($"line one\nline two\n{Box.Name}\n", result.Stdout);
        Assert.Equal("running", (await fixture.Environment.InspectAsync(Box.Name)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task CliExec_WithoutI_StdinIsNotForwarded()
    {
        var result = await fixture.Environment.CocoonWithInputAsync("not for the guest\n", "exec", Box.Name, "sh", "-c", "cat; echo end");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("end\n", result.Stdout);
    }

    [Fact]
    public async Task CliExec_T_GuestTerminalHasTheHostTerminalsSize()
    {
        // script(1) gives the CLI a pseudo-terminal; the host side sets its size before cocoon starts.
        var output = await UnderTerminalAsync(null, $"stty rows 33 cols 101; \"$COCOON\" exec -t {Box.Name} sh -c 'tty; stty size; exit 3'");

        Assert.Equal(3, output.ExitCode);
        Assert.Contains("/dev/pts/", output.Stdout, StringComparison.Ordinal);
        Assert.Contains("33 101", output.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliExec_IT_TypedLinesReachTheGuestShell()
    {
        var output = await UnderTerminalAsync("echo typed-$((6*7))\nexit 4\n", $"\"$COCOON\" exec -i -t {Box.Name} sh");

        Assert.Equal(4, output.ExitCode);
        Assert.Contains("typed-42", output.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliLogsConsole_GuestConsole_IncludesWhatTheGuestPrinted()
    {
        var marker = "cocoon-logs-" + Guid.NewGuid().ToString("N")[..8];
        var printed = await Box.RunAsync(["sh", "-c", $"echo {marker} > /dev/console"]).WaitAsync(Timeout);

        var console = await fixture.Environment.CocoonAsync("logs", "--console", Box.Name);
        var boxLog = await fixture.Environment.CocoonAsync("logs", Box.Name);
        var missing = await fixture.Environment.CocoonAsync("logs", "no-such-box");

        Assert.Equal(0, printed.ExitCode);
        Assert.True(console.ExitCode == 0, console.Stderr);
        Assert.Contains(marker, console.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(marker, boxLog.Stdout, StringComparison.Ordinal);
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no-such-box", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CliLogs_ExecWithLogOutput_BothStreamsInTheBoxLogAndPlainExecsNot()
    {
        var marker = "cocoon-boxlog-" + Guid.NewGuid().ToString("N")[..8];
        var logged = await Box.RunAsync(new ExecRequest(["sh", "-c", $"echo {marker}-out; echo {marker}-err >&2"]) { LogOutput = true }).WaitAsync(Timeout);
        var plain = await Box.RunAsync(["echo", marker + "-plain"]).WaitAsync(Timeout);

        var logs = await fixture.Environment.CocoonAsync("logs", Box.Name);
        var tail = await fixture.Environment.CocoonAsync("logs", "--tail", "1", Box.Name);

        Assert.Equal(0, logged.ExitCode);
        Assert.Equal(marker + "-out\n", logged.Stdout);
        Assert.Equal(0, plain.ExitCode);
        Assert.True(logs.ExitCode == 0, logs.Stderr);
        Assert.Contains(marker + "-out\n", logs.Stdout, StringComparison.Ordinal);
        Assert.Contains(marker + "-err\n", logs.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(marker + "-plain", logs.Stdout, StringComparison.Ordinal);
        Assert.Single(tail.Stdout.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Agent_AfterItLoggedAWarning_LeavesSigchldToItsReaper()
    {
        // A refused copy makes the agent log a warning on the guest's console (a terminal). Writing
        // there must not install .NET's SIGCHLD handler: as PID 1 that handler reaps every child and
        // races the agent's reaper, and an exec whose exit status it took never ends.
        var made = await Box.RunAsync(["sh", "-c", "echo f > /tmp/sigchld-plain.txt"]).WaitAsync(Timeout);
        var directory = Directory.CreateTempSubdirectory("cocoon-sigchld-");
        try
        {
            await Assert.ThrowsAsync<Cocoon.Vsock.Streams.StreamException>(() => Box.CopyToAsync(directory.FullName, "/tmp/sigchld-plain.txt").WaitAsync(Timeout));
        }
        finally
        {
            directory.Delete();
        }

        var status = await Box.RunAsync(["grep", "^SigCgt:", "/proc/1/status"]).WaitAsync(Timeout);

        Assert.True(made.ExitCode == 0, made.Stderr);
        Assert.True(status.ExitCode == 0, status.Stderr);
        var caught = ulong.Parse(status.Stdout["SigCgt:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        const int Sigchld = 17;
        Assert.True((caught & (1UL << (Sigchld - 1))) == 0, $"PID 1 catches SIGCHLD ({status.Stdout.Trim()})");
    }

    /// <summary>Runs <paramref name="command"/> (sh, with $COCOON the CLI) on a pseudo-terminal under script(1), feeding it <paramref name="typed"/>.</summary>
    private async Task<ProcessResult> UnderTerminalAsync(string? typed, string command)
    {
        var environment = fixture.Environment.CliEnvironment();
        environment["COCOON"] = BoxTestEnvironment.Cli;
        return await ProcessRunner.RunAsync("script", ["-q", "-e", "-c", command, "/dev/null"], BoxTestEnvironment.CommandTimeout, environment, typed ?? "");
    }
}
