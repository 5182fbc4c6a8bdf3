// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Tests.Processes;

/// <summary>The one launcher for short host tools (src/Common/Processes/HostTool.cs), against real processes.</summary>
public sealed class HostToolTests
{
    [Fact]
    public void Run_CapturesBothStreamsExitCodeAndEnvironment()
    {
        var result = HostTool.Run(
            "/bin/sh",
            ["-c", "echo \"out $1 $GREETING\"; echo err >&2; exit 3", "sh", "arg with spaces"],
            "install dash",
            new Dictionary<string, string> { ["GREETING"] = "hello" });

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out arg with spaces hello\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal("err\nout arg with spaces hello", result.Output);
    }

    [Fact]
    public void Run_StdinIsClosed_ToolReadingItEnds()
    {
        var result = HostTool.Run("/bin/sh", ["-c", "cat; echo done"], "install dash", timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("done\n", result.Stdout);
    }

    [Fact]
    public void Run_OutputLargerThanAPipe_DoesNotDeadlock()
    {
        // 1 MiB on each stream: reading one to the end before the other would block the tool forever.
        var result = HostTool.Run(
            "/bin/sh",
            ["-c", "head -c 1048576 /dev/zero >&2; head -c 1048576 /dev/zero"],
            "install dash",
            timeout: TimeSpan.FromMinutes(1));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(1 << 20, result.Stdout.Length);
        Assert.Equal(1 << 20, result.Stderr.Length);
    }

    [Fact]
    public void Run_MissingProgram_UnavailableWithInstallHint()
    {
        var error = Assert.Throws<CocoonException>(() => HostTool.Run("/nonexistent/tool", [], "install the-tool"));

        Assert.Equal(CocoonErrorCode.Unavailable, error.Code);
        Assert.Contains("'/nonexistent/tool'", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("install the-tool", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Overrun_KilledAndTimeout()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"cocoon-hosttool-{Guid.NewGuid():N}");
        try
        {
            var error = Assert.Throws<CocoonException>(() => HostTool.Run(
                "/bin/sh",
                ["-c", "echo $$ > \"$0\"; exec sleep 600", pidFile],
                "install dash",
                timeout: TimeSpan.FromSeconds(5)));

            Assert.Equal(CocoonErrorCode.Timeout, error.Code);
            Assert.Contains("did not finish within 5 s", error.Message, StringComparison.Ordinal);
            var pid = File.ReadAllText(pidFile).Trim();
            Assert.False(Directory.Exists($"/proc/{pid}"), $"the overrunning tool (pid {pid}) is still alive");
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public void Run_ExitedButItsChildHoldsTheOutput_TimeoutWithinTheDeadline()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"cocoon-hosttool-{Guid.NewGuid():N}");
        try
        {
            // The tool exits at once; the sleep it leaves behind keeps its stdout and stderr open.
            var error = Assert.Throws<CocoonException>(() => HostTool.Run(
                "/bin/sh",
                ["-c", "sleep 30 & echo $! > \"$0\"; echo started", pidFile],
                "install dash",
                timeout: TimeSpan.FromSeconds(2)));

            Assert.Equal(CocoonErrorCode.Timeout, error.Code);
            Assert.Contains("kept its output open", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                    // Gone already.
                }
            }

            File.Delete(pidFile);
        }
    }
}
