// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using System.Text;
using Cocoon.Agent.Tests.Infrastructure;
using Cocoon.Tests.Common;

namespace Cocoon.Agent.Tests;

public sealed class ProcessServiceTests(AgentProcessFixture fixture) : IClassFixture<AgentProcessFixture>
{
    private readonly IGuestAgent _agent = fixture.Agent;

    [Fact]
    public async Task Exec_Echo_ReturnsStdoutAndZero()
    {
        var (exit, stdout, stderr) = await _agent.RunAsync("echo", "hello", "world");

        Assert.Equal(new ExecExit(0, null), exit);
        Assert.Equal("hello world\n", stdout);
        Assert.Equal(string.Empty, stderr);
    }

    [Fact]
    public async Task Exec_ClientLeavesWhileOutputIsPending_AgentClosesItsDescriptors()
    {
        var baseline = OpenDescriptors();

        for (var i = 0; i < 3; i++)
        {
            // `yes` fills the output queue at once; nobody reads it, then the client goes away.
            var session = await _agent.ExecAsync(new ExecRequest(["yes"])).WaitAsync(TimeSpan.FromSeconds(30));
            await session.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (OpenDescriptors() > baseline && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(baseline, OpenDescriptors());
    }

    [Fact]
    public async Task Exec_ClientGoesAway_ChildrenOfTheCommandAreKilledToo()
    {
        // `sh -c` starts a background child and reports its pid; then the client leaves.
        var session = await _agent.ExecAsync(new ExecRequest(["sh", "-c", "sleep 300 & echo $!; wait"])).WaitAsync(TimeSpan.FromSeconds(30));
        using var reader = new StreamReader(session.Stdout);
        var child = int.Parse(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) ?? "", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(IsAlive(child));

        await session.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        await WaitForAsync(() => !IsAlive(child));
    }

    [Fact]
    public async Task Dispose_MoreUnreadOutputThanThePipeHolds_Completes()
    {
        var session = await _agent.ExecAsync(new ExecRequest(["yes"])).WaitAsync(TimeSpan.FromSeconds(30));
        var stdout = new byte[1];
        await session.Stdout.ReadExactlyAsync(stdout).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        // Precondition: more than the session's 1 MiB output pipe has left `yes`, and `yes` has
        // stopped writing because every buffer between it and the unread pipe is full.
        var written = await WaitUntilBlockedAsync(session.Pid);
        await session.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(written > 1024 * 1024, $"yes wrote only {written} bytes before it stopped");
        Assert.Equal((byte)'y', stdout[0]);
    }

    /// <summary>
    /// Waits until process <paramref name="pid"/> (the agent runs on this host, so its children do
    /// too) has written more than 1 MiB and then nothing more for 500 ms; returns the bytes written.
    /// </summary>
    private static async Task<long> WaitUntilBlockedAsync(int pid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long last = -1;
        var unchanged = 0;
        while (DateTime.UtcNow < deadline)
        {
            var written = File.ReadLines($"/proc/{pid}/io").Where(l => l.StartsWith("wchar:", StringComparison.Ordinal))
                .Select(l => long.Parse(l["wchar:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture)).Single();
            unchanged = written == last ? unchanged + 1 : 0;
            if (written > 1024 * 1024 && unchanged >= 10)
            {
                return written;
            }

            last = written;
            await Task.Delay(50);
        }

        throw new TimeoutException($"yes (pid {pid}) did not fill its output and stop within 30 s; it wrote {last} bytes");
    }

    [Fact]
    public async Task Exec_ExitCodeAndStderr_AreReported()
    {
        var (exit, stdout, stderr) = await _agent.RunAsync("sh", "-c", "echo out; echo err >&2; exit 42");

        Assert.Equal(42, exit.ExitCode);
        Assert.Null(exit.Signal);
        Assert.Equal("out\n", stdout);
        Assert.Equal("err\n", stderr);
    }

    [Fact]
    public async Task Exec_KilledBySignal_ReportsSignal()
    {
        var (exit, _, _) = await _agent.RunAsync("sh", "-c", "kill -9 $$");

        Assert.Null(exit.ExitCode);
        Assert.Equal(9, exit.Signal);
    }

    [Fact]
    public async Task Exec_SignalFromClient_TerminatesProcess()
    {
        await using var session = await _agent.ExecAsync(new ExecRequest(["sleep", "1000"])).WaitAsync(ExecHelpers.Timeout);

        await session.SignalAsync(15).WaitAsync(ExecHelpers.Timeout);
        var exit = await session.Exit.WaitAsync(ExecHelpers.Timeout);

        Assert.Equal(15, exit.Signal);
        Assert.True(session.Pid > 0);
    }

    [Fact]
    public async Task Exec_TenMiBThroughCat_ComesBackIdentical()
    {
        var data = new byte[10 * 1024 * 1024];
        new Random(42).NextBytes(data);
        await using var session = await _agent.ExecAsync(new ExecRequest(["cat"]) { Stdin = true }).WaitAsync(ExecHelpers.Timeout);

        var read = Task.Run(async () =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long total = 0;
            int n;
            while ((n = await session.Stdout.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                total += n;
            }

            return (total, sha.GetHashAndReset());
        });
        await session.WriteStdinAsync(data).WaitAsync(ExecHelpers.Timeout);
        await session.CloseStdinAsync().WaitAsync(ExecHelpers.Timeout);
        var (total, hash) = await read.WaitAsync(ExecHelpers.Timeout);
        var exit = await session.Exit.WaitAsync(ExecHelpers.Timeout);

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(data.Length, total);
        Assert.Equal(SHA256.HashData(data), hash);
    }

    [Fact]
    public async Task Exec_EnvAndWorkingDir_AreApplied()
    {
        var request = new ExecRequest(["sh", "-c", "echo \"$FOO:$(pwd)\""])
        {
            Environment = new Dictionary<string, string> { ["FOO"] = "bar baz" },
            WorkingDirectory = "/tmp",
        };

        var (exit, stdout, _) = await _agent.RunAsync(request);

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal("bar baz:/tmp\n", stdout);
    }

    [Fact]
    public async Task Exec_NoStdin_ReadsEndOfFile()
    {
        var (exit, stdout, _) = await _agent.RunAsync("sh", "-c", "cat; echo done");

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal("done\n", stdout);
    }

    [Fact]
    public async Task Exec_AsUser_RunsWithThatUid()
    {
        var (exit, stdout, stderr) = await _agent.RunAsync(new ExecRequest(["id", "-u"]) { User = "65534:65534" });

        Assert.True(exit.ExitCode == 0, stderr);
        Assert.Equal("65534\n", stdout);
    }

    [Fact]
    public async Task Exec_Tty_HasPtyWindowSizeAndResize()
    {
        var request = new ExecRequest(["sh", "-c", "tty; stty size; read line; stty size"])
        {
            Tty = true,
            WindowSize = new TerminalSize(33, 111),
        };
        await using var session = await _agent.ExecAsync(request).WaitAsync(ExecHelpers.Timeout);
        var output = new StringBuilder();
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            int n;
            while ((n = await session.Stdout.ReadAsync(buffer)) > 0)
            {
                lock (output)
                {
                    output.Append(Encoding.UTF8.GetString(buffer, 0, n));
                }
            }
        });

        // Wait for the first size before resizing, so the order is deterministic.
        await WaitForAsync(() => { lock (output) { return output.ToString().Contains("33 111", StringComparison.Ordinal); } });
        await session.ResizeAsync(new TerminalSize(50, 132)).WaitAsync(ExecHelpers.Timeout);
        await session.WriteStdinAsync("go\n"u8.ToArray()).WaitAsync(ExecHelpers.Timeout);
        var exit = await session.Exit.WaitAsync(ExecHelpers.Timeout);
        await reader.WaitAsync(ExecHelpers.Timeout);

        var text = output.ToString();
        Assert.Equal(0, exit.ExitCode);
        Assert.Contains("/dev/pts/", text, StringComparison.Ordinal);
        Assert.Contains("33 111", text, StringComparison.Ordinal);
        Assert.Contains("50 132", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_TwentyConcurrent_AllSucceed()
    {
        var runs = Enumerable.Range(0, 20).Select(i => _agent.RunAsync("sh", "-c", $"sleep 0.2; echo {i}"));

        var results = await Task.WhenAll(runs).WaitAsync(ExecHelpers.Timeout);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(0, results[i].Exit.ExitCode);
            Assert.Equal($"{i}\n", results[i].Stdout);
        }
    }

    [Fact]
    public async Task Exec_MissingExecutable_ThrowsNotFoundNamingIt()
    {
        var ex = await Assert.ThrowsAsync<CocoonException>(() => _agent.ExecAsync(new ExecRequest(["no-such-program-xyz"])).WaitAsync(ExecHelpers.Timeout));

        Assert.Equal(CocoonErrorCode.NotFound, ex.Code);
        Assert.Contains("no-such-program-xyz", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_MissingWorkingDir_ThrowsInvalidArgumentNamingIt()
    {
        var request = new ExecRequest(["true"]) { WorkingDirectory = "/no/such/dir" };

        var ex = await Assert.ThrowsAsync<CocoonException>(() => _agent.ExecAsync(request).WaitAsync(ExecHelpers.Timeout));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("/no/such/dir", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_UnknownUser_ThrowsInvalidArgument()
    {
        var ex = await Assert.ThrowsAsync<CocoonException>(() => _agent.ExecAsync(new ExecRequest(["true"]) { User = "no-such-user-xyz" }).WaitAsync(ExecHelpers.Timeout));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("no-such-user-xyz", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_Directory_ThrowsInvalidArgumentNotNotFound()
    {
        var ex = await Assert.ThrowsAsync<CocoonException>(() => _agent.ExecAsync(new ExecRequest(["/tmp"])).WaitAsync(ExecHelpers.Timeout));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("directory", ex.Message, StringComparison.Ordinal);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(ExecHelpers.Timeout);
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private static bool IsAlive(int pid) => ProcessRunner.ReadStat(pid) is { State: not ('Z' or 'X') };

    private int OpenDescriptors() => Directory.GetFileSystemEntries($"/proc/{fixture.AgentPid}/fd").Length;
}
