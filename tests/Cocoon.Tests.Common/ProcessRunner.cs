// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;

namespace Cocoon.Tests.Common;

/// <summary>What a finished child process left.</summary>
/// <param name="ExitCode">Its exit status.</param>
/// <param name="Stdout">Everything it wrote to stdout.</param>
/// <param name="Stderr">Everything it wrote to stderr.</param>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Starts child processes with a given environment and collects their output.</summary>
public static class ProcessRunner
{
    /// <summary>Starts <paramref name="fileName"/> with output redirected.</summary>
    public static Process Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return Process.Start(info) ?? throw new InvalidOperationException($"could not start '{fileName}'");
    }

    /// <summary>
    /// Runs a process to completion (killing it after <paramref name="timeout"/>), writing
    /// <paramref name="stdin"/> to it and then closing its stdin when given.
    /// </summary>
    public static async Task<ProcessResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null,
        string? stdin = null)
    {
        using var process = Start(fileName, arguments, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin).WaitAsync(timeout);
            process.StandardInput.Close();
        }

        await WaitForExitAsync(process, timeout);
        return new ProcessResult(process.ExitCode, await stdout.WaitAsync(timeout), await stderr.WaitAsync(timeout));
    }

    /// <summary>
    /// Waits for <paramref name="process"/> to exit; after <paramref name="timeout"/>, kills its tree
    /// and throws a <see cref="TimeoutException"/> that says what each process of the tree was doing.
    /// </summary>
    public static async Task WaitForExitAsync(Process process, TimeSpan timeout)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            var tree = DescribeTree(process.Id);
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{process.StartInfo.FileName}' (pid {process.Id}) did not exit within {timeout.TotalSeconds}s; its processes then:\n{tree}");
        }
    }

    /// <summary>The pids of the live children of <paramref name="pid"/> (from <c>/proc/*/stat</c>).</summary>
    public static IReadOnlyList<int> ChildrenOf(int pid) =>
        [.. ReadProcesses().Where(p => p.ParentPid == pid).Select(p => p.Pid)];

    // One line per process of the tree: pid, state (R, S, D, T, Z), what it waits in, its command line.
    private static string DescribeTree(int root)
    {
        var all = ReadProcesses();
        var lines = new List<string>();
        var pending = new Queue<int>([root]);
        while (pending.TryDequeue(out var pid))
        {
            var process = all.FirstOrDefault(p => p.Pid == pid);
            if (process is null)
            {
                lines.Add($"  {pid} gone (exited and reaped)");
                continue;
            }

            lines.Add($"  {pid} {process.State} wchan={ReadOrEmpty($"/proc/{pid}/wchan")} {ReadOrEmpty($"/proc/{pid}/cmdline").Replace('\0', ' ').TrimEnd()}");
            foreach (var child in all.Where(p => p.ParentPid == pid))
            {
                pending.Enqueue(child.Pid);
            }
        }

        return string.Join('\n', lines);
    }

    /// <summary>
    /// The state letter (R, S, D, T, Z...) and parent of process <paramref name="pid"/>, from
    /// <c>/proc/PID/stat</c>; null once it is gone.
    /// </summary>
    public static (char State, int ParentPid)? ReadStat(int pid)
    {
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
        var stat = ReadOrEmpty($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 1 && fields[0].Length == 1 && int.TryParse(fields[1], out var parent) ? (fields[0][0], parent) : null;
    }

    private static List<ProcStat> ReadProcesses()
    {
        var processes = new List<ProcStat>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ReadStat(pid) is var (state, parent))
            {
                processes.Add(new ProcStat(pid, parent, state));
            }
        }

        return processes;
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty; // the process exited meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private sealed record ProcStat(int Pid, int ParentPid, char State);
}
