// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text.RegularExpressions;
using Cocoon.Vsock.Device;

namespace Cocoon.Supervisor;

/// <summary>The ways a box stops, as recorded in <c>box.json</c>'s <c>stop_reason</c>.</summary>
internal enum StopKind
{
    /// <summary>A stop request (<c>cocoon stop</c>, <c>pod.stop</c>) and the guest powered off in time: <c>stopped</c>.</summary>
    Stopped,

    /// <summary>The guest powered off by itself: <c>exit</c>.</summary>
    Exit,

    /// <summary>The supervisor was signalled, or a stop's grace period ran out and QEMU was killed: <c>killed</c>.</summary>
    Killed,

    /// <summary>QEMU ended without a stop request: non-zero exit, a signal, or a guest kernel panic: <c>crash (...)</c>.</summary>
    Crashed,

    /// <summary>The vsock device ended while QEMU ran on, so the supervisor ended QEMU: <c>device ended (...)</c>.</summary>
    DeviceEnded,

    /// <summary>A volume's virtiofsd ended while QEMU ran on, so the supervisor ended QEMU: <c>volume ended (...)</c>.</summary>
    VolumeEnded,

    /// <summary>The box never ran: <c>failed to start: ...</c>.</summary>
    FailedToStart,

    /// <summary>The supervisor was found dead by someone else: <c>supervisor died</c>.</summary>
    SupervisorDied,
}

/// <summary>Why a box stopped: a kind plus, for some kinds, a detail. <see cref="ToString"/> is the recorded text.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Detail">The detail for <see cref="StopKind.Crashed"/>, <see cref="StopKind.DeviceEnded"/>, <see cref="StopKind.VolumeEnded"/> and <see cref="StopKind.FailedToStart"/>.</param>
internal readonly partial record struct StopReason(StopKind Kind, string? Detail = null)
{
    private const int MaxPanicMessage = 200;

    /// <summary>The supervisor's exit code for this reason: 1 when the box never ran, else 0.</summary>
    public int SupervisorExitCode => Kind == StopKind.FailedToStart ? 1 : 0;

    /// <summary>The text recorded in <c>box.json</c> and shown by <c>cocoon inspect</c>.</summary>
    public override string ToString() => Kind switch
    {
        StopKind.Stopped => "stopped",
        StopKind.Exit => "exit",
        StopKind.Killed => "killed",
        StopKind.Crashed => $"crash ({Detail})",
        StopKind.DeviceEnded => $"device ended ({Detail})",
        StopKind.VolumeEnded => $"volume ended ({Detail})",
        StopKind.FailedToStart => $"failed to start: {Detail}",
        StopKind.SupervisorDied => "supervisor died",
        _ => Kind.ToString(),
    };

    /// <summary>
    /// Decides why the box stopped from what the run loop saw. Pure: the order of the checks is the
    /// policy. A start failure wins; then a signal to the supervisor; then a stop request (stopped when
    /// the guest powered off in time, killed when the grace period ran out); then a device that ended
    /// first; then a volume's virtiofsd that ended first; then QEMU's exit status. QEMU exits 0 when the
    /// guest powers off or resets (panic=-1 with -no-reboot turns a kernel panic into a reset), and also
    /// when SIGTERM, SIGINT or SIGHUP ends it, saying so on stderr: that line wins, then a kernel panic
    /// on the console; else the guest powered off by itself.
    /// </summary>
    /// <param name="facts">What happened.</param>
    /// <returns>The reason to record.</returns>
    public static StopReason Classify(StopFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.StartFailure is { } failure)
        {
            return new(StopKind.FailedToStart, failure);
        }

        if (facts.Signalled)
        {
            return new(StopKind.Killed);
        }

        if (facts.StopRequested)
        {
            return facts.StopForced ? new(StopKind.Killed) : new(StopKind.Stopped);
        }

        if (facts.DeviceEnded is { } device)
        {
            return new(StopKind.DeviceEnded, device.Detail is { Length: > 0 } detail ? $"{device.Reason}: {detail}" : device.Reason.ToString());
        }

        if (facts.VolumeEnded is { } volume)
        {
            return new(StopKind.VolumeEnded, volume);
        }

        var code = facts.QemuExitCode;
        if (code == 0 && QemuTerminatingSignal().Matches(facts.QemuOutput) is { Count: > 0 } terminated)
        {
            return new(StopKind.Crashed, "qemu killed by signal " + terminated[^1].Groups["signal"].Value);
        }

        if (code == 0 && PanicMessage(facts.GuestConsole) is { } panic)
        {
            return new(StopKind.Crashed, "kernel panic: " + panic);
        }

        return code switch
        {
            0 => new(StopKind.Exit),
            > 128 => new(StopKind.Crashed, string.Create(CultureInfo.InvariantCulture, $"qemu killed by signal {code - 128}")),
            _ => new(StopKind.Crashed, string.Create(CultureInfo.InvariantCulture, $"qemu exit code {code}: {LastLine(facts.QemuOutput)}")),
        };
    }

    /// <summary>
    /// The message of the last kernel panic line in <paramref name="console"/>, made printable and
    /// bounded (the console is the guest's to write); null when there is none.
    /// </summary>
    private static string? PanicMessage(string console)
    {
        var at = console.LastIndexOf(BoxProcesses.KernelPanic, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var rest = console[(at + BoxProcesses.KernelPanic.Length)..].TrimStart(':', ' ');
        var end = rest.IndexOfAny(['\r', '\n']);
        var message = new string([.. (end < 0 ? rest : rest[..end]).Trim().Take(MaxPanicMessage).Select(c => char.IsControl(c) ? '?' : c)]);
        return message.Length == 0 ? "no message" : message;
    }

    private static string LastLine(string text)
    {
        var trimmed = text.Trim();
        return trimmed.Length == 0 ? "no output" : trimmed[(trimmed.LastIndexOf('\n') + 1)..].Trim();
    }

    // QEMU's report when a signal ends it (system/runstate.c, qemu_kill_report): "terminating on signal
    // N from pid P (comm)", or "terminated by signal N" when no sender is known.
    [GeneratedRegex(@": (?:terminating on|terminated by) signal (?<signal>[0-9]+)", RegexOptions.CultureInvariant)]
    private static partial Regex QemuTerminatingSignal();
}

