// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.State;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Box memory: starts two boxes with the published CLI (<c>cocoon create</c> + <c>cocoon start</c>),
/// then reads VmRSS (/proc/PID/status) and Pss (/proc/PID/smaps_rollup) of each box's supervisor
/// and of its QEMU (pids from box.json). The figure is the median supervisor RSS per box (absolute;
/// QEMU is shown for scale).
/// </summary>
internal sealed class BoxMemoryBenchmark : IBenchmark
{
    private const int Boxes = 2;

    public string Name => "box-memory";

    public string Description => "resident memory of each box's supervisor process (goal <= 25MiB)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        var names = Enumerable.Range(1, Boxes).Select(i => $"mem-{i}").ToList();
        try
        {
            foreach (var name in names)
            {
                await BenchSupport.RunCheckedAsync(cli, ["create", "--name", name], home, TimeSpan.FromSeconds(60), cancellationToken);
                var started = await BenchSupport.RunCheckedAsync(cli, ["start", name], home, TimeSpan.FromSeconds(180), cancellationToken);
                output.WriteLine($"{name}: cocoon start took {Report.Number(started.Ms)}ms");
            }

            // Let the supervisors settle after the agents answered.
            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            var repository = new BoxRepository(new CocoonPaths(home));
            var supervisorRss = new List<double>();
            foreach (var name in names)
            {
                var record = repository.Get(name);
                if (record.Pid is not { } pid || record.VmmPid is not { } qemu)
                {
                    throw new InvalidOperationException($"box {name} has no supervisor/QEMU pid (state {record.State})");
                }

                var rss = ReadKiB($"/proc/{pid}/status", "VmRSS:") / 1024.0;
                supervisorRss.Add(rss);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: supervisor pid {pid} RSS {Report.Number(rss)}MiB Pss {Report.Number(ReadKiB($"/proc/{pid}/smaps_rollup", "Pss:") / 1024.0)}MiB; " +
                    $"QEMU pid {qemu} RSS {Report.Number(ReadKiB($"/proc/{qemu}/status", "VmRSS:") / 1024.0)}MiB Pss {Report.Number(ReadKiB($"/proc/{qemu}/smaps_rollup", "Pss:") / 1024.0)}MiB"));
            }

            output.WriteLine(Report.Figure("supervisor-rss", Report.Median(supervisorRss), "MiB", "<=", 25));
        }
        finally
        {
            foreach (var name in names)
            {
                try
                {
                    await BenchSupport.RunAsync(cli, ["rm", "-f", name], home, TimeSpan.FromSeconds(60), CancellationToken.None);
                }
                catch (TimeoutException e)
                {
                    output.WriteLine("cleanup: " + e.Message);
                }
            }

            BenchSupport.CleanUpHome(home, output);
        }
    }

    /// <summary>The kB value of the line starting with <paramref name="key"/>.</summary>
    private static double ReadKiB(string file, string key)
    {
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return double.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no {key} in {file}");
    }
}
