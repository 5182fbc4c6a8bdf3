// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using Cocoon.State;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// CID allocation under contention: 8 processes allocate and release CIDs against one temp state
/// root. Each worker claims a marker file per CID it holds (O_EXCL), so two holders of one CID are
/// seen independently of the allocator. Baseline: a bare flock + read + write + fsync + rename
/// cycle, single process, same disk, same run.
/// </summary>
internal sealed class CidAllocBenchmark : IBenchmark
{
    private const int Workers = 8;
    private const int Iterations = 50;
    private const int BaselineRounds = 200;

    public string Name => "cid-alloc";

    public string Description => "median CID allocation time, 8 processes contending (goal <= 1ms)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("cocoon-bench-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "holders"));
            var baseline = MeasureBareCycle(Path.Combine(root, "bare.json"));

            var self = Path.Combine(AppContext.BaseDirectory, "cocoon-bench.dll");
            var processes = Enumerable.Range(0, Workers).Select(id =>
            {
                var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
                {
                    RedirectStandardInput = true,
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                };
                foreach (var a in new[] { self, "--worker", "cid-alloc", root, id.ToString(CultureInfo.InvariantCulture), Iterations.ToString(CultureInfo.InvariantCulture) })
                {
                    info.ArgumentList.Add(a);
                }

                return Process.Start(info)!;
            }).ToList();

            // Start together once every worker is warm.
            foreach (var p in processes)
            {
                await p.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            }

            foreach (var p in processes)
            {
                await p.StandardInput.WriteLineAsync("go");
                await p.StandardInput.FlushAsync(cancellationToken);
            }

            var allocations = new List<double>();
            var duplicates = 0;
            foreach (var p in processes)
            {
                var text = await p.StandardOutput.ReadToEndAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(300), cancellationToken);
                await p.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var parts = line.Split(' ');
                    if (parts[0] == "alloc")
                    {
                        allocations.AddRange(parts[1].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)));
                    }
                    else if (parts[0] == "dup")
                    {
                        duplicates += int.Parse(parts[1], CultureInfo.InvariantCulture);
                    }
                }

                if (p.ExitCode != 0)
                {
                    throw new InvalidOperationException($"a cid-alloc worker exited {p.ExitCode}");
                }

                p.Dispose();
            }

            var leftover = new CidAllocator(new CocoonPaths(root)).Snapshot().Count;
            var median = Report.Median(allocations);
            output.WriteLine($"allocations: {allocations.Count} by {Workers} processes; median {Report.Number(median)}ms, p90 {Report.Number(Report.Percentile(allocations, 90))}ms, max {Report.Number(allocations.Max())}ms");
            output.WriteLine($"baseline bare flock+read+write+fsync+rename cycle (1 process, {BaselineRounds} rounds): median {Report.Number(Report.Median(baseline))}ms, p90 {Report.Number(Report.Percentile(baseline, 90))}ms");
            output.WriteLine($"CIDs left allocated after all releases: {leftover}");
            output.WriteLine($"cid-alloc-duplicates: {duplicates}");
            output.WriteLine(Report.Figure("cid-alloc-median", median, "ms", "<=", 1));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Worker: ROOT ID ITERATIONS. Prints "ready", waits for a line, then "alloc t1,t2,..." and "dup N".</summary>
    public static int RunWorker(string[] args)
    {
        var root = args[0];
        var id = args[1];
        var iterations = int.Parse(args[2], CultureInfo.InvariantCulture);
        var cids = new CidAllocator(new CocoonPaths(root));
        var holders = Path.Combine(root, "holders");

        // Warm up (JIT, file system) on an owner of our own, then wait for the start signal.
        cids.Release(cids.Allocate($"warm-{id}"), $"warm-{id}");
        Console.WriteLine("ready");
        Console.Out.Flush();
        Console.ReadLine();

        var times = new List<double>(iterations);
        var duplicates = 0;
        for (var i = 0; i < iterations; i++)
        {
            var owner = $"w{id}-{i}";
            var start = Stopwatch.GetTimestamp();
            var cid = cids.Allocate(owner);
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);

            var marker = Path.Combine(holders, cid.ToString(CultureInfo.InvariantCulture));
            try
            {
                using (new FileStream(marker, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                }
            }
            catch (IOException)
            {
                duplicates++;
                marker = null;
            }

            if (marker is not null)
            {
                File.Delete(marker);
            }

            cids.Release(cid, owner);
        }

        Console.WriteLine("alloc " + string.Join(',', times.Select(t => t.ToString("0.####", CultureInfo.InvariantCulture))));
        Console.WriteLine($"dup {duplicates}");
        return 0;
    }

    // The floor any crash-safe, multi-process update pays: lock, read, write a temp file, fsync, rename.
    private static List<double> MeasureBareCycle(string path)
    {
        File.WriteAllText(path, "{}");
        var times = new List<double>(BaselineRounds);
        for (var i = 0; i < BaselineRounds; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using (StateStore.Lock(path))
            {
                var bytes = File.ReadAllBytes(path);
                var temp = path + ".tmp";
                using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    stream.Write(bytes);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temp, path, overwrite: true);
            }

            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        return times;
    }
}
