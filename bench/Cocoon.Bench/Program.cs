// Copyright (c) Cocoon contributors. Licensed under the MIT License.

// cocoon-bench --list | NAME... (docs/architecture.md §2.9). `--worker NAME ...` is the hidden child-process
// mode some benchmarks spawn.
using Cocoon.Bench;
using Cocoon.Bench.Benchmarks;

IBenchmark[] benchmarks =
[
    new CidAllocBenchmark(),
    new BootBenchmark(),
    new BoxMemoryBenchmark(),
    new ExecRttBenchmark(),
    new VsockThroughputBenchmark(),
    new ExecStdioBenchmark(),
    new PortForwardBenchmark(),
    new SocketForwardBenchmark(),
    new ImagePullBenchmark(),
    new RootfsBuildBenchmark(),
    new ContainerRunBenchmark(),
    new DockerInBoxBenchmark(),
    new CopyBenchmark(),
    new VolumeBenchmark(),
    new ShimRunBenchmark(),
];

if (args.Length >= 2 && args[0] == "--worker")
{
    return args[1] switch
    {
        "cid-alloc" => CidAllocBenchmark.RunWorker(args[2..]),
        _ => 2,
    };
}

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: cocoon-bench --list | NAME...");
    return args.Length == 0 ? 2 : 0;
}

if (args[0] == "--list")
{
    foreach (var benchmark in benchmarks)
    {
        Console.WriteLine($"{benchmark.Name,-16} {benchmark.Description}");
    }

    return 0;
}

var unknown = args.Where(a => benchmarks.All(b => b.Name != a)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"error: unknown benchmark {string.Join(", ", unknown)}; see --list");
    return 2;
}

foreach (var name in args)
{
    Console.WriteLine($"== {name}");
    try
    {
        await benchmarks.Single(b => b.Name == name).RunAsync(Console.Out, CancellationToken.None);
    }
    catch (BenchmarkFailedException e)
    {
        Console.Error.WriteLine($"error: {name}: {e.Message}");
        return 1;
    }
}

return 0;
