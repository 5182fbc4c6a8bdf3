// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Cocoon.State;
using Cocoon.Supervisor;
using Cocoon.Vmm;
using Cocoon.Vsock.Device;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Exec round trip of <c>true</c> as whole commands a user types, each a fresh process:
/// <c>cocoon exec BOX true</c> (the published CLI) against <c>ssh -i KEY -p PORT root@127.0.0.1 true</c>
/// into the same guest, whose dropbear server is reached through QEMU user networking.
/// </summary>
/// <remarks>
/// The box supervisor has no hook for extra QEMU arguments or initramfs files, so the benchmark
/// runs the box itself: a hidden worker (<c>--worker exec-rtt supervise NAME ...</c>, so the box
/// record's pid passes the CLI's liveness check) builds the agent image plus virtio_net, dropbear,
/// its host key and the client's authorized key, starts the vsock device and QEMU the way
/// BoxSupervisor does (same QemuCommandLine, plus a user-net NIC with a hostfwd), and marks the box
/// record (made by <c>cocoon create</c>) running. <c>cocoon exec</c> then runs unchanged against it.
/// </remarks>
internal sealed class ExecRttBenchmark : IBenchmark
{
    private const int Runs = 200;
    private const string BoxName = "rtt";
    private const string GuestHostKey = "/etc/dropbear/host_key";

    public string Name => "exec-rtt";

