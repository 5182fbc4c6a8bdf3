// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Cocoon.Bench;

/// <summary>What the VM benchmarks share: the published CLI, a temp COCOON_HOME, timed child processes, cleanup.</summary>
internal static class BenchSupport
{
    /// <summary>The repository root (the directory holding Cocoon.slnx).</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cocoon.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (Cocoon.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>The published NativeAOT CLI (./scripts/setup), or COCOON_BENCH_CLI.</summary>
    public static string CocoonCli()
    {
        var path = Environment.GetEnvironmentVariable("COCOON_BENCH_CLI") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRoot(), "artifacts", "cocoon", "cocoon");
        return File.Exists(path) ? path : throw new InvalidOperationException($"no cocoon CLI at {path}; run ./scripts/setup first");
    }

    /// <summary>Kills a helper process still running (a forwarder) and disposes it; null is nothing to do.</summary>
    public static void KillAndDispose(Process? process)
    {
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill();
        }

        process.Dispose();
    }

    /// <summary>A fresh, short temp directory to use as COCOON_HOME (socket paths must stay under 108 bytes).</summary>
    public static string CreateHome() => Directory.CreateTempSubdirectory("cb-").FullName;

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/>, stdout/stderr redirected, COCOON_HOME and <paramref name="environment"/> set.</summary>
    public static Process Start(string file, IEnumerable<string> args, string? home, bool keepStdin = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        if (home is not null)
        {
            info.Environment["COCOON_HOME"] = home;
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null");
        if (!keepStdin)
        {
            process.StandardInput.Close();
        }

        return process;
    }

    /// <summary>
    /// Runs a command to completion, with <paramref name="stdin"/> as its input when given; returns
    /// wall milliseconds, exit code and output. Throws on timeout.
    /// </summary>
    public static async Task<(double Ms, int Code, string Stdout, string Stderr)> RunAsync(
        string file, IEnumerable<string> args, string? home, TimeSpan timeout, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null, string? stdin = null)
    {
        var start = Stopwatch.GetTimestamp();
        using var process = Start(file, args, home, keepStdin: stdin is not null, environment);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin.AsMemory(), cancellationToken);
            process.StandardInput.Close();
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s");
        }

        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return (ms, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a command and throws unless it exits 0.</summary>
    public static async Task<(double Ms, string Stdout)> RunCheckedAsync(
        string file, IEnumerable<string> args, string? home, TimeSpan timeout, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (ms, code, stdout, stderr) = await RunAsync(file, args, home, timeout, cancellationToken, environment);
        return code == 0 ? (ms, stdout) : throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited {code}: {stderr.Trim()} {stdout.Trim()}");
    }

    /// <summary>
    /// Removes box <paramref name="name"/> (<c>cocoon rm -f</c>), then <see cref="CleanUpHome"/> whatever
    /// the removal did: a failed <c>rm</c> (the CLI gone, a timeout) is reported, and what it left
    /// running is still killed.
    /// </summary>
    public static async Task RemoveBoxAndCleanUpAsync(string cli, string name, string home, TextWriter output)
    {
        try
        {
            await RunAsync(cli, ["rm", "-f", name], home, TimeSpan.FromSeconds(60), CancellationToken.None);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException)
        {
            output.WriteLine($"cleanup: cocoon rm -f {name} failed: {e.Message}");
        }

        CleanUpHome(home, output);
    }

    /// <summary>
    /// Kills every process (but this one) whose command line or environment names <paramref name="home"/>
    /// (supervisors carry COCOON_HOME, QEMU names its console log under it), then deletes the directory.
    /// </summary>
    public static void CleanUpHome(string home, TextWriter output)
    {
        foreach (var pid in ProcessesUsing(home))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(5000);
                output.WriteLine($"cleanup: killed leftover process {pid}");
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }

        try
        {
            Directory.Delete(home, recursive: true);
        }
        catch (IOException e)
        {
            output.WriteLine($"cleanup: could not delete {home}: {e.Message}");
        }
    }

    /// <summary>Pids whose cmdline or environ mention <paramref name="text"/>.</summary>
    public static List<int> ProcessesUsing(string text)
    {
        var found = new List<int>();
        var needle = Encoding.UTF8.GetBytes(text);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                if (File.ReadAllBytes(Path.Combine(directory, "cmdline")).AsSpan().IndexOf(needle) >= 0
                    || File.ReadAllBytes(Path.Combine(directory, "environ")).AsSpan().IndexOf(needle) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>"median M ms (min A, max B, n N)".</summary>
    public static string Describe(IReadOnlyCollection<double> values, string unit = "ms") =>
        $"median {Report.Number(Report.Median(values))}{unit} (min {Report.Number(values.Min())}, max {Report.Number(values.Max())}, n {values.Count})";
}
