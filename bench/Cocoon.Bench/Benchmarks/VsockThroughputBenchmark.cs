// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Cocoon.Guest;
using Cocoon.State;
using Cocoon.Vmm;
using Cocoon.Vsock;
using Cocoon.Vsock.Device;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// vsock-throughput: 256 MiB host→guest and guest→host through the vsock device (in this process,
/// host side through its hybrid UNIX socket) against QEMU's own virtio-serial ports (host side a
/// chardev UNIX socket), both in one guest of one QEMU. See <see cref="ThroughputGuestImage"/> for
/// the guest side, which is the same socat + busybox script for both transports.
/// <para>
/// Both transports are driven by the same host code over a connected UNIX stream socket, one
/// long-lived stream per transport and direction, written and read in
/// <see cref="HostChunkBytes"/> pieces. host→guest: the host sends <c>N</c>, waits for
/// <c>ready</c>, then the clock runs from its first data byte until the guest's <c>done</c>, which
/// the guest sends after dd has read all N bytes. guest→host: the host sends <c>N</c>; the clock
/// runs from the first data byte received until the Nth, and the bytes of that first read are
/// not counted. Each transport and direction gets a warm-up transfer, then <see cref="Rounds"/>
/// rounds alternate which transport goes first. The figures are the ratio of the medians.
/// </para>
/// </summary>
internal sealed class VsockThroughputBenchmark : IBenchmark
{
    private const int Rounds = 3;
    private const long TransferBytes = 256L * 1024 * 1024;
    private const long WarmUpBytes = 16L * 1024 * 1024;
    private const int HostChunkBytes = 256 * 1024;
    private const double MiB = 1024 * 1024;
    private const uint GuestCid = 3;
    private const string DeviceThreadComm = "cocoon-vsock-de"; // "cocoon-vsock-device" cut to 15 bytes.
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromSeconds(300);

    public string Name => "vsock-throughput";

