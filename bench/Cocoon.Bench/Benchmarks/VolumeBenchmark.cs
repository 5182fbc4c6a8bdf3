// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Reading 256 MiB inside one box from a <c>-v</c> volume (virtio-fs, served by virtiofsd on the host)
/// against reading the same bytes from the guest's own root file system (the initramfs, in guest
/// memory), alternating. The guest's page cache is dropped before each volume read, so every byte
/// crosses virtio-fs. Each read is <c>cocoon exec BOX cat F &gt; /dev/null</c>, timed inside the guest.
/// The figure is the volume's throughput over the root file system's (goal &gt;= 0.5x).
/// </summary>
internal sealed class VolumeBenchmark : IBenchmark
{
    private const int Rounds = 5;
    private const long Size = 256L * 1024 * 1024;
    private const string BoxName = "vol";

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
            for (var round = 0; round < Rounds; round++)
            {
                volume.Add(await TimedReadAsync(cli, home, "sync; echo 3 > /proc/sys/vm/drop_caches; ", "/data/data.bin", timeout, cancellationToken));
                rootfs.Add(await TimedReadAsync(cli, home, string.Empty, "/root/data.bin", timeout, cancellationToken));
            }

            output.WriteLine($"read /data/data.bin (virtio-fs volume, cache dropped):  {BenchSupport.Describe(volume)}  ({Report.Number(Size / 1048576.0 / (Report.Median(volume) / 1000))} MiB/s)");
            output.WriteLine($"read /root/data.bin (guest rootfs):                     {BenchSupport.Describe(rootfs)}  ({Report.Number(Size / 1048576.0 / (Report.Median(rootfs) / 1000))} MiB/s)");
            output.WriteLine(Report.Figure("volume-read", Report.Median(rootfs) / Report.Median(volume), "x", ">=", 0.5));
        }
        finally
        {
            await BenchSupport.RunAsync(cli, ["rm", "-f", BoxName], home, TimeSpan.FromSeconds(60), CancellationToken.None);
            BenchSupport.CleanUpHome(home, output);
        }
    }

    /// <summary>The guest's own clock around <c>cat FILE</c>: exec and CLI start-up stay out of the figure.</summary>
    private static async Task<double> TimedReadAsync(string cli, string home, string before, string file, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var script = $"{before}s=$(cat /proc/uptime); cat {file} > /dev/null; e=$(cat /proc/uptime); echo ${{s%% *}} ${{e%% *}}";
        var (_, stdout) = await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "sh", "-c", script], home, timeout, cancellationToken);
        var parts = stdout.Trim().Split(' ');
        return (double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) - double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)) * 1000;
    }
}
