// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// 256 MiB each way between the host and one box, as whole commands a user types:
/// <c>cocoon cp FILE BOX:/tmp/F</c> and <c>cocoon cp BOX:/tmp/F FILE</c> (a tar stream on the copy
/// data stream) against <c>cat FILE | cocoon exec -i BOX sh -c 'cat &gt; F'</c> and
/// <c>cocoon exec BOX cat F &gt; FILE</c> (the bytes as exec stdio: data streams that the guest's
/// <c>cat</c> reads and writes itself), alternating, in the same box. The figure is the baselines'
/// total time over cp's (median rounds).
/// <para>
/// Into the box the baseline is the transport's floor: <c>cat</c> reads the data stream's socket
/// directly, with no agent in between. Out of the box it is slower than cp: busybox <c>cat</c>
/// sendfile(2)s the file into the vsock socket, and vsock (no sendpage of its own in the guest's 6.1
/// kernel) takes it a page per send.
/// </para>
/// </summary>
internal sealed class CopyBenchmark : IBenchmark
{
    private const int Rounds = 3;
    private const long Size = 256L * 1024 * 1024;
    private const string BoxName = "cp";

    public string Name => "cp";

    public string Description => "cocoon cp of 256 MiB each way vs cat | cocoon exec -i (and reverse) (goal >= 3x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        var timeout = TimeSpan.FromMinutes(5);
        try
        {
            var file = Path.Combine(home, "data.bin");
            WriteRandomFile(file, Size);
            await BenchSupport.RunCheckedAsync(cli, ["create", "--name", BoxName, "--memory", "2048"], home, TimeSpan.FromSeconds(60), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["start", BoxName], home, TimeSpan.FromSeconds(180), cancellationToken);
            string[] clear = ["exec", BoxName, "rm", "-f", "/tmp/cp.bin", "/tmp/cat.bin"];

            var cpIn = new List<double>();
            var cpOut = new List<double>();
            var catIn = new List<double>();
            var catOut = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                await BenchSupport.RunCheckedAsync(cli, clear, home, timeout, cancellationToken);
                cpIn.Add((await BenchSupport.RunCheckedAsync(cli, ["cp", file, BoxName + ":/tmp/cp.bin"], home, timeout, cancellationToken)).Ms);
                catIn.Add((await BenchSupport.RunCheckedAsync("sh", ["-c", $"cat '{file}' | '{cli}' exec -i {BoxName} sh -c 'cat > /tmp/cat.bin'"], home, timeout, cancellationToken)).Ms);
                File.Delete(Path.Combine(home, "cp.out"));
                cpOut.Add((await BenchSupport.RunCheckedAsync(cli, ["cp", BoxName + ":/tmp/cp.bin", Path.Combine(home, "cp.out")], home, timeout, cancellationToken)).Ms);
                catOut.Add((await BenchSupport.RunCheckedAsync("sh", ["-c", $"'{cli}' exec {BoxName} cat /tmp/cat.bin > '{Path.Combine(home, "cat.out")}'"], home, timeout, cancellationToken)).Ms);
                foreach (var copy in new[] { "cp.out", "cat.out" })
                {
                    var length = new FileInfo(Path.Combine(home, copy)).Length;
                    if (length != Size)
                    {
                        throw new BenchmarkFailedException($"{copy} came back with {length} bytes, not {Size}");
                    }
                }
            }

            output.WriteLine($"cocoon cp FILE {BoxName}:/tmp/cp.bin (256 MiB):                     {BenchSupport.Describe(cpIn)}  {MiBps(cpIn)}");
            output.WriteLine($"cat FILE | cocoon exec -i {BoxName} sh -c 'cat > F':                {BenchSupport.Describe(catIn)}  {MiBps(catIn)}");
            output.WriteLine($"cocoon cp {BoxName}:/tmp/cp.bin FILE:                               {BenchSupport.Describe(cpOut)}  {MiBps(cpOut)}");
            output.WriteLine($"cocoon exec {BoxName} cat F > FILE:                                 {BenchSupport.Describe(catOut)}  {MiBps(catOut)}");
            output.WriteLine($"into the box: {Report.Number(Report.Median(catIn) / Report.Median(cpIn))}x, out of it: {Report.Number(Report.Median(catOut) / Report.Median(cpOut))}x");
            var ratio = (Report.Median(catIn) + Report.Median(catOut)) / (Report.Median(cpIn) + Report.Median(cpOut));
            output.WriteLine(Report.Figure("cp-throughput", ratio, "x", ">=", 3));
        }
        finally
        {
            await BenchSupport.RemoveBoxAndCleanUpAsync(cli, BoxName, home, output);
        }
    }

    private static string MiBps(List<double> ms) => $"({Report.Number(Size / 1048576.0 / (Report.Median(ms) / 1000))} MiB/s)";

    /// <summary>Seeded random bytes: nothing on the way can compress them.</summary>
    internal static void WriteRandomFile(string path, long size)
    {
        var random = new Random(256);
        var buffer = new byte[1024 * 1024];
        using var file = File.Create(path);
        for (long written = 0; written < size; written += buffer.Length)
        {
            random.NextBytes(buffer);
            file.Write(buffer);
        }
    }
}
