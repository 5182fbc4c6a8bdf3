// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.Guest;
using Cocoon.Protocol;
using Cocoon.State;
using Cocoon.Supervisor;
using Cocoon.Vmm;
using Cocoon.Vsock.Device;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Boot: wall time of <c>cocoon run --rm -- echo ready</c> (fresh CLI process, until "ready" is on
/// its stdout) against a bare boot of the same kernel file (the uncompressed image a box boots, when
/// the kernel has one: <see cref="UncompressedKernel"/>) with the same QEMU command line (built by
/// <see cref="QemuCommandLine"/>, same accelerator, and the same memory and CPUs given explicitly to
/// both) whose /init is a busybox sh script that prints a marker on the console and powers off;
/// measured from QEMU start to the marker line read from the console, a FIFO, as the Cocoon side
/// reads its line from the CLI's stdout pipe. The bare VM has no vsock device and loads no modules. Rounds alternate; the first
/// cocoon run (image build, accelerator probe) is not counted.
/// </summary>
internal sealed class BootBenchmark : IBenchmark
{
    // Boot times under TCG vary by +-10% between runs on a shared host: a median of 9 is steadier than of 5.
    private const int Rounds = 9;
    private const string Marker = "BARE-BOOT-READY";

    // Both sides get these explicitly: `cocoon run --memory --cpus` and the bare VmSpec.
    private const int MemoryMiB = 512;
    private const int Cpus = 1;
    private static readonly string[] CocoonRun = ["run", "--rm", "--memory", $"{MemoryMiB}M", "--cpus", $"{Cpus}", "--", "echo", "ready"];

    public string Name => "boot";

    public string Description => "cocoon run --rm -- echo ready vs a bare QEMU boot to /init (goal <= 1.3x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        try
        {
            // Warm up: builds the agent image and caches the accelerator probe.
            var warm = await BenchSupport.RunCheckedAsync(cli, CocoonRun, home, TimeSpan.FromSeconds(120), cancellationToken);
            output.WriteLine($"warm-up cocoon run (not counted): {Report.Number(warm.Ms)}ms");

            var paths = new CocoonPaths(home);
            var options = new QemuOptions();
            var kernel = KernelLocator.FindDefault();
            var builder = new InitramfsBuilder()
                .AddConsoleDevices()
                .AddBusybox(applets: ["sh", "echo", "poweroff"])
                .AddText("/init", $"#!/bin/sh\necho {Marker}\npoweroff -f\n", InitramfsBuilder.ExecutableMode);
            var image = new GuestImageCache(home).GetOrBuild(builder);
            var choice = await AcceleratorProbe.ChooseAsync(options.QemuPath, kernel.KernelPath, paths.GuestCacheDirectory, cancellationToken: cancellationToken);
            var agentImage = AgentImage.GetOrBuild(new CocoonPaths(home), options.Machine, null);
            output.WriteLine($"kernel {agentImage.KernelBootPath}, accelerator {choice.Accelerator} ({choice.Reason}), {MemoryMiB} MiB and {Cpus} CPU on both sides, bare initramfs {new FileInfo(image.Path).Length / 1024} KiB");

            var cocoon = new List<double>();
            var bare = new List<double>();
            var agent = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                bare.Add(await BootBareAsync(agentImage.KernelBootPath, image.Path, Path.Combine(home, $"bare-{round}.log"), options, choice.Accelerator, cancellationToken));
                cocoon.Add(await RunCocoonAsync(cli, home, cancellationToken));
                agent.Add(await BootAgentAsync(agentImage, Path.Combine(home, $"agent-{round}"), options, choice.Accelerator, cancellationToken));
            }

            var cocoonMedian = Report.Median(cocoon);
            var bareMedian = Report.Median(bare);
            output.WriteLine($"cocoon run --rm -- echo ready (start to output): {BenchSupport.Describe(cocoon)}");
            output.WriteLine($"bare QEMU boot (start to /init marker):          {BenchSupport.Describe(bare)}");
            output.WriteLine($"(breakdown) box image, in process (QEMU start to agent ready, no CLI/supervisor): {BenchSupport.Describe(agent)}");
            output.WriteLine(Report.Figure("boot-overhead", cocoonMedian / bareMedian, "x", "<=", 1.3));
        }
        finally
        {
            BenchSupport.CleanUpHome(home, output);
        }
    }

    private static async Task<double> RunCocoonAsync(string cli, string home, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        using var process = BenchSupport.Start(cli, CocoonRun, home);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        double? seen = null;
        while (await process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(120), cancellationToken) is { } line)
        {
            if (seen is null && line.Trim() == "ready")
            {
                seen = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        return seen is { } ms && process.ExitCode == 0
            ? ms
            : throw new InvalidOperationException($"cocoon run exited {process.ExitCode} without 'ready': {(await stderr).Trim()}");
    }

    // The box's own VM without the CLI and supervisor: vsock device + QEMU in this process, timed to the agent's first answer.
    private static async Task<double> BootAgentAsync(AgentImage image, string directory, QemuOptions options, VmAccelerator accelerator, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var vhost = Path.Combine(directory, "vhost.sock");
        var uds = Path.Combine(directory, "vsock.sock");
        var device = VsockDevice.Start(new VsockDeviceOptions { SocketPath = vhost, UdsPath = uds, GuestCid = 3 });
        await using (device)
        {
            var spec = new VmSpec
            {
                KernelPath = image.KernelBootPath,
                InitrdPath = image.Image.Path,
                ConsoleLogPath = Path.Combine(directory, "console.log"),
                KernelArguments = [new BootConfig { Hostname = "bench", Modules = image.Modules }.ToKernelArgument()],
                VsockSocketPath = vhost,
                MemoryMiB = MemoryMiB,
                Cpus = Cpus,
            };
            var start = Stopwatch.GetTimestamp();
            var qemu = QemuProcess.Start(spec, options, accelerator);
            await using (qemu)
            {
                await using var agent = GuestAgentClient.ConnectHybridVsock(uds);
                await agent.WaitForReadyAsync(TimeSpan.FromSeconds(60), cancellationToken).WaitAsync(TimeSpan.FromSeconds(90), cancellationToken);
                return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }
    }

    // The console goes to a FIFO this process reads line by line, as the Cocoon side reads the CLI's
    // stdout pipe: both sides see their line the moment it is written, no polling on either.
    private static async Task<double> BootBareAsync(string kernel, string initrd, string console, QemuOptions options, VmAccelerator accelerator, CancellationToken cancellationToken)
    {
        await BenchSupport.RunCheckedAsync("mkfifo", ["-m", "600", console], null, TimeSpan.FromSeconds(10), cancellationToken);
        var spec = new VmSpec { KernelPath = kernel, InitrdPath = initrd, ConsoleLogPath = console, MemoryMiB = MemoryMiB, Cpus = Cpus };
        var marker = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new List<string>();
        var start = Stopwatch.GetTimestamp();
        var qemu = QemuProcess.Start(spec, options, accelerator);
        await using (qemu)
        {
            // Opening for reading waits for QEMU to open the FIFO for writing; reading ends at its EOF, when QEMU exits.
            var reader = Task.Factory.StartNew(
                () =>
                {
                    using var stream = new StreamReader(new FileStream(console, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1));
                    while (stream.ReadLine() is { } line)
                    {
                        lines.Add(line);
                        if (line.Contains(Marker, StringComparison.Ordinal))
                        {
                            marker.TrySetResult(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        }
                    }
                },
                cancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            await Task.WhenAny(marker.Task, qemu.Exited).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            if (!marker.Task.IsCompleted)
            {
                await qemu.DisposeAsync();
                // QEMU may have died before opening the FIFO: a writer of our own releases the reader.
                new FileStream(console, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1).Dispose();
                await reader.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                throw new InvalidOperationException($"the bare VM did not print its marker (qemu: {qemu.OutputTail.Trim()}; console: {string.Join('\n', lines).Trim()})");
            }

            await qemu.Exited.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            await reader.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            return await marker.Task;
        }
    }
}
