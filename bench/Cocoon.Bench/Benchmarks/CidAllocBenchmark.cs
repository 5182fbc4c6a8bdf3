// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cocoon.State;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// CID allocation against the bare cycle any crash-safe, multi-process update pays, both in the
/// same run on the same disk.
/// </summary>
/// <remarks>
/// The bare cycle does what <see cref="StateStore"/> does minus the JSON and the CID search: flock,
/// read, sweep stale temp files, write a uniquely named temp file, fsync it, rename it into place,
/// fsync the directory. It writes back what it read plus the bytes one more table entry takes, so
/// its file grows as the CID table does.
/// <code>
///   single     one process, each round one bare cycle and one CidAllocator.Allocate, the two
///              taking turns to go first: the median over rounds of allocation ÷ bare cycle
///   contended  8 processes on one lock, all doing bare cycles, and 8 all allocating, the two
///              phases taking turns to go first, seven rounds: the median over rounds of
///              allocations per second ÷ bare cycles per second (each phase timed from the
///              first worker's start to the last one's end)
/// </code>
/// Every CID handed out is held until the phase ends, so two holders of one CID show as a
/// duplicate in the set of returned CIDs; afterwards every CID is released and the table must be
/// empty. Either failure fails the run.
/// </remarks>
internal sealed class CidAllocBenchmark : IBenchmark
{
    private const int Workers = 8;
    private const int ContendedPerWorker = 40;
    private const int SingleRounds = 200;
    private const int WarmUpRounds = 60;
    private const int ContendedRounds = 7;

    // The bytes one entry adds to cids.json, e.g. ,"123":"w3-17" (the bare file grows by as much).
    private const int EntryBytes = 16;

    public string Name => "cid-alloc";

