// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cocoon.State;
using Cocoon.Tests.Cli.Infrastructure;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.Cli;

public sealed class CliTests : CliHarness
{
    [Fact]
    public void CreateLsInspectRm_RoundTrip_Works()
    {
        Assert.Equal(0, Run("create", "--name", "web", "--memory", "1G", "--vsock-port", "2000:/tmp/w.sock", "-e", "A=1").Exit);
        Assert.Equal(0, Run("create", "-n", "db").Exit);

        var ls = Run("ls");
        var inspect = Run("inspect", "web");
        var json = Run("ls", "--format", "json");

        Assert.Equal(0, ls.Exit);
        Assert.Matches(@"(?m)^NAME\s+STATE\s+CID", ls.Out);
        Assert.Matches(@"(?m)^web\s+created\s+3\s+1\s+1024M", ls.Out);
        using var doc = JsonDocument.Parse(inspect.Out);
        var vsock = doc.RootElement.GetProperty("vsock");
        Assert.Equal(3u, vsock.GetProperty("cid").GetUInt32());
        Assert.Equal(Path.Combine(Root.Path, "boxes", "web", "vsock.sock"), vsock.GetProperty("uds_path").GetString());
        Assert.Equal(2000, doc.RootElement.GetProperty("config").GetProperty("vsock_ports")[0].GetProperty("port").GetInt32());
        Assert.Equal("1", doc.RootElement.GetProperty("config").GetProperty("env").GetProperty("A").GetString());
        Assert.Equal(2, JsonDocument.Parse(json.Out).RootElement.GetArrayLength());

        Assert.Equal(0, Run("rm", "web", "db").Exit);
        Assert.Equal(0, Run("ls").Exit);
        Assert.Empty(new CidAllocator(new CocoonPaths(Root.Path)).Snapshot());
    }

    [Theory]
    [InlineData(2, "create", "--name", "Bad_Name")]
    [InlineData(2, "create", "--name", "web", "--cpus", "0")]
    [InlineData(2, "create", "--name", "web", "--cpus", "x")]
    [InlineData(2, "create", "--name", "web", "--memory", "lots")]
    [InlineData(2, "create", "--name", "web", "--vsock-port", "2000")]
    [InlineData(2, "create", "--name", "web", "--vsock-port", "1024:/tmp/a")]
    [InlineData(2, "create", "--name", "web", "-e", "=x")]
    [InlineData(2, "create", "--name", "web", "--vsock-port", "5000:/missing-dir/app.sock")]
    [InlineData(2, "create", "--name", "web", "--network", "host")]
    [InlineData(2, "create", "--name", "web", "--cmd", "sleep")]
    [InlineData(2, "create", "--name", "web", "--entrypoint", "/bin/sh")]
    [InlineData(2, "create", "--name", "web", "-w", "/app")]
    [InlineData(2, "create", "--name", "web", "--user", "1000")]
    [InlineData(2, "create", "--name", "web", "--image", "busybox", "-w", "app")]
    [InlineData(2, "create", "--name", "web", "--image", "busybox", "-u", "")]
    [InlineData(2, "run", "--network", "bridge", "--", "true")]
    [InlineData(2, "create", "--bogus")]
    [InlineData(2, "ls", "--format", "xml")]
    [InlineData(3, "inspect", "ghost")]
    [InlineData(3, "rm", "ghost")]
    [InlineData(3, "create", "-f", "/nonexistent/box.yaml")]
    public void Run_BadInput_ReturnsMappedExitCodeAndOneErrorLine(int expected, params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);

