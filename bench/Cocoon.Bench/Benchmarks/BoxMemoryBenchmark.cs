// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.State;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Box memory: starts <see cref="Boxes"/> boxes with the published CLI (<c>cocoon create</c> +
/// <c>cocoon start</c>), runs one <c>cocoon exec</c> in each (so every supervisor's vsock device has
/// carried a session), waits until each supervisor's resident set stops changing, then reads VmRSS
/// (/proc/PID/status) and Pss (/proc/PID/smaps_rollup) of each box's supervisor and of its QEMU (pids
/// from box.json). The figure is the median supervisor RSS per box (absolute); beside it, for scale,
/// QEMU's own RSS and the floor of any NativeAOT process (a trivial NativeAOT program that only waits).
/// </summary>
internal sealed class BoxMemoryBenchmark : IBenchmark
{
    private const int Boxes = 4;

    public string Name => "box-memory";

    public string Description => "resident memory of each box's supervisor process, 4 boxes (goal <= 25MiB)";

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
                await BenchSupport.RunCheckedAsync(cli, ["exec", name, "true"], home, TimeSpan.FromSeconds(60), cancellationToken);
                output.WriteLine($"{name}: cocoon start took {Report.Number(started.Ms)}ms");
            }

            var repository = new BoxRepository(new CocoonPaths(home));
            var supervisorRss = new List<double>();
            var qemuRss = new List<double>();
            foreach (var name in names)
            {
                var record = repository.Get(name);
                if (record.Pid is not { } pid || record.VmmPid is not { } qemu)
                {
                    throw new InvalidOperationException($"box {name} has no supervisor/QEMU pid (state {record.State})");
                }

                var rss = await SteadyRssMiBAsync(pid, cancellationToken);
                supervisorRss.Add(rss);
                qemuRss.Add(ReadKiB($"/proc/{qemu}/status", "VmRSS:") / 1024.0);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: supervisor pid {pid} RSS {Report.Number(rss)}MiB Pss {Report.Number(ReadKiB($"/proc/{pid}/smaps_rollup", "Pss:") / 1024.0)}MiB; " +
                    $"QEMU pid {qemu} RSS {Report.Number(qemuRss[^1])}MiB Pss {Report.Number(ReadKiB($"/proc/{qemu}/smaps_rollup", "Pss:") / 1024.0)}MiB"));
            }

            var floor = await NativeAotFloorMiBAsync(cancellationToken);
            output.WriteLine($"QEMU RSS per box: {BenchSupport.Describe(qemuRss, "MiB")}");
            output.WriteLine($"NativeAOT floor (a trivial NativeAOT process, waiting): RSS {Report.Number(floor)}MiB");
            output.WriteLine($"supervisor RSS per box: {BenchSupport.Describe(supervisorRss, "MiB")}, {Report.Number(Report.Median(supervisorRss) - floor)}MiB above the NativeAOT floor");
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

    /// <summary>Samples VmRSS every 200 ms until two samples in a row agree within 1%, then returns it (MiB).</summary>
    private static async Task<double> SteadyRssMiBAsync(int pid, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var previous = ReadKiB($"/proc/{pid}/status", "VmRSS:");
        while (true)
        {
            await Task.Delay(200, cancellationToken);
            var current = ReadKiB($"/proc/{pid}/status", "VmRSS:");
            if (Math.Abs(current - previous) <= previous / 100)
            {
                return current / 1024.0;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new BenchmarkFailedException($"the RSS of supervisor {pid} kept changing for 60 s ({previous} KiB, then {current} KiB)");
            }

            previous = current;
        }
    }

    /// <summary>The RSS (MiB) of the trivial NativeAOT program <c>scripts/bench</c> publishes, once it waits.</summary>
    private static async Task<double> NativeAotFloorMiBAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(BenchSupport.RepositoryRoot(), "artifacts", "bench-floor", "cocoon-bench-floor");
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"no NativeAOT floor program at {path}; run ./scripts/bench, which publishes it");
        }

        using var process = BenchSupport.Start(path, [], null, keepStdin: true);
        try
        {
            var ready = await process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            if (ready != "ready")
            {
                throw new InvalidOperationException($"the NativeAOT floor program said '{ready}'");
            }

            return await SteadyRssMiBAsync(process.Id, cancellationToken);
        }
        finally
        {
            process.StandardInput.WriteLine();
            process.StandardInput.Close();
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
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