    public string Description => "CID allocation vs a bare flock+read+write+fsync+rename cycle, 1 and 8 processes (goal <= 1.2x, >= 0.8x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("cocoon-bench-").FullName;
        try
        {
            // Single process (a worker, so that it runs optimised code as the others do).
            var singleHome = Path.Combine(root, "single");
            var (bare, allocations, cids) = await RunSingleWorkerAsync(singleHome, cancellationToken);
            CheckCids("single", cids, singleHome);

            // Eight processes on one lock.
            var contendedHome = Path.Combine(root, "contended");
            Directory.CreateDirectory(contendedHome);
            // Each round runs both phases, and they take turns going first, so that whatever running
            // second costs (the first phase's exits and writeback settling) falls on both sides alike.
            var bareRates = new List<double>();
            var allocRates = new List<double>();
            var contendedCids = 0;
            for (var round = 0; round < ContendedRounds; round++)
            {
                var bareFirst = round % 2 == 0;
                var firstRun = await RunWorkersAsync(bareFirst ? "bare" : "alloc", contendedHome, cancellationToken);
                var secondRun = await RunWorkersAsync(bareFirst ? "alloc" : "bare", contendedHome, cancellationToken);
                var (bareRun, allocRun) = bareFirst ? (firstRun, secondRun) : (secondRun, firstRun);
                CheckCids("contended", allocRun.Cids, contendedHome);
                bareRates.Add(bareRun.Operations / bareRun.Seconds);
                allocRates.Add(allocRun.Operations / allocRun.Seconds);
                contendedCids += allocRun.Cids.Count;
            }

            var bareRate = Report.Median(bareRates);
            var allocRate = Report.Median(allocRates);
            // Each round's allocation rate against the bare rate measured beside it, so that a load that
            // comes and goes on the host cancels out; the figure is the median of those ratios.
            var ratio = Report.Median([.. allocRates.Zip(bareRates, (alloc, bare) => alloc / bare)]);
            output.WriteLine($"single: {SingleRounds} allocations, median {Report.Number(Report.Median(allocations))}ms (p90 {Report.Number(Report.Percentile(allocations, 90))}ms); " +
                $"bare cycle median {Report.Number(Report.Median(bare))}ms (p90 {Report.Number(Report.Percentile(bare, 90))}ms)");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"contended: {Workers} processes x {ContendedPerWorker}, median of {ContendedRounds} alternating rounds: {Report.Number(allocRate)} allocations/s ({string.Join(", ", allocRates.Select(Report.Number))}), {Report.Number(bareRate)} bare cycles/s ({string.Join(", ", bareRates.Select(Report.Number))})"));
            output.WriteLine($"CIDs handed out: {cids.Count + contendedCids}; duplicate CIDs: 0; CIDs left after release: 0");
            output.WriteLine(Report.Figure("cid-alloc-single", Report.Median([.. allocations.Zip(bare, (alloc, cycle) => alloc / cycle)]), "x", "<=", 1.2));
            output.WriteLine(Report.Figure("cid-alloc-contended", ratio, "x", ">=", 0.8));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Worker: MODE (alloc|bare) HOME ID COUNT. Warms up, prints "ready", waits for a line, then does
    /// COUNT operations and prints "span START END" (Stopwatch timestamps) and "cids C1,C2,...".
    /// Or: single HOME. Runs the single-process rounds and prints "bare MS,...", "alloc MS,..." and
    /// "cids CID:OWNER,...".
    /// </summary>
    public static int RunWorker(string[] args)
    {
        if (args[0] == "single")
        {
            var (bareTimes, allocationTimes, held) = RunSingle(args[1]);
            Console.WriteLine("bare " + string.Join(',', bareTimes.Select(t => t.ToString("R", CultureInfo.InvariantCulture))));
            Console.WriteLine("alloc " + string.Join(',', allocationTimes.Select(t => t.ToString("R", CultureInfo.InvariantCulture))));
            Console.WriteLine("cids " + string.Join(',', held.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Cid}:{c.Owner}"))));
            return 0;
        }

        var mode = args[0];
        var home = args[1];
        var id = args[2];
        var count = int.Parse(args[3], CultureInfo.InvariantCulture);
        var allocator = new CidAllocator(new CocoonPaths(home));
        var bareFile = Path.Combine(home, "bare.json");

        // Warm up both paths until tiered JIT has settled, on a state root of this worker's own.
        var warmHome = Directory.CreateDirectory(Path.Combine(home, $"warm-{id}")).FullName;
        WarmUp(warmHome);
        Console.WriteLine("ready");
        Console.Out.Flush();
        Console.ReadLine();

        var cids = new List<uint>(count);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            if (mode == "alloc")
            {
                cids.Add(allocator.Allocate($"w{id}-{i}"));
            }
            else
            {
                BareCycle(bareFile);
            }
        }

        var end = Stopwatch.GetTimestamp();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"span {start} {end}"));
        Console.WriteLine("cids " + string.Join(',', cids));
        return 0;
    }

    private static (List<double> Bare, List<double> Allocations, List<(uint Cid, string Owner)> Cids) RunSingle(string home)
    {
        Directory.CreateDirectory(home);
        var allocator = new CidAllocator(new CocoonPaths(home));
        var bareFile = Path.Combine(home, "bare.json");
        File.WriteAllText(bareFile, "{}");
        WarmUp(Directory.CreateDirectory(Path.Combine(home, "warm")).FullName);

        var bare = new List<double>(SingleRounds);
        var allocations = new List<double>(SingleRounds);
        var cids = new List<(uint, string)>(SingleRounds);
        for (var i = 0; i < SingleRounds; i++)
        {
            // Each side goes first in every other round: an operation that closely follows another's
            // fsyncs can wait on that one's journal commit, and that wait must fall on both sides alike.
            if (i % 2 == 0)
            {
                bare.Add(TimeBare());
                cids.Add(TimeAllocation(i));
            }
            else
            {
                cids.Add(TimeAllocation(i));
                bare.Add(TimeBare());
            }
        }

        double TimeBare()
        {
            var start = Stopwatch.GetTimestamp();
            BareCycle(bareFile);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        (uint, string) TimeAllocation(int round)
        {
            var owner = $"s-{round}";
            var start = Stopwatch.GetTimestamp();
            var cid = allocator.Allocate(owner);
            allocations.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            return (cid, owner);
        }

        return (bare, allocations, cids);
    }

    private static async Task<(List<double> Bare, List<double> Allocations, List<(uint Cid, string Owner)> Cids)> RunSingleWorkerAsync(string home, CancellationToken cancellationToken)
    {
        using var worker = StartWorker("single", home);
        var text = await worker.StandardOutput.ReadToEndAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(300), cancellationToken);
        await worker.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        if (worker.ExitCode != 0)
        {
            throw new BenchmarkFailedException($"the cid-alloc single worker exited {worker.ExitCode}");
        }

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', 2))
            .ToDictionary(parts => parts[0], parts => parts.Length > 1 ? parts[1].Split(',') : []);
        List<double> Times(string key) => [.. lines[key].Select(t => double.Parse(t, CultureInfo.InvariantCulture))];
        var cids = lines["cids"].Select(entry => entry.Split(':', 2)).Select(pair => (uint.Parse(pair[0], CultureInfo.InvariantCulture), pair[1])).ToList();
        return (Times("bare"), Times("alloc"), cids);
    }

    // Every worker runs fully optimised code from the first call, as the NativeAOT CLI does: with
    // tiering, an allocation timed before its tier-1 recompile pays for slower JSON (and, contended,
    // holds the lock while it does, so the others queue behind it).
    private static Process StartWorker(params string[] args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_TieredCompilation"] = "0";
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cocoon-bench.dll"));
        info.ArgumentList.Add("--worker");
        info.ArgumentList.Add("cid-alloc");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    private static async Task<(int Operations, double Seconds, List<(uint Cid, string Owner)> Cids)> RunWorkersAsync(string mode, string home, CancellationToken cancellationToken)
    {
        File.WriteAllText(Path.Combine(home, "bare.json"), "{}");
        var processes = Enumerable.Range(0, Workers)
            .Select(id => StartWorker(mode, home, id.ToString(CultureInfo.InvariantCulture), ContendedPerWorker.ToString(CultureInfo.InvariantCulture)))
            .ToList();

        try
        {
            // Start together once every worker is warm.
            foreach (var p in processes)
            {
                var ready = await p.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
                if (ready != "ready")
                {
                    throw new BenchmarkFailedException($"a cid-alloc {mode} worker did not start (said '{ready}', exited: {p.HasExited})");
                }
            }

            foreach (var p in processes)
            {
                await p.StandardInput.WriteLineAsync("go");
                await p.StandardInput.FlushAsync(cancellationToken);
            }

            long first = long.MaxValue, last = long.MinValue;
            var cids = new List<(uint, string)>();
            for (var worker = 0; worker < processes.Count; worker++)
            {
                var p = processes[worker];
                var text = await p.StandardOutput.ReadToEndAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(300), cancellationToken);
                await p.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
                if (p.ExitCode != 0)
                {
                    throw new BenchmarkFailedException($"a cid-alloc {mode} worker exited {p.ExitCode}");
                }

                foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var parts = line.Split(' ', 3);
                    if (parts[0] == "span")
                    {
                        first = Math.Min(first, long.Parse(parts[1], CultureInfo.InvariantCulture));
                        last = Math.Max(last, long.Parse(parts[2], CultureInfo.InvariantCulture));
                    }
                    else if (parts[0] == "cids" && parts.Length > 1)
                    {
                        var held = parts[1].Split(',').Select(c => uint.Parse(c, CultureInfo.InvariantCulture)).ToList();
                        cids.AddRange(held.Select((cid, i) => (cid, $"w{worker}-{i}")));
                    }
                }
            }

            var seconds = (last - first) / (double)Stopwatch.Frequency;
            return (Workers * ContendedPerWorker, seconds, cids);
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited)
                {
                    p.Kill();
                }

                p.Dispose();
            }
        }
    }

    // Enough rounds of both paths for tiered compilation to reach its optimised code (30 calls, then a
    // background recompile), so neither side is timed on first-tier code.
    private static void WarmUp(string home)
    {
        var allocator = new CidAllocator(new CocoonPaths(home));
        var file = Path.Combine(home, "bare.json");
        File.WriteAllText(file, "{}");
        for (var i = 0; i < WarmUpRounds; i++)
        {
            BareCycle(file);
            allocator.Release(allocator.Allocate("warm"), "warm");
        }

        Thread.Sleep(200);
    }

    // Fails the run when a CID was handed out twice while held, or when releasing every CID handed
    // out leaves anything in the table.
    private static void CheckCids(string phase, List<(uint Cid, string Owner)> handedOut, string home)
    {
        var duplicates = handedOut.GroupBy(c => c.Cid).Where(g => g.Count() > 1).ToList();
        if (duplicates.Count > 0)
        {
            throw new BenchmarkFailedException($"{phase}: duplicate CIDs: " + string.Join(", ", duplicates.Select(g => $"{g.Key} held by {string.Join(" and ", g.Select(c => c.Owner))}")));
        }

        var allocator = new CidAllocator(new CocoonPaths(home));
        var notReleased = handedOut.Where(c => !allocator.Release(c.Cid, c.Owner)).ToList();
        var left = allocator.Snapshot();
        if (notReleased.Count > 0 || left.Count > 0)
        {
            throw new BenchmarkFailedException(
                $"{phase}: leftover CIDs: {notReleased.Count} not held by their owner at release; table after release: " +
                string.Join(", ", left.Select(pair => $"{pair.Key}={pair.Value}")));
        }
    }

    // One bare update cycle, StateStore's syscalls without its JSON: lock, read, sweep temp files,
    // write + fsync a unique temp file, rename, fsync the directory.
    private static void BareCycle(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        using (StateStore.Lock(path))
        {
            var bytes = File.ReadAllBytes(path);
            foreach (var stale in Directory.EnumerateFiles(directory, Path.GetFileName(path) + ".*.tmp"))
            {
                File.Delete(stale);
            }

            var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Write(Encoding.ASCII.GetBytes(new string(' ', EntryBytes)));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
            StateStore.FsyncDirectory(directory);
        }
    }
}
