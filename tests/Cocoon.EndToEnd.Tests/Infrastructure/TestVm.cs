// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Guest;
using Cocoon.Vmm;

namespace Cocoon.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real QEMU microVM for tests: boots an initramfs with the host kernel under the
/// probed accelerator, console to a file in its own temp directory. Disposing kills QEMU and
/// removes the directory.
/// </summary>
internal sealed class TestVm : IAsyncDisposable
{
    private readonly string _directory;

    private TestVm(string directory, QemuProcess qemu, string consoleLogPath, VmAccelerator accelerator)
    {
        _directory = directory;
        Qemu = qemu;
        ConsoleLogPath = consoleLogPath;
        Accelerator = accelerator;
    }

    public QemuProcess Qemu { get; }

    public string ConsoleLogPath { get; }

    public VmAccelerator Accelerator { get; }

    public static async Task<TestVm> StartAsync(GuestKernel kernel, string initrdPath, string? vsockSocketPath = null, string? cacheDirectory = null)
    {
        var options = new QemuOptions();
        var accelerator = (await AcceleratorProbe.ChooseAsync(options.QemuPath, kernel.KernelPath, cacheDirectory)
            .WaitAsync(TimeSpan.FromSeconds(30))).Accelerator;
        var directory = Directory.CreateTempSubdirectory("cocoon-e2e-vm-").FullName;
        var console = Path.Combine(directory, "console.log");
        var spec = new VmSpec
        {
            KernelPath = kernel.KernelPath,
            InitrdPath = initrdPath,
            ConsoleLogPath = console,
            MemoryMiB = 256,
            VsockSocketPath = vsockSocketPath,
        };
        try
        {
            return new TestVm(directory, QemuProcess.Start(spec, options, accelerator), console, accelerator);
        }
        catch
        {
            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    public string ReadConsole()
    {
        try
        {
            using var stream = new FileStream(ConsoleLogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    /// <summary>Polls the console until it contains <paramref name="text"/>; fails with the console tail on timeout or QEMU exit.</summary>
    public async Task WaitForConsoleAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (ReadConsole().Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            if (Qemu.Exited.IsCompleted)
            {
                throw new InvalidOperationException($"QEMU exited ({await Qemu.Exited}) before '{text}' appeared.\n{Describe()}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"'{text}' did not appear on the console within {timeout.TotalSeconds} s.\n{Describe()}");
            }

            await Task.Delay(50);
        }
    }

    public string Describe()
    {
        var console = ReadConsole();
        return $"accelerator: {Accelerator}\nqemu {string.Join(' ', Qemu.Arguments)}\nqemu output: {Qemu.OutputTail}\nconsole tail:\n{(console.Length > 4000 ? console[^4000..] : console)}";
    }

    public async ValueTask DisposeAsync()
    {
        await Qemu.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
