// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cocoon.State;

namespace Cocoon.Supervisor;

/// <summary>Finds, starts and stops a box's supervisor process.</summary>
internal static class BoxProcesses
{
    /// <summary>The hidden command that runs a box's supervisor.</summary>
    public const string SuperviseCommand = "supervise";

    /// <summary>What a kernel panic's first line says (it then prints its stack trace).</summary>
    internal const string KernelPanic = "Kernel panic - not syncing";

    /// <summary>True when <paramref name="pid"/> is a live supervisor of box <paramref name="name"/>.</summary>
    public static bool IsSupervisorAlive(int? pid, string name)
    {
        if (pid is not { } p || p <= 0)
        {
            return false;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{p}/stat");
            var state = stat.LastIndexOf(')') is var close and > 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
            if (state is 'Z' or 'X')
            {
                return false;
            }

            var argv = File.ReadAllText($"/proc/{p}/cmdline").Split('\0');
            return argv.Contains(SuperviseCommand, StringComparer.Ordinal) && argv.Contains(name, StringComparer.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="pid"/> exists and is not a zombie (for a pid this process just started).</summary>
    public static bool IsProcessAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>True when <paramref name="pid"/> exists and runs QEMU.</summary>
    public static bool IsQemuAlive(int? pid)
    {
        if (pid is not { } p || p <= 0)
        {
            return false;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{p}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] is not ('Z' or 'X')
                && File.ReadAllText($"/proc/{p}/cmdline").Contains("qemu-system", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts <c>cocoon supervise NAME</c> in a new session, detached, its output appended to
    /// supervisor.log, and returns its pid.
    /// </summary>
    public static int SpawnSupervisor(string cocoonPath, CocoonPaths paths, string name)
    {
        // sh starts setsid in the background (no job control, so it is not a group leader and
        // setsid execs in place: $! is the supervisor's pid) and exits; init adopts the supervisor.
        var result = HostTool.Run(
            "/bin/sh",
            ["-c", "umask 077; setsid \"$0\" " + SuperviseCommand + " \"$1\" </dev/null >>\"$2\" 2>&1 & echo $!", cocoonPath, name, paths.SupervisorLog(name)],
            "the supervisor is started through /bin/sh",
            new Dictionary<string, string> { [CocoonPaths.HomeVariable] = paths.Root });
        if (result.ExitCode != 0 || !int.TryParse(result.Stdout.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            throw new CocoonException(CocoonErrorCode.Unavailable, $"cannot start the supervisor of box '{name}' ({cocoonPath}): {result.Stderr.Trim()}");
        }

        return pid;
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>; returns when the supervisor is gone.</summary>
    public static async Task TerminateAsync(int? pid, string name, TimeSpan grace, CancellationToken cancellationToken, bool trustPid = false)
    {
        if (!(trustPid && pid is { } known ? IsProcessAlive(known) : IsSupervisorAlive(pid, name)))
        {
            return;
        }

        _ = Interop.SendSignal(pid!.Value, Interop.SIGTERM);
        if (await WaitForExitAsync(pid, name, grace, cancellationToken, trustPid).ConfigureAwait(false))
        {
            return;
        }

        _ = Interop.SendSignal(pid.Value, Interop.SIGKILL);
        await WaitForExitAsync(pid, name, TimeSpan.FromSeconds(5), cancellationToken, trustPid).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the supervisor is gone; false on timeout. It looks again after 1 ms, then twice as
    /// long each time up to 50 ms: a supervisor that has answered a stop exits within milliseconds,
    /// and every <c>cocoon run --rm</c> and <c>stop</c> waits here.
    /// </summary>
    public static async Task<bool> WaitForExitAsync(int? pid, string name, TimeSpan timeout, CancellationToken cancellationToken, bool trustPid = false)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var pause = 1;
        while (trustPid && pid is { } known ? IsProcessAlive(known) : IsSupervisorAlive(pid, name))
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }

            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            pause = Math.Min(pause * 2, 50);
        }

        return true;
    }

    /// <summary>
    /// The last <paramref name="bytes"/> bytes of the console log at <paramref name="path"/> (all of a
    /// shorter one), as UTF-8; empty when it cannot be read.
    /// </summary>
    public static string ConsoleEnd(string path, int bytes)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Max(0, stream.Length - bytes), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>
    /// The last <paramref name="lines"/> lines of the box's console log. A kernel panic's own line
    /// (<c>Kernel panic - not syncing: ...</c>), which its stack trace pushes out of the tail, comes first
    /// when it is not among them: it says why the guest died.
    /// </summary>
    public static string ConsoleTail(CocoonPaths paths, string name, int lines = 20)
    {
        try
        {
            using var stream = new FileStream(paths.ConsoleLog(name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var all = reader.ReadToEnd().Replace("\r", "", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
            var start = Math.Max(0, all.Length - lines);
            var panic = Array.FindLastIndex(all, line => line.Contains(KernelPanic, StringComparison.Ordinal));
            var tail = string.Join('\n', all.Skip(start));
            return panic >= 0 && panic < start ? $"{all[panic]}\n...\n{tail}" : tail;
        }
        catch (IOException)
        {
            return "(no console output)";
        }
    }
}
