// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Reading 256 MiB inside one box from a <c>-v</c> volume (virtio-fs, served by virtiofsd on the host)
/// against reading the same bytes from the guest's own root file system (the initramfs, in guest
/// memory), alternating. The guest's page cache is dropped before each volume read, so every byte
/// crosses virtio-fs. Each read is <c>dd bs=1M</c> to /dev/null, timed inside the guest: read(2) into
/// a buffer, as a program that uses the bytes reads them. The figure is the volume's throughput over
/// the root file system's (goal &gt;= 0.5x).
/// </summary>
/// <remarks>
/// The guest's <c>cat</c> (busybox) copies with sendfile(2), and sendfile into /dev/null hands page
/// references to a sink that discards them, so no byte reaches a process and the root file system's
/// side costs no copy at all (measured under TCG: about 1500 MiB/s, where read(2) of the same file
/// gives about 800 MiB/s). Those reads are still measured and printed, below the figure's inputs, but
/// they are not the figure.
/// </remarks>
internal sealed class VolumeBenchmark : IBenchmark
{
    private const int Rounds = 5;
    private const long Size = 256L * 1024 * 1024;
    private const string BoxName = "vol";
    private const string DropCaches = "sync; echo 3 > /proc/sys/vm/drop_caches; ";

    public string Name => "volume";

    public string Description => "read 256 MiB in a box from a -v volume vs from the guest's own rootfs (goal >= 0.5x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        var timeout = TimeSpan.FromMinutes(5);
        try
        {
            var shared = Path.Combine(home, "shared");
            Directory.CreateDirectory(shared);
            CopyBenchmark.WriteRandomFile(Path.Combine(shared, "data.bin"), Size);
            await BenchSupport.RunCheckedAsync(cli, ["create", "--name", BoxName, "--memory", "2048", "-v", shared + ":/data:ro"], home, TimeSpan.FromSeconds(60), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["start", BoxName], home, TimeSpan.FromSeconds(180), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "cp", "/data/data.bin", "/root/data.bin"], home, timeout, cancellationToken);

            var volume = new List<double>();
            var rootfs = new List<double>();
            var volumeSendfile = new List<double>();
            var rootfsSendfile = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                volume.Add(await TimedReadAsync(cli, home, DropCaches, ReadCommand("/data/data.bin"), timeout, cancellationToken));
                rootfs.Add(await TimedReadAsync(cli, home, string.Empty, ReadCommand("/root/data.bin"), timeout, cancellationToken));
                volumeSendfile.Add(await TimedReadAsync(cli, home, DropCaches, "cat /data/data.bin > /dev/null", timeout, cancellationToken));
                rootfsSendfile.Add(await TimedReadAsync(cli, home, string.Empty, "cat /root/data.bin > /dev/null", timeout, cancellationToken));
            }

            output.WriteLine($"dd bs=1M /data/data.bin (virtio-fs volume, cache dropped):  {Describe(volume)}");
            output.WriteLine($"dd bs=1M /root/data.bin (guest rootfs):                     {Describe(rootfs)}");
            output.WriteLine($"cat (sendfile to /dev/null) /data/data.bin, cache dropped:  {Describe(volumeSendfile)}");
            output.WriteLine($"cat (sendfile to /dev/null) /root/data.bin:                 {Describe(rootfsSendfile)}");
            output.WriteLine(Report.Figure("volume-read", Report.Median(rootfs) / Report.Median(volume), "x", ">=", 0.5));
        }
        finally
        {
            await BenchSupport.RemoveBoxAndCleanUpAsync(cli, BoxName, home, output);
        }
    }

    /// <summary>The spread of <paramref name="times"/> and the median's throughput.</summary>
    private static string Describe(List<double> times) =>
        $"{BenchSupport.Describe(times)}  ({Report.Number(Size / 1048576.0 / (Report.Median(times) / 1000))} MiB/s)";

    /// <summary>read(2) of <paramref name="file"/> in 1 MiB blocks into dd's buffer; /dev/null takes the writes without copying.</summary>
    private static string ReadCommand(string file) => $"dd if={file} of=/dev/null bs=1M 2>/dev/null";

    /// <summary>The guest's own clock around <paramref name="read"/>: exec and CLI start-up stay out of the figure.</summary>
    private static async Task<double> TimedReadAsync(string cli, string home, string before, string read, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var script = $"{before}s=$(cat /proc/uptime); {read} || exit 1; e=$(cat /proc/uptime); echo ${{s%% *}} ${{e%% *}}";
        var (_, stdout) = await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "sh", "-c", script], home, timeout, cancellationToken);
        var parts = stdout.Trim().Split(' ');
        return (double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) - double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)) * 1000;
    }
}
