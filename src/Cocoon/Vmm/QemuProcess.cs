// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.ComponentModel;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Vmm;

/// <summary>
/// A running qemu-system-x86_64 child. Its standard input is closed and its standard output and
/// error are drained into a bounded tail (QEMU reports start-up failures there); the guest console
/// goes to <see cref="VmSpec.ConsoleLogPath"/>. Disposing kills QEMU and waits for it.
/// </summary>
internal sealed class QemuProcess : IAsyncDisposable
{
    private const int TailLimit = 8192;

    private readonly Process _process;
    private readonly OutputTail _tail = new(TailLimit);
    private readonly Task _stdout;
    private readonly Task _stderr;
    private readonly ILogger _logger;

    private QemuProcess(Process process, IReadOnlyList<string> arguments, ILogger logger)
    {
        _process = process;
        _logger = logger;
        Arguments = arguments;
        Pid = process.Id;
        _stdout = _tail.PumpAsync(process.StandardOutput);
        _stderr = _tail.PumpAsync(process.StandardError);
        Exited = WaitForExitAsync();
    }

    /// <summary>QEMU's process id.</summary>
    public int Pid { get; }

    /// <summary>The arguments QEMU was started with (without the program name).</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Completes with QEMU's exit code when it exits (0 after a guest power-off or reboot).</summary>
    public Task<int> Exited { get; }

    /// <summary>The last few KiB QEMU wrote to its standard output and error.</summary>
    public string OutputTail => _tail.Text;

    /// <summary>Starts QEMU for <paramref name="spec"/>.</summary>
    public static QemuProcess Start(VmSpec spec, QemuOptions options, VmAccelerator accelerator, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        logger ??= NullLogger.Instance;
        var arguments = QemuCommandLine.Build(spec, options, accelerator);
        var process = options.Launcher.Count == 0
            ? StartProcess(options.QemuPath, arguments)
            : StartProcess(options.Launcher[0], [.. options.Launcher.Skip(1), options.QemuPath, .. arguments]);
        VmmLog.QemuStarted(logger, process.Id, accelerator, string.Join(' ', arguments));
        return new QemuProcess(process, arguments, logger);
    }

    /// <summary>Starts <paramref name="qemuPath"/> with <paramref name="arguments"/>, stdin closed, stdout and stderr piped.</summary>
    private static Process StartProcess(string qemuPath, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(qemuPath)
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

        try
        {
            var process = Process.Start(start) ?? throw new InvalidOperationException("Process.Start returned null.");
            process.StandardInput.Close();
            return process;
        }
        catch (Win32Exception ex)
        {
            throw new CocoonException(CocoonErrorCode.Unavailable, $"Cannot start QEMU '{qemuPath}': {ex.Message}. Install it with 'apt-get install qemu-system-x86' or name the binary.", ex);
        }
    }

    /// <summary>Kills QEMU (the guest stops at once). Does nothing if it already exited.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await Exited.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // SIGKILL was sent; the kernel reaps it. Nothing more to do here.
        }

        _process.Dispose();
    }

    private async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        await Task.WhenAll(_stdout, _stderr).ConfigureAwait(false);
        var code = _process.ExitCode;
        VmmLog.QemuExited(_logger, Pid, code);
        return code;
    }
}
