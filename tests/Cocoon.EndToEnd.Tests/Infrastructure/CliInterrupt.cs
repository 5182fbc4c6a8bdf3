// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Infrastructure;

/// <summary>Ctrl-C for a foreground <c>cocoon</c> command a test started, and what to read when it does not end.</summary>
internal static class CliInterrupt
{
    /// <summary>
    /// Sends SIGINT to <paramref name="cli"/> (unless it already exited) and waits for it to exit. When it
    /// does not within <paramref name="timeout"/>, the failure carries its signal masks and each thread's
    /// state and wait channel, then the process is killed so nothing outlives the test.
    /// </summary>
    public static async Task InterruptAndWaitAsync(Process cli, TimeSpan timeout)
    {
        var pid = cli.Id.ToString(CultureInfo.InvariantCulture);
        if (!cli.HasExited)
        {
            await ProcessRunner.RunAsync("kill", ["-INT", pid], timeout);
        }

        try
        {
            await cli.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException ex)
        {
            var state = Describe(pid);
            cli.Kill(entireProcessTree: true);
            throw new TimeoutException($"cocoon (pid {pid}) did not exit within {timeout.TotalSeconds:0} s of SIGINT.\n{state}", ex);
        }
    }

    private static string Describe(string pid)
    {
        var text = new StringBuilder();
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("Sig", StringComparison.Ordinal) || l.StartsWith("State", StringComparison.Ordinal)))
            {
                text.AppendLine(line);
            }

            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var state = ProcessRunner.ReadStat(int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture))?.State.ToString() ?? "(gone)";
                text.AppendLine(CultureInfo.InvariantCulture, $"thread {Path.GetFileName(task)} '{File.ReadAllText(Path.Combine(task, "comm")).Trim()}' {state} {File.ReadAllText(Path.Combine(task, "wchan"))}");
            }
        }
        catch (IOException ex)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"(its /proc entry could not be read: {ex.Message})");
        }

        return text.ToString();
    }
}
