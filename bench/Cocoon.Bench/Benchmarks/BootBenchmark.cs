// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.Guest;
using Cocoon.State;
using Cocoon.Supervisor;
using Cocoon.Vmm;
using Cocoon.Vsock.Device;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Boot: wall time of <c>cocoon run --rm -- echo ready</c> (fresh CLI process, until "ready" is on
/// its stdout) against a bare boot of the same kernel with the same QEMU command line (built by
/// <see cref="QemuCommandLine"/>, same accelerator, memory, CPUs) whose /init is a busybox sh script
/// that prints a marker on the console and powers off; measured from QEMU start to the marker in the
/// console log. The bare VM has no vsock device and loads no modules. Rounds alternate; the first
/// cocoon run (image build, accelerator probe) is not counted.
/// </summary>
internal sealed class BootBenchmark : IBenchmark
{
    // Boot times under TCG vary by +-10% between runs on a shared host: a median of 9 is steadier than of 5.
    private const int Rounds = 9;
    private const string Marker = "BARE-BOOT-READY";

    public string Name => "boot";

    public string Description => "cocoon run --rm -- echo ready vs a bare QEMU boot to /init (goal <= 1.3x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        try
        {
            // Warm up: builds the agent image and caches the accelerator probe.
            var warm = await BenchSupport.RunCheckedAsync(cli, ["run", "--rm", "--", "echo", "ready"], home, TimeSpan.FromSeconds(120), cancellationToken);
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
            output.WriteLine($"kernel {kernel.KernelPath}, accelerator {choice.Accelerator} ({choice.Reason}), bare initramfs {new FileInfo(image.Path).Length / 1024} KiB");

            var agentImage = AgentImage.GetOrBuild(new CocoonPaths(home), options.Machine, null);
            var cocoon = new List<double>();
            var bare = new List<double>();
            var agent = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                bare.Add(await BootBareAsync(kernel, image.Path, Path.Combine(home, $"bare-{round}.log"), options, choice.Accelerator, cancellationToken));
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
        using var process = BenchSupport.Start(cli, ["run", "--rm", "--", "echo", "ready"], home);
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
                KernelPath = image.Kernel.KernelPath,
                InitrdPath = image.Image.Path,
                ConsoleLogPath = Path.Combine(directory, "console.log"),
                KernelArguments = [new BootConfig { Hostname = "bench", Modules = image.Modules }.ToKernelArgument()],
                VsockSocketPath = vhost,
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

    private static async Task<double> BootBareAsync(GuestKernel kernel, string initrd, string console, QemuOptions options, VmAccelerator accelerator, CancellationToken cancellationToken)
    {
        var spec = new VmSpec { KernelPath = kernel.KernelPath, InitrdPath = initrd, ConsoleLogPath = console };
        File.WriteAllText(console, "");
        var start = Stopwatch.GetTimestamp();
        var qemu = QemuProcess.Start(spec, options, accelerator);
        await using (qemu)
        {
            var deadline = TimeSpan.FromSeconds(60);
            while (true)
            {
                using (var stream = new FileStream(console, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                using (var reader = new StreamReader(stream))
                {
                    if ((await reader.ReadToEndAsync(cancellationToken)).Contains(Marker, StringComparison.Ordinal))
                    {
                        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                        await qemu.Exited.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                        return ms;
                    }
                }

                if (qemu.Exited.IsCompleted || Stopwatch.GetElapsedTime(start) > deadline)
                {
                    throw new InvalidOperationException($"the bare VM did not print its marker (qemu: {qemu.OutputTail.Trim()}; console: {File.ReadAllText(console).Trim()})");
                }

                await Task.Delay(5, cancellationToken);
            }
        }
    }
}
