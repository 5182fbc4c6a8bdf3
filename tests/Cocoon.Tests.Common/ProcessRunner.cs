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

        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ProcessResult(process.ExitCode, await stdout.WaitAsync(timeout), await stderr.WaitAsync(timeout));
    }
}
