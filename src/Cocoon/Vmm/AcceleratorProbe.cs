// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Vmm;

/// <summary>The accelerator to use and why.</summary>
internal sealed record AcceleratorChoice(VmAccelerator Accelerator, string Reason);

/// <summary>
/// Decides between KVM and TCG: KVM when a guest really runs under it, else TCG, saying so once.
/// </summary>
/// <remarks>
/// /dev/kvm existing is not enough. On nested hosts QEMU may abort before the guest runs (seen here:
/// <c>-cpu host</c> makes QEMU 7.2 fail "failed to set MSR 0x10a" and abort in about 80 ms) or the
/// guest may hang once it leaves real mode (seen here with that MSR masked off). So the probe:
/// <code>
///  1. COCOON_ACCEL=kvm|tcg            → that, no probe
///  2. /dev/kvm missing or not rw      → TCG (reason says which)
///  3. cached verdict for (qemu binary, kernel, host boot id) → that
///  4. boot the real kernel under -accel kvm -cpu host with no initramfs: it panics
///     ("VFS: Unable to mount root fs") and, with panic=-1 -no-reboot, QEMU exits 0
///     exit 0 + "Kernel panic" on the console within 10 s → KVM (about 0.3 s on a KVM host)
///     non-zero exit or timeout                             → TCG, reason = QEMU's last error line
///     QEMU cannot start                                    → error, no verdict
/// </code>
/// Step 2 runs on every call. The verdict of step 4 is kept per process and, when a cache directory is
/// given, in <c>&lt;cache&gt;/accel-&lt;key&gt;</c> so later processes on the same boot skip the probe.
/// An error is never kept: the next call probes again.
/// </remarks>
internal static class AcceleratorProbe
{
    internal const string OverrideVariable = "COCOON_ACCEL";
    private const string KvmDevice = "/dev/kvm";
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);
    private static readonly ConcurrentDictionary<string, Lazy<Task<AcceleratorChoice>>> Verdicts = new(StringComparer.Ordinal);
    private static int _warned;

    /// <summary>Chooses the accelerator for guests of <paramref name="kernelPath"/> run by <paramref name="qemuPath"/>.</summary>
    /// <exception cref="CocoonException">The probe could not run (QEMU cannot start, say); the next call probes again.</exception>
    public static async Task<AcceleratorChoice> ChooseAsync(string qemuPath, string kernelPath, string? cacheDirectory = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        logger ??= NullLogger.Instance;
        var choice = Override(Environment.GetEnvironmentVariable(OverrideVariable))
            ?? await DecideAsync(qemuPath, kernelPath, cacheDirectory, KvmDevice, cancellationToken).ConfigureAwait(false);

        if (choice.Accelerator == VmAccelerator.Tcg && Interlocked.Exchange(ref _warned, 1) == 0)
        {
            VmmLog.KvmUnusable(logger, choice.Reason);
        }
        else
        {
            VmmLog.AcceleratorChosen(logger, choice.Accelerator, choice.Reason);
        }

        return choice;
    }

    /// <summary>
    /// Whether the TCG fallback of <paramref name="choice"/> is news for the user: not asked for with
    /// COCOON_ACCEL, and not said yet since the host booted (for the state root of
    /// <paramref name="cacheDirectory"/>). The first caller gets true, every later one false.
    /// </summary>
    internal static bool ClaimTcgNotice(AcceleratorChoice choice, string cacheDirectory)
    {
        if (choice.Accelerator != VmAccelerator.Tcg || choice.Reason.StartsWith(OverrideVariable + "=", StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            Directory.CreateDirectory(cacheDirectory);
            using var claimed = new FileStream(Path.Combine(cacheDirectory, "tcg-notice-" + HostBootId()), FileMode.CreateNew, FileAccess.Write);
            return true;
        }
        catch (IOException)
        {
            // Already said (the file exists), or the cache cannot be written: stay quiet either way.
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Parses the COCOON_ACCEL override; null when unset.</summary>
    internal static AcceleratorChoice? Override(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "kvm" => new AcceleratorChoice(VmAccelerator.Kvm, OverrideVariable + "=kvm"),
        "tcg" => new AcceleratorChoice(VmAccelerator.Tcg, OverrideVariable + "=tcg"),
        _ => throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{OverrideVariable}='{value}' is not understood; use 'kvm', 'tcg', or leave it unset to probe."),
    };

    /// <summary>
    /// Steps 2 to 4 of the probe, with <paramref name="kvmDevice"/> standing for /dev/kvm. The device is
    /// checked on every call (it is cheap, and KVM may be loaded or granted while a process runs); only a
    /// verdict of a test boot is kept. A probe that ends in an error is not a verdict: the error goes to
    /// every caller waiting on it, and the next call probes again.
    /// </summary>
    internal static async Task<AcceleratorChoice> DecideAsync(string qemuPath, string kernelPath, string? cacheDirectory, string kvmDevice, CancellationToken cancellationToken)
    {
        if (!File.Exists(kvmDevice))
        {
            return new AcceleratorChoice(VmAccelerator.Tcg, kvmDevice + " does not exist");
        }

        try
        {
            using var kvm = new FileStream(kvmDevice, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return new AcceleratorChoice(VmAccelerator.Tcg, $"cannot open {kvmDevice}: {ex.Message}; add the user to the 'kvm' group");
        }

        var key = $"{ResolveOnPath(qemuPath)}\n{Path.GetFullPath(kernelPath)}";
        var probe = Verdicts.GetOrAdd(key, _ => new Lazy<Task<AcceleratorChoice>>(() => ProbeAsync(qemuPath, kernelPath, cacheDirectory)));
        try
        {
            return await probe.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (probe.Value.IsFaulted)
        {
            // Only this failed probe goes: a caller that came after it may have started the next one.
            Verdicts.TryRemove(KeyValuePair.Create(key, probe));
            throw;
        }
    }

    private static async Task<AcceleratorChoice> ProbeAsync(string qemuPath, string kernelPath, string? cacheDirectory)
    {
        string? cacheFile = null;
        if (cacheDirectory is not null)
        {
            cacheFile = Path.Combine(cacheDirectory, "accel-" + CacheKey(qemuPath, kernelPath));
            if (TryReadVerdict(cacheFile) is { } cached)
            {
                return cached;
            }
        }

        var verdict = await BootProbeAsync(qemuPath, kernelPath).ConfigureAwait(false);
        if (cacheFile is not null)
        {
            WriteVerdict(cacheFile, verdict);
        }

        return verdict;
    }

    private static async Task<AcceleratorChoice> BootProbeAsync(string qemuPath, string kernelPath)
    {
        var console = Path.Combine(Path.GetTempPath(), $"cocoon-kvm-probe-{Environment.ProcessId}-{Guid.NewGuid():N}.log");
        string[] arguments =
        [
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-machine", "microvm,acpi=on", "-accel", "kvm", "-cpu", "host", "-m", "128",
            "-kernel", kernelPath, "-append", "console=ttyS0 panic=-1 loglevel=1",
            "-serial", "file:" + QemuCommandLine.EscapeOptionValue(console),
        ];
        try
        {
            HostToolResult result;
            try
            {
                result = await Task.Run(() => HostTool.Run(qemuPath, arguments, "install it with 'apt-get install qemu-system-x86' or name the binary", timeout: ProbeTimeout)).ConfigureAwait(false);
            }
            catch (CocoonException e) when (e.Code == CocoonErrorCode.Timeout)
            {
                return new AcceleratorChoice(VmAccelerator.Tcg, $"a test guest did not finish booting under KVM within {ProbeTimeout.TotalSeconds:0} s");
            }

            var log = File.Exists(console) ? await File.ReadAllTextAsync(console).ConfigureAwait(false) : "";
            if (result.ExitCode == 0 && log.Contains("Kernel panic", StringComparison.Ordinal))
            {
                return new AcceleratorChoice(VmAccelerator.Kvm, "a test guest booted under KVM");
            }

            var lastLine = (result.Stderr + result.Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase))
                ?? $"exit code {result.ExitCode}";
            return new AcceleratorChoice(VmAccelerator.Tcg, $"QEMU with -accel kvm failed: {lastLine}");
        }
        finally
        {
            File.Delete(console);
        }
    }

    private static string CacheKey(string qemuPath, string kernelPath)
    {
        var text = new StringBuilder();
        foreach (var path in new[] { ResolveOnPath(qemuPath), Path.GetFullPath(kernelPath) })
        {
            var info = new FileInfo(path);
            text.Append(path).Append('\n');
            if (info.Exists)
            {
                text.Append(info.Length.ToString(CultureInfo.InvariantCulture)).Append(' ')
                    .Append(info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        // The verdict holds for one boot of the host: modules, nesting and permissions can change across reboots.
        text.Append(HostBootId());
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    private static string HostBootId()
    {
        const string BootId = "/proc/sys/kernel/random/boot_id";
        return File.Exists(BootId) ? File.ReadAllText(BootId).Trim() : "no-boot-id";
    }

    private static AcceleratorChoice? TryReadVerdict(string file)
    {
        try
        {
            var lines = File.ReadAllLines(file);
            if (lines.Length >= 2 && Enum.TryParse<VmAccelerator>(lines[0], out var accelerator))
            {
                return new AcceleratorChoice(accelerator, lines[1] + " (cached)");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // No usable verdict: probe again.
        }

        return null;
    }

    private static void WriteVerdict(string file, AcceleratorChoice verdict)
    {
        try
        {
            Guest.CacheFile.Publish(file, temporary =>
            {
                File.WriteAllText(temporary, $"{verdict.Accelerator}\n{verdict.Reason}\n");
                return true;
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The cache is an optimisation; without it the next process probes again.
        }
    }

    /// <summary>Resolves a bare program name through PATH; returns the input when not found.</summary>
    internal static string ResolveOnPath(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return Path.GetFullPath(program);
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return program;
    }
}
