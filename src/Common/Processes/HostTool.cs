// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.ComponentModel;
using System.Diagnostics;

namespace Cocoon;

/// <summary>What a finished host tool printed and how it ended.</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="Stdout">Everything it wrote to standard output.</param>
/// <param name="Stderr">Everything it wrote to standard error.</param>
internal readonly record struct HostToolResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Both streams, standard error first, trimmed: the text a failure message quotes.</summary>
    public string Output => (Stderr + Stdout).Trim();
}

/// <summary>
/// The one way host code runs a short-lived host tool (mke2fs, ldd, busybox, sh) and waits for it:
/// no shell unless asked for, stdin closed, both output streams read to the end concurrently (a
/// tool filling one pipe while we read the other would deadlock), a tool that cannot start reported
/// as <see cref="CocoonErrorCode.Unavailable"/> with how to install it, a tool that overruns its
/// deadline killed and reported as <see cref="CocoonErrorCode.Timeout"/>. Long-lived children
/// (QEMU, virtiofsd) have their own owners.
/// </summary>
internal static class HostTool
{
    /// <summary>Runs <paramref name="program"/> to completion.</summary>
    /// <param name="program">The tool: an absolute path or a name looked up on PATH.</param>
    /// <param name="arguments">Its arguments, passed as they are (no shell quoting).</param>
    /// <param name="installHint">What to do when it cannot start, e.g. <c>install e2fsprogs</c>.</param>
    /// <param name="environment">Variables to set for it, on top of ours.</param>
    /// <param name="timeout">How long it may run; unbounded when null.</param>
    /// <returns>Its exit code and output; a non-zero exit is the caller's to judge.</returns>
    public static HostToolResult Run(
        string program,
        IEnumerable<string> arguments,
        string installHint,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null.");
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            throw new CocoonException(CocoonErrorCode.Unavailable, $"cannot run '{program}' ({ex.Message}); {installHint}", ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var started = Stopwatch.GetTimestamp();
            if (!process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new CocoonException(
                    CocoonErrorCode.Timeout,
                    $"'{program} {string.Join(' ', start.ArgumentList)}' did not finish within {timeout!.Value.TotalSeconds:0.#} s");
            }

            // The deadline covers the output too: a process the tool left running (no longer in its tree,
            // so not killable as part of it) holds the pipes open for as long as it lives.
            var left = timeout is { } limit ? TimeSpan.FromTicks(Math.Max(0, (limit - Stopwatch.GetElapsedTime(started)).Ticks)) : Timeout.InfiniteTimeSpan;
            if (!Task.WaitAll([stdout, stderr], left))
            {
                throw new CocoonException(
                    CocoonErrorCode.Timeout,
                    $"'{program} {string.Join(' ', start.ArgumentList)}' exited, but a process it left running kept its output open past the {timeout!.Value.TotalSeconds:0.#} s deadline");
            }

            return new(process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