    public string Description => "256 MiB host->guest and guest->host, vsock device vs QEMU virtio-serial (goal >= 1x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var home = BenchSupport.CreateHome();
        try
        {
            await MeasureAsync(home, output, cancellationToken);
        }
        finally
        {
            BenchSupport.CleanUpHome(home, output);
        }
    }

    private static async Task MeasureAsync(string home, TextWriter output, CancellationToken cancellationToken)
    {
        var options = new QemuOptions();
        var kernel = KernelLocator.FindDefault();
        var image = new GuestImageCache(home).GetOrBuild(ThroughputGuestImage.CreateBuilder(kernel, options.Machine));
        var choice = await AcceleratorProbe.ChooseAsync(options.QemuPath, kernel.KernelPath, new CocoonPaths(home).GuestCacheDirectory, cancellationToken: cancellationToken);
        output.WriteLine($"host load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine($"kernel {kernel.KernelPath}, accelerator {choice.Accelerator} ({choice.Reason}), 1 vCPU, guest socat -b {ThroughputGuestImage.SocatBlockBytes}, host I/O {HostChunkBytes / 1024} KiB per call");

        var serialSinkPath = Path.Combine(home, "ser-sink.sock");
        var serialSourcePath = Path.Combine(home, "ser-source.sock");
        using var serialSinkListener = Listen(serialSinkPath);
        using var serialSourceListener = Listen(serialSourcePath);

        var device = VsockDevice.Start(new VsockDeviceOptions
        {
            SocketPath = Path.Combine(home, "vu.sock"),
            UdsPath = Path.Combine(home, "v.sock"),
            GuestCid = GuestCid,
        });
        await using (device)
        {
            var serialBus = options.Machine == QemuMachine.Microvm ? "virtio-serial-device" : "virtio-serial-pci";
            var console = Path.Combine(home, "console.log");
            var spec = new VmSpec
            {
                KernelPath = kernel.KernelPath,
                InitrdPath = image.Path,
                ConsoleLogPath = console,
                VsockSocketPath = device.Options.SocketPath,
                ExtraQemuArguments =
                [
                    // QEMU connects to the host's listeners at start, so the guest's ports are host-connected
                    // from boot (a virtio-serial read returns EOF at once while the host side is closed).
                    "-chardev", "socket,id=sersink,path=" + QemuCommandLine.EscapeOptionValue(serialSinkPath),
                    "-chardev", "socket,id=sersource,path=" + QemuCommandLine.EscapeOptionValue(serialSourcePath),
                    "-device", serialBus,
                    "-device", $"virtserialport,chardev=sersink,name={ThroughputGuestImage.SinkPortName}",
                    "-device", $"virtserialport,chardev=sersource,name={ThroughputGuestImage.SourcePortName}",
                    "-name", "throughput,debug-threads=on", // names the vCPU threads, for the CPU breakdown
                ],
            };
            var qemu = QemuProcess.Start(spec, options, choice.Accelerator);
            await using (qemu)
            {
                using var serialSink = await AcceptAsync(serialSinkListener, qemu, cancellationToken);
                using var serialSource = await AcceptAsync(serialSourceListener, qemu, cancellationToken);
                await WaitForMarkerAsync(console, qemu, cancellationToken);
                using var vsockSink = await ConnectVsockAsync(device.Options.UdsPath, ThroughputGuestImage.SinkPort, cancellationToken);
                using var vsockSource = await ConnectVsockAsync(device.Options.UdsPath, ThroughputGuestImage.SourcePort, cancellationToken);

                var cpu = new CpuMeter(qemu.Pid);
                var vsock = new Transport("vsock device", vsockSink, vsockSource);
                var serial = new Transport("virtio-serial", serialSink, serialSource);
                var buffer = new byte[HostChunkBytes];

                foreach (var transport in new[] { vsock, serial })
                {
                    var h2g = await HostToGuestAsync(transport.Sink, WarmUpBytes, buffer, cpu, cancellationToken);
                    var g2h = await GuestToHostAsync(transport.Source, WarmUpBytes, buffer, cpu, cancellationToken);
                    output.WriteLine($"warm-up {transport.Name} (not counted): h2g {Report.Number(h2g.MiBPerSecond)} MiB/s, g2h {Report.Number(g2h.MiBPerSecond)} MiB/s");
                }

                for (var round = 1; round <= Rounds; round++)
                {
                    Transport[] order = round % 2 == 1 ? [vsock, serial] : [serial, vsock];
                    foreach (var transport in order)
                    {
                        var sample = await HostToGuestAsync(transport.Sink, TransferBytes, buffer, cpu, cancellationToken);
                        transport.HostToGuest.Add(sample.MiBPerSecond);
                        output.WriteLine($"round {round} {transport.Name} h2g: {sample.Describe()}");
                    }

                    foreach (var transport in order)
                    {
                        var sample = await GuestToHostAsync(transport.Source, TransferBytes, buffer, cpu, cancellationToken);
                        transport.GuestToHost.Add(sample.MiBPerSecond);
                        output.WriteLine($"round {round} {transport.Name} g2h: {sample.Describe()}");
                    }
                }

                foreach (var transport in new[] { vsock, serial })
                {
                    output.WriteLine($"{transport.Name} h2g: {BenchSupport.Describe(transport.HostToGuest, " MiB/s")}");
                    output.WriteLine($"{transport.Name} g2h: {BenchSupport.Describe(transport.GuestToHost, " MiB/s")}");
                }

                output.WriteLine($"host load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
                output.WriteLine(Report.Figure("vsock-h2g", Report.Median(vsock.HostToGuest) / Report.Median(serial.HostToGuest), "x", ">=", 1));
                output.WriteLine(Report.Figure("vsock-g2h", Report.Median(vsock.GuestToHost) / Report.Median(serial.GuestToHost), "x", ">=", 1));
            }
        }
    }

    // host→guest: "N\n", wait "ready", N bytes, wait "done"; timed from the first byte sent to "done".
    private static async Task<Sample> HostToGuestAsync(Socket socket, long bytes, byte[] buffer, CpuMeter cpu, CancellationToken cancellationToken)
    {
        await SendLineAsync(socket, bytes.ToString(CultureInfo.InvariantCulture), cancellationToken);
        await ExpectLineAsync(socket, "ready", cancellationToken);
        var before = cpu.Read();
        var start = Stopwatch.GetTimestamp();
        var transfer = SendZerosAsync(socket, bytes, buffer, cancellationToken);
        await transfer.WaitAsync(TransferTimeout, cancellationToken);
        await ExpectLineAsync(socket, "done", cancellationToken);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new Sample(bytes, seconds, cpu.Read() - before);
    }

    // guest→host: "N\n", then count N bytes; timed from the first read's return to the Nth byte, the first read's bytes not counted.
    private static async Task<Sample> GuestToHostAsync(Socket socket, long bytes, byte[] buffer, CpuMeter cpu, CancellationToken cancellationToken)
    {
        var before = cpu.Read();
        await SendLineAsync(socket, bytes.ToString(CultureInfo.InvariantCulture), cancellationToken);
        var first = await ReceiveSomeAsync(socket, buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes)), cancellationToken);
        var start = Stopwatch.GetTimestamp();
        var received = (long)first;
        while (received < bytes)
        {
            received += await ReceiveSomeAsync(socket, buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes - received)), cancellationToken);
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new Sample(bytes - first, seconds, cpu.Read() - before);
    }

    private static async Task SendZerosAsync(Socket socket, long bytes, byte[] buffer, CancellationToken cancellationToken)
    {
        var sent = 0L;
        while (sent < bytes)
        {
            var n = (int)Math.Min(buffer.Length, bytes - sent);
            sent += await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, cancellationToken);
        }
    }

    private static async Task<int> ReceiveSomeAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).AsTask().WaitAsync(TransferTimeout, cancellationToken);
        return n > 0 ? n : throw new InvalidOperationException("the guest closed the stream in the middle of a transfer");
    }

    private static async Task SendLineAsync(Socket socket, string line, CancellationToken cancellationToken)
    {
        var bytes = Encoding.ASCII.GetBytes(line + "\n");
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, cancellationToken).AsTask().WaitAsync(TransferTimeout, cancellationToken);
        }
    }

    // The guest sends nothing after the line until it is asked again, so reading ahead cannot take data.
    private static async Task ExpectLineAsync(Socket socket, string expected, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (true)
        {
            await ReceiveSomeAsync(socket, one, cancellationToken);
            if (one[0] == '\n')
            {
                break;
            }

            line.Append((char)one[0]);
            if (line.Length > 256)
            {
                break;
            }
        }

        if (line.ToString() != expected)
        {
            throw new InvalidOperationException($"the guest answered '{line}', expected '{expected}'");
        }
    }

    private static Socket Listen(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(1);
        return socket;
    }

    private static async Task<Socket> AcceptAsync(Socket listener, QemuProcess qemu, CancellationToken cancellationToken)
    {
        var accept = listener.AcceptAsync(cancellationToken).AsTask();
        if (await Task.WhenAny(accept, qemu.Exited, Task.Delay(TimeSpan.FromSeconds(30), cancellationToken)) != accept)
        {
            throw new InvalidOperationException($"QEMU did not connect its virtio-serial chardev (qemu: {qemu.OutputTail.Trim()})");
        }

        return await accept;
    }

    private static async Task WaitForMarkerAsync(string console, QemuProcess qemu, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            using (var stream = new FileStream(console, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite))
            using (var reader = new StreamReader(stream))
            {
                if ((await reader.ReadToEndAsync(cancellationToken)).Contains(ThroughputGuestImage.Marker, StringComparison.Ordinal))
                {
                    return;
                }
            }

            if (qemu.Exited.IsCompleted || Stopwatch.GetElapsedTime(start) > BootTimeout)
            {
                throw new InvalidOperationException($"the guest did not print its marker (qemu: {qemu.OutputTail.Trim()}; console: {File.ReadAllText(console).Trim()})");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    // The guest's socat listener starts in the background just before the marker: retry while it is not up yet.
    private static async Task<Socket> ConnectVsockAsync(string udsPath, uint port, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                return await HybridVsock.ConnectAsync(udsPath, port, cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            }
            catch (CocoonException e) when (e.Code == CocoonErrorCode.Unavailable && Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private sealed record Transport(string Name, Socket Sink, Socket Source)
    {
        public List<double> HostToGuest { get; } = [];

        public List<double> GuestToHost { get; } = [];
    }

    private readonly record struct Sample(long Bytes, double Seconds, CpuTimes Cpu)
    {
        public double MiBPerSecond => Bytes / MiB / Seconds;

        public string Describe() => string.Create(
            CultureInfo.InvariantCulture,
            $"{Report.Number(Bytes / MiB)} MiB in {Seconds:0.000} s = {Report.Number(MiBPerSecond)} MiB/s (cpu s: bench process {Cpu.Process:0.00} of which device thread {Cpu.DeviceThread:0.00}; qemu {Cpu.Qemu:0.00} of which vCPU {Cpu.QemuVcpu:0.00})");
    }

    private readonly record struct CpuTimes(double Process, double DeviceThread, double Qemu, double QemuVcpu)
    {
        public static CpuTimes operator -(CpuTimes a, CpuTimes b) =>
            new(a.Process - b.Process, a.DeviceThread - b.DeviceThread, a.Qemu - b.Qemu, a.QemuVcpu - b.QemuVcpu);
    }

    /// <summary>
    /// utime + stime from /proc (USER_HZ = 100) of this process, the device's worker thread, QEMU, and
    /// QEMU's vCPU threads ("CPU n/TCG" or "CPU n/KVM"; under TCG they also run the device emulation
    /// that guest MMIO writes trigger).
    /// </summary>
    private sealed class CpuMeter(int qemuPid)
    {
        private readonly string? _deviceThreadStat = FindDeviceThread();

        public CpuTimes Read() => new(
            Seconds("/proc/self/stat"),
            _deviceThreadStat is null ? double.NaN : Seconds(_deviceThreadStat),
            Seconds($"/proc/{qemuPid}/stat"),
            VcpuSeconds());

        private double VcpuSeconds()
        {
            var total = 0.0;
            foreach (var task in Directory.EnumerateDirectories($"/proc/{qemuPid}/task"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith("CPU ", StringComparison.Ordinal))
                    {
                        total += Seconds(Path.Combine(task, "stat"));
                    }
                }
                catch (IOException)
                {
                    // The thread ended between listing and reading.
                }
            }

            return total;
        }

        private static string? FindDeviceThread()
        {
            foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                if (File.ReadAllText(Path.Combine(task, "comm")).Trim() == DeviceThreadComm)
                {
                    // The real tid, not /proc/self, so later reads see the same thread.
                    return $"/proc/{Environment.ProcessId}/task/{Path.GetFileName(task)}/stat";
                }
            }

            return null;
        }

        private static double Seconds(string statPath)
        {
            var stat = File.ReadAllText(statPath);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
    }
}