/// <summary>What the supervisor's run loop saw when the box ended; the input of <see cref="StopReason.Classify"/>.</summary>
internal sealed record StopFacts
{
    /// <summary>The message of the failure that kept the box from running, else null.</summary>
    public string? StartFailure { get; init; }

    /// <summary>The supervisor got SIGTERM or SIGINT.</summary>
    public bool Signalled { get; init; }

    /// <summary>A stop was requested (<c>pod.stop</c>).</summary>
    public bool StopRequested { get; init; }

    /// <summary>The stop's grace period ran out and the supervisor killed QEMU.</summary>
    public bool StopForced { get; init; }

    /// <summary>The vsock device ended while QEMU kept running, and the supervisor killed QEMU.</summary>
    public VsockDeviceExit? DeviceEnded { get; init; }

    /// <summary>A volume's virtiofsd ended while QEMU kept running (which one, how), and the supervisor killed QEMU.</summary>
    public string? VolumeEnded { get; init; }

    /// <summary>QEMU's exit code (128 + n when signal n ended it).</summary>
    public int QemuExitCode { get; init; }

    /// <summary>The tail of QEMU's own output (its last line explains a failure).</summary>
    public string QemuOutput { get; init; } = "";

    /// <summary>The end of the guest's console when QEMU exited 0 (a kernel panic says why there); written by the guest, so untrusted.</summary>
    public string GuestConsole { get; init; } = "";
}