        Assert.Equal(expected, exit);
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        Assert.Empty(stdout);
        Assert.False(File.Exists(Path.Combine(Root.Path, "vsock", "cids.json")) && new CidAllocator(new CocoonPaths(Root.Path)).Snapshot().Count > 0);
    }

    [Fact]
    public void Create_WithoutName_GeneratesOneAndPrintsIt()
    {
        var (exit, stdout, stderr) = Run("create");

        Assert.True(exit == 0, stderr);
        Assert.Matches("^box-[0-9a-f]{8}\n$", stdout);
        Assert.Equal(0, Run("inspect", stdout.Trim()).Exit);
    }

    [Fact]
    public void Create_EnvWithoutValue_TakesTheHostsValue()
    {
        Environment.SetEnvironmentVariable("COCOON_CLI_TEST_PASSED", "from-host");
        Environment.SetEnvironmentVariable("COCOON_CLI_TEST_UNSET", null);

        Assert.Equal(0, Run("create", "--name", "web", "-e", "COCOON_CLI_TEST_PASSED", "-e", "COCOON_CLI_TEST_UNSET").Exit);

        var env = JsonDocument.Parse(Run("inspect", "web").Out).RootElement.GetProperty("config").GetProperty("env");
        Assert.Equal("from-host", env.GetProperty("COCOON_CLI_TEST_PASSED").GetString());
        Assert.False(env.TryGetProperty("COCOON_CLI_TEST_UNSET", out _));
    }

    [Fact]
    public void Rm_SomeMissing_RemovesTheRestAndReportsEachMissing()
    {
        Run("create", "--name", "a");
        Run("create", "--name", "b");

        var (exit, stdout, stderr) = Run("rm", "a", "nosuch", "b");

        Assert.Equal(3, exit);
        Assert.Equal("a\nb\n", stdout);
        Assert.Contains("'nosuch'", stderr, StringComparison.Ordinal);
        Assert.Empty(new CidAllocator(new CocoonPaths(Root.Path)).Snapshot());
    }

    [Fact]
    public void Inspect_SeveralBoxes_PrintsAnArray()
    {
        Run("create", "--name", "a");
        Run("create", "--name", "b");

        var (exit, stdout, _) = Run("inspect", "a", "b");

        Assert.Equal(0, exit);
        Assert.Equal(["a", "b"], JsonDocument.Parse(stdout).RootElement.EnumerateArray().Select(e => e.GetProperty("name").GetString()));
    }

    [Fact]
    public void Create_FlagError_NamesTheFlag()
    {
        Assert.Contains("--cpus 0", Run("create", "--name", "web", "--cpus", "0").Err, StringComparison.Ordinal);
        Assert.Contains("--vsock-port #2 port", Run("create", "--name", "web", "--vsock-port", "2000:/a", "--vsock-port", "2000:/b").Err, StringComparison.Ordinal);
        Assert.Contains("--network 'host' is not supported", Run("create", "--name", "web", "--network", "host").Err, StringComparison.Ordinal);
        Assert.Contains("--cmd sets the command of the box's container, and a box without an image has none: give it an image (--image)", Run("create", "--name", "web", "--cmd", "sleep").Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Publish_BadSpec_ErrorNamesTheFlagAndWhichOne()
    {
        var portOnly = Run("run", "-p", "80", "--", "true");
        var second = Run("create", "--name", "web", "-p", "8080:80", "--publish", "8081:x");

        Assert.Equal(2, portOnly.Exit);
        Assert.Equal("error: --publish #1 '80' is not valid; use [IP:]HOSTPORT:PORT[/udp], for example 8080:80 or 127.0.0.1:8080:80", portOnly.Err.TrimEnd());
        Assert.Contains("--publish #2 '8081:x': 'x' is not a port in 1-65535", second.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NetworkNone_RecordedInConfig()
    {
        Assert.Equal(0, Run("create", "--name", "web", "--network", "none").Exit);

        using var doc = JsonDocument.Parse(Run("inspect", "web").Out);
        Assert.Equal("none", doc.RootElement.GetProperty("config").GetProperty("network").GetString());
    }

    [Theory]
    [InlineData("create", "--cpus", "x")]
    [InlineData("run", "--cpus", "two", "--", "true")]
    [InlineData("stop", "-t", "ten", "web")]
    [InlineData("vsock-device", "--guest-cid", "three", "--socket", "/tmp/v", "--uds", "/tmp/u")]
    [InlineData("vsock-device", "--allow-port", "http", "--guest-cid", "3", "--socket", "/tmp/v", "--uds", "/tmp/u")]
    public void NumberOption_NotANumber_NamesFlagAndValueNotDotNetType(params string[] args)
    {
        var (exit, _, stderr) = Run(args);

        Assert.Equal(2, exit);
        Assert.Contains($"{args[1]} '{args[2]}' is not a whole number", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("4294967295")]
    public void VsockDevice_GuestCidOutOfRange_NamesTheFlagBeforeStarting(string cid)
    {
        var socket = Path.Combine(Root.Path, "vh.sock");

        var (exit, _, stderr) = Run("vsock-device", "--guest-cid", cid, "--socket", socket, "--uds", Path.Combine(Root.Path, "v.sock"));

        Assert.Equal(2, exit);
        Assert.Contains($"--guest-cid {cid} is reserved or out of range; use 3 .. 4294967294", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public void VsockDevice_SameSocketTwice_NamesBothFlagsBeforeStarting()
    {
        var socket = Path.Combine(Root.Path, "v.sock");

        var (exit, _, stderr) = Run("vsock-device", "--guest-cid", "3", "--socket", socket, "--uds", socket);

        Assert.Equal(2, exit);
        Assert.Contains($"--uds must differ from --socket ('{socket}' is both)", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(socket));
    }

    [Fact]
    public void Create_DuplicateName_ExitsAlreadyExists()
    {
        Run("create", "--name", "web");

        var (exit, _, stderr) = Run("create", "--name", "web");

        Assert.Equal(4, exit);
        Assert.Contains("already exists", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_FromFile_NameFlagOverridesFile()
    {
        var file = Path.Combine(Root.Path, "box.yaml");
        File.WriteAllText(file, "name: fromfile\ncpus: 1\nmemory: 256M\n");

        Assert.Equal(0, Run("create", "-f", file, "--name", "override").Exit);

        Assert.Contains("\"memory_mib\": 256", Run("inspect", "override").Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_FileWithConfigFlags_RefusedNamingThem()
    {
        var file = Path.Combine(Root.Path, "box.yaml");
        File.WriteAllText(file, "name: web\n");

        var (exit, _, stderr) = Run("create", "-f", file, "--cpus", "2", "-e", "A=1");

        Assert.Equal(2, exit);
        Assert.Contains("--cpus, --env", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_FileUnknownKey_ExitsUsageNamingKey()
    {
        var file = Path.Combine(Root.Path, "box.yaml");
        File.WriteAllText(file, "name: web\nmemroy: 1G\n");

        var (exit, _, stderr) = Run("create", "-f", file);

        Assert.Equal(2, exit);
        Assert.Contains("unknown key 'memroy'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_CorruptBoxFile_ExitsInvalidState()
    {
        Run("create", "--name", "web");
        File.WriteAllText(Path.Combine(Root.Path, "boxes", "web", "box.json"), "{");

        var (exit, _, stderr) = Run("inspect", "web");

        Assert.Equal(5, exit);
        Assert.Contains("box.json", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void LsAndRmForce_OneDamagedBoxFile_OthersListedDamagedOneRemovedAndItsCidFreed()
    {
        Run("create", "--name", "good");
        Run("create", "--name", "torn");
        File.WriteAllText(Path.Combine(Root.Path, "boxes", "torn", "box.json"), "{\"name\": \"to");

        var ls = Run("ls");
        var rm = Run("rm", "-f", "torn");

        Assert.Equal(0, ls.Exit);
        Assert.Matches(@"(?m)^good\s+created\s", ls.Out);
        Assert.Matches(@"(?m)^torn\s+damaged\s", ls.Out);
        Assert.Contains("cocoon rm -f torn", ls.Err, StringComparison.Ordinal);
        Assert.True(rm.Exit == 0, rm.Err);
        Assert.False(Directory.Exists(Path.Combine(Root.Path, "boxes", "torn")));
        Assert.Equal(new uint[] { 3 }, new CidAllocator(new CocoonPaths(Root.Path)).Snapshot().Keys.ToArray());
    }

    [Theory]
    [InlineData(new[] { "logs", "--tail", "2", "web" }, "four\nfive\n")]
    [InlineData(new[] { "logs", "-n", "0", "web" }, "")]
    [InlineData(new[] { "logs", "--tail", "all", "web" }, "one\ntwo\nthree\nfour\nfive\n")]
    [InlineData(new[] { "logs", "-f", "--tail", "1", "web" }, "five\n")]
    public void Logs_TailAndFollowOfAStoppedBox_PrintTheLastLinesAndReturn(string[] args, string expected)
    {
        Run("create", "--name", "web");
        File.WriteAllText(Path.Combine(Root.Path, "boxes", "web", "box.log"), "one\ntwo\nthree\nfour\nfive\n");

        var (exit, stdout, stderr) = Run(args);

        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, stdout);
    }

    [Theory]
    [InlineData(new[] { "logs", "web" }, "the command said hi\n")]
    [InlineData(new[] { "logs", "--console", "web" }, "kernel: booted\n")]
    [InlineData(new[] { "logs", "--console", "--tail", "1", "-f", "web" }, "kernel: booted\n")]
    public void Logs_BoxLogByDefault_ConsoleWithFlag(string[] args, string expected)
    {
        Run("create", "--name", "web");
        File.WriteAllText(Path.Combine(Root.Path, "boxes", "web", "box.log"), "the command said hi\n");
        File.WriteAllText(Path.Combine(Root.Path, "boxes", "web", "console.log"), "kernel: booted\n");

        var (exit, stdout, stderr) = Run(args);

        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, stdout);
    }

    [Fact]
    public void Help_Root_MatchesApprovedText()
    {
        var approved = Path.Combine(RepoLayout.Root, "tests", "Cocoon.Tests", "Cli", "Approvals", "RootHelp.approved.txt");

        var (exit, stdout, _) = Run("--help");

        Assert.Equal(0, exit);
        Assert.True(File.Exists(approved), $"missing {approved}; received:\n{stdout}");
        Assert.Equal(File.ReadAllText(approved).ReplaceLineEndings(), stdout.ReplaceLineEndings());
    }

    [Theory]
    [InlineData("create")]
    [InlineData("ls")]
    [InlineData("inspect")]
    [InlineData("rm")]
    [InlineData("start")]
    [InlineData("stop")]
    [InlineData("exec")]
    [InlineData("run")]
    [InlineData("logs")]
    public void Help_EveryCommand_PrintsUsage(string command)
    {
        var (exit, stdout, stderr) = Run(command, "--help");
        Assert.True(exit == 0, stderr);

        Assert.Equal(0, exit);
        Assert.Contains($"cocoon {command}", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Exec_BoxWithoutCommand_UsageErrorNamingWhatIsMissing()
    {
        var (exit, _, stderr) = Run("exec", "web");

        Assert.Equal(2, exit);
        Assert.Contains("exec needs a command to run in box 'web': cocoon exec [OPTIONS] BOX COMMAND [ARG...]", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_CreateAndRm_UsesCocoonHome()
    {
        var env = new Dictionary<string, string> { ["COCOON_HOME"] = Root.Path };

        var create = await ProcessRunner.RunAsync(RepoLayout.CliExecutable, ["create", "--name", "bin"], TimeSpan.FromSeconds(60), env);
        var missing = await ProcessRunner.RunAsync(RepoLayout.CliExecutable, ["inspect", "nope"], TimeSpan.FromSeconds(60), env);
        var rm = await ProcessRunner.RunAsync(RepoLayout.CliExecutable, ["rm", "bin"], TimeSpan.FromSeconds(60), env);

        Assert.Equal(0, create.ExitCode);
        Assert.Equal(3, missing.ExitCode);
        Assert.Equal("error: no box named 'nope'; list boxes with 'cocoon ls'\n", missing.Stderr);
        Assert.Equal(0, rm.ExitCode);
    }

    [Fact]
    public async Task Binary_OnATerminal_LeavesTheKeypadAlone()
    {
        // script(1) runs the commands on a pseudo-terminal of 40x100. .NET's console would write
        // keypad_xmit (ESC [?1h ESC =) there on its first output and never undo it.
        var env = new Dictionary<string, string> { ["COCOON_HOME"] = Root.Path };
        var cli = RepoLayout.CliExecutable;
        var commands = $"stty rows 40 cols 100; '{cli}' --version; '{cli}' run --help; echo pw | '{cli}' login -u u --password-stdin 127.0.0.1:1 2>/dev/null; echo login-exit=$?; '{cli}' ls";

        var result = await ProcessRunner.RunAsync("script", ["-q", "-e", "-c", commands, "/dev/null"], TimeSpan.FromSeconds(60), env);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("\u001b[?1h", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b=", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Description:", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("login-exit=9", result.Stdout, StringComparison.Ordinal); // read the password, found no registry
        Assert.Matches(@"(?m)^NAME\s+STATE\s+CID", result.Stdout);
        Assert.All(result.Stdout.Split('\n'), line => Assert.True(line.TrimEnd('\r').Length <= 100, $"help wider than the terminal: '{line}'"));
    }

    [Fact]
    public async Task Binary_VsockDeviceOnATerminal_LogsPlainTimestampedLines()
    {
        // The device's log used .NET's console logger: colours, and keypad_xmit on the terminal.
        // script(1)'s shell execs the device, so the device is script's child and owns the terminal.
        var commands = $"exec '{RepoLayout.CliExecutable}' vsock-device --socket '{Root.Path}/vh.sock' --uds '{Root.Path}/v.sock' --guest-cid 77";
        using var script = ProcessRunner.Start("script", ["-q", "-e", "-c", commands, "/dev/null"]);
        try
        {
            var output = new StringBuilder();
            string? line;
            do
            {
                line = await script.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.True(line is not null, $"the device ended before it served: '{output}'");
                output.Append(line).Append('\n');
            }
            while (!line.Contains(" vsock device listening on ", StringComparison.Ordinal));

            // Ctrl-C, sent to the device itself once it serves.
            var device = ProcessRunner.ChildrenOf(script.Id).Single();
            await ProcessRunner.RunAsync("kill", ["-INT", device.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(60));
            await ProcessRunner.WaitForExitAsync(script, TimeSpan.FromSeconds(60));
            output.Append(await script.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60)));

            Assert.Equal(0, script.ExitCode);
            var log = output.ToString();
            Assert.DoesNotContain("\u001b", log, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: Cocoon\.Vsock\.Device\.VsockDevice\[1\] vsock device listening on ", log);
            Assert.Single(Regex.Matches(log, "listening on"));
            Assert.Contains("vsock-device: signal received, stopping", log, StringComparison.Ordinal);
        }
        finally
        {
            if (!script.HasExited)
            {
                script.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Binary_ReaderGoneBeforeOutput_ExitsZeroSayingNothing()
    {
        var env = new Dictionary<string, string> { ["COCOON_HOME"] = Root.Path };
        using var process = ProcessRunner.Start(RepoLayout.CliExecutable, ["--help"], env);

        // The read end closes before the CLI has started: its writes meet EPIPE, as after `| head -1`.
        process.StandardOutput.Dispose();
        var stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, process.ExitCode);
        Assert.Equal(string.Empty, stderr);
    }

    [Fact]
    public async Task Binary_StartedWithSigintIgnored_InterruptStillEndsTheForegroundCommand()
    {
        // A shell without job control starts a background job with SIGINT ignored; `trap '' INT` does
        // the same, and exec keeps it. The precondition, checked through the same shell line:
        const string IgnoreInterrupt = "trap '' INT; exec \"$0\" \"$@\"";
        var status = await ProcessRunner.RunAsync("/bin/sh", ["-c", IgnoreInterrupt, "/bin/grep", "^SigIgn:", "/proc/self/status"], TimeSpan.FromSeconds(60));
        Assert.NotEqual(0L, Convert.ToInt64(status.Stdout.Split(':')[1].Trim(), 16) & (1L << (Interop.SIGINT - 1)));

        var env = new Dictionary<string, string> { ["COCOON_HOME"] = Root.Path };
        using var device = ProcessRunner.Start("/bin/sh", ["-c", IgnoreInterrupt, RepoLayout.CliExecutable,
            "vsock-device", "--socket", Path.Combine(Root.Path, "vu.sock"), "--uds", Path.Combine(Root.Path, "v.sock"), "--guest-cid", "3"], env);
        try
        {
            // Act: once it serves (its signal handling is set up by then), the user's Ctrl-C.
            string? line;
            do
            {
                line = await device.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.NotNull(line);
            }
            while (!line.Contains(" vsock device listening on ", StringComparison.Ordinal));

            await ProcessRunner.RunAsync("kill", ["-INT", device.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(60));
            var rest = await device.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await device.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            // Assert
            Assert.Contains("vsock-device: signal received, stopping", rest, StringComparison.Ordinal);
            Assert.Equal(0, device.ExitCode);
        }
        finally
        {
            if (!device.HasExited)
            {
                device.Kill(entireProcessTree: true);
            }
        }
    }
}