    public string Description => "cocoon exec BOX true vs ssh BOX true, p50/p99 of fresh processes (goal >= 20x / >= 10x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        Process? worker = null;
        try
        {
            var keys = Directory.CreateDirectory(Path.Combine(home, "keys")).FullName;
            var clientKey = Path.Combine(keys, "client");
            await BenchSupport.RunCheckedAsync("dropbearkey", ["-t", "ed25519", "-f", Path.Combine(keys, "host")], null, TimeSpan.FromSeconds(30), cancellationToken);
            await BenchSupport.RunCheckedAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey], null, TimeSpan.FromSeconds(30), cancellationToken);
            var port = FreePort();
            await BenchSupport.RunCheckedAsync(cli, ["create", "--name", BoxName], home, TimeSpan.FromSeconds(60), cancellationToken);

            worker = BenchSupport.Start(
                Environment.ProcessPath ?? "dotnet",
                [Path.Combine(AppContext.BaseDirectory, "cocoon-bench.dll"), "--worker", Name, BoxProcesses.SuperviseCommand, BoxName, home, port.ToString(CultureInfo.InvariantCulture), keys],
                home,
                keepStdin: true);
            var workerError = worker.StandardError.ReadToEndAsync(cancellationToken);
            var first = await worker.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(120), cancellationToken);
            if (first != "ready")
            {
                throw new InvalidOperationException($"the VM worker failed: {first} {await workerError.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken)}");
            }

            var runtime = new CocoonRuntime(new CocoonRuntimeOptions { StateRoot = home, CocoonPath = cli });
            await using var box = runtime.GetBox(BoxName);
            await box.Agent.WaitForReadyAsync(TimeSpan.FromSeconds(120), cancellationToken);
            var net = await box.RunAsync(
                ["sh", "-c", "ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.2.2 && " +
                    $"dropbear -r {GuestHostKey} -p 22 -E </dev/null >/dev/null 2>/tmp/dropbear.log"],
                cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            if (net.ExitCode != 0)
            {
                throw new InvalidOperationException($"guest network/dropbear setup exited {net.ExitCode}: {net.Stderr.Trim()}");
            }

            string[] ssh =
            [
                "-F", "/dev/null", "-i", clientKey, "-p", port.ToString(CultureInfo.InvariantCulture),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "root@127.0.0.1", "true",
            ];
            await WaitForSshAsync(ssh, box, cancellationToken);
            output.WriteLine($"guest up; ssh through hostfwd 127.0.0.1:{port} -> guest dropbear :22");

            // Warm-up (page cache, guest caches), not counted.
            for (var i = 0; i < 5; i++)
            {
                await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "true"], home, TimeSpan.FromSeconds(60), cancellationToken);
                await BenchSupport.RunCheckedAsync("ssh", ssh, null, TimeSpan.FromSeconds(60), cancellationToken);
                await RunInProcessAsync(box, cancellationToken);
            }

            var cocoon = new List<double>();
            var secure = new List<double>();
            var sdk = new List<double>();
            var budget = Stopwatch.StartNew();
            for (var i = 0; i < Runs && budget.Elapsed < TimeSpan.FromMinutes(9); i++)
            {
                cocoon.Add((await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "true"], home, TimeSpan.FromSeconds(60), cancellationToken)).Ms);
                secure.Add((await BenchSupport.RunCheckedAsync("ssh", ssh, null, TimeSpan.FromSeconds(60), cancellationToken)).Ms);
                sdk.Add(await RunInProcessAsync(box, cancellationToken));
            }

            output.WriteLine($"runs: {cocoon.Count} of each (alternating; stopped early only past 9 minutes)");
            output.WriteLine($"cocoon exec {BoxName} true (fresh CLI process): p50 {P(cocoon, 50)}ms p99 {P(cocoon, 99)}ms min {Report.Number(cocoon.Min())} max {Report.Number(cocoon.Max())}");
            output.WriteLine($"ssh root@127.0.0.1 true (fresh OpenSSH client): p50 {P(secure, 50)}ms p99 {P(secure, 99)}ms min {Report.Number(secure.Min())} max {Report.Number(secure.Max())}");
            output.WriteLine($"SDK Box.RunAsync([\"true\"]) in process:       p50 {P(sdk, 50)}ms p99 {P(sdk, 99)}ms min {Report.Number(sdk.Min())} max {Report.Number(sdk.Max())}");
            output.WriteLine($"(for scale: ssh / SDK in-process p50 {Report.Number(Report.Percentile(secure, 50) / Report.Percentile(sdk, 50))}x)");
            output.WriteLine(Report.Figure("exec-rtt-p50", Report.Percentile(secure, 50) / Report.Percentile(cocoon, 50), "x", ">=", 20));
            output.WriteLine(Report.Figure("exec-rtt-p99", Report.Percentile(secure, 99) / Report.Percentile(cocoon, 99), "x", ">=", 10));
        }
        finally
        {
            if (worker is not null)
            {
                try
                {
                    await worker.StandardInput.WriteLineAsync("stop");
                    worker.StandardInput.Close();
                    await worker.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
                }
                catch (Exception e) when (e is IOException or TimeoutException)
                {
                    output.WriteLine("cleanup: VM worker did not stop cleanly: " + e.Message);
                    worker.Kill(entireProcessTree: true);
                }

                worker.Dispose();
            }

            await BenchSupport.RunAsync(cli, ["rm", "-f", BoxName], home, TimeSpan.FromSeconds(60), CancellationToken.None);
            BenchSupport.CleanUpHome(home, output);
        }
    }

    /// <summary>
    /// Worker: supervise NAME HOME PORT KEYDIR. Runs the SSH-capable box until a line (or EOF) on stdin.
    /// Main thread throughout: QEMU gets PDEATHSIG through setpriv, like the supervisor's.
    /// </summary>
    public static int RunWorker(string[] args)
    {
        var name = args[1];
        var paths = new CocoonPaths(args[2]);
        var port = int.Parse(args[3], CultureInfo.InvariantCulture);
        var boxes = new BoxRepository(paths);
        var record = boxes.Get(name);
        var options = new QemuOptions { Launcher = ["setpriv", "--pdeathsig", "KILL", "--"] };
        var keys = args[4];
        var (kernel, image, modules) = AgentImage.GetOrBuild(paths, options.Machine, null, ["virtio_net"], builder => builder
            .AddExecutable("/usr/sbin/dropbear", "/usr/sbin/dropbear")
            .AddDirectory("/var/run")
            .AddDirectory("/etc/dropbear", 0x1C0)
            .AddFile(Path.Combine(keys, "host"), GuestHostKey, 0x180)
            .AddText("/etc/passwd", "root::0:0:root:/root:/bin/sh\n")
            .AddText("/etc/group", "root:x:0:\n")
            .AddText("/etc/shells", "/bin/sh\n")
            .AddDirectory("/root/.ssh", 0x1C0)
            .AddText("/root/.ssh/authorized_keys", File.ReadAllText(Path.Combine(keys, "client.pub")), 0x180));
        var vhost = paths.VhostSocket(name);
        var uds = paths.VsockSocket(name);
        File.Delete(vhost);
        File.Delete(uds);
        var device = VsockDevice.Start(new VsockDeviceOptions { SocketPath = vhost, UdsPath = uds, GuestCid = record.Cid }, NullLoggerFactory.Instance);
        QemuProcess? qemu = null;
        try
        {
            var choice = AcceleratorProbe.ChooseAsync(options.QemuPath, kernel.KernelPath, paths.GuestCacheDirectory).GetAwaiter().GetResult();
            var boot = new BootConfig { Hostname = name, Modules = modules };
            var spec = new VmSpec
            {
                KernelPath = kernel.KernelPath,
                InitrdPath = image.Path,
                ConsoleLogPath = paths.ConsoleLog(name),
                KernelArguments = [boot.ToKernelArgument()],
                MemoryMiB = record.Config.MemoryMiB,
                Cpus = record.Config.Cpus,
                VsockSocketPath = vhost,
                ExtraQemuArguments =
                [
                    "-netdev", $"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
                    "-device", "virtio-net-device,netdev=n0",
                ],
            };
            qemu = QemuProcess.Start(spec, options, choice.Accelerator);
            var running = qemu;
            boxes.Update(name, r => r with { State = BoxState.Running, Pid = Environment.ProcessId, VmmPid = running.Pid, StartedAt = DateTimeOffset.UtcNow, StoppedAt = null, StopReason = null });
            Console.WriteLine("ready");
            Console.Out.Flush();
            Console.ReadLine();
            return 0;
        }
        catch (Exception e)
        {
            Console.WriteLine("failed: " + e.Message);
            return 1;
        }
        finally
        {
            qemu?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            device.DisposeAsync().AsTask().GetAwaiter().GetResult();
            File.Delete(vhost);
            File.Delete(uds);
            boxes.Update(name, r => r with { State = BoxState.Stopped, Pid = null, VmmPid = null, StoppedAt = DateTimeOffset.UtcNow, StopReason = "exit" });
        }
    }

    private static string P(List<double> values, double p) => Report.Number(Report.Percentile(values, p));

    private static async Task<double> RunInProcessAsync(Box box, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await box.RunAsync(["true"], cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return result.ExitCode == 0 ? ms : throw new InvalidOperationException($"SDK exec of true exited {result.ExitCode}");
    }

    private static async Task WaitForSshAsync(string[] ssh, Box box, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            var (_, code, _, stderr) = await BenchSupport.RunAsync("ssh", ssh, null, TimeSpan.FromSeconds(60), cancellationToken);
            if (code == 0)
            {
                return;
            }

            last = stderr.Trim();
            await Task.Delay(500, cancellationToken);
        }

        var log = await box.RunAsync(["sh", "-c", "cat /tmp/dropbear.log; ip addr"], cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        throw new InvalidOperationException($"ssh into the guest never succeeded: {last}; guest: {log.Stdout.Trim()}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
