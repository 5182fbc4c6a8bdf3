// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Common.Images;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// container-run: what a container costs over a bare box, as whole commands a user types:
/// <c>cocoon run --rm IMAGE true</c> (the image already pulled: its disks attached, the agent's
/// overlay, crun) against <c>cocoon run --rm -- true</c> (the built-in environment) through the
/// published CLI. Both boot a fresh box each round; rounds alternate; the figure is the ratio of the
/// medians (lower is better).
/// </summary>
internal sealed class ContainerRunBenchmark : IBenchmark
{
    // One box's time spreads widely under TCG: with seven rounds, runs of one build printed 1.08x to
    // 1.25x; with fifteen, 1.19x and 1.20x.
    private const int Rounds = 15;
    private const string Repository = "bench/busybox:1";

    public string Name => "container-run";

    public string Description => "cocoon run IMAGE true (image cached) vs cocoon run -- true, fresh box each (goal <= 1.15x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        var scratch = Directory.CreateTempSubdirectory("cb-ctr-").FullName;
        var registry = await LocalRegistry.StartAsync(Path.Combine(scratch, "registry"));
        try
        {
            var layout = Path.Combine(scratch, "layout");
            await OciLayouts.BuildAsync(layout, "bb", [BusyboxLayer.Build()], config: ["--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
            await registry.PushLayoutAsync(layout, "bb", Repository);
            var image = $"{registry.Host}/{Repository}";
            await BenchSupport.RunCheckedAsync(cli, ["pull", "-q", image], home, TimeSpan.FromMinutes(2), cancellationToken);
            string[] container = ["run", "--rm", image, "true"];
            string[] bare = ["run", "--rm", "--", "true"];

            // Warm-up (page cache, the guest image cache), not counted.
            await BenchSupport.RunCheckedAsync(cli, container, home, TimeSpan.FromMinutes(3), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, bare, home, TimeSpan.FromMinutes(3), cancellationToken);

            var withImage = new List<double>();
            var builtIn = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                withImage.Add((await BenchSupport.RunCheckedAsync(cli, container, home, TimeSpan.FromMinutes(3), cancellationToken)).Ms);
                builtIn.Add((await BenchSupport.RunCheckedAsync(cli, bare, home, TimeSpan.FromMinutes(3), cancellationToken)).Ms);
            }

            output.WriteLine($"cocoon run --rm {image} true: {BenchSupport.Describe(withImage)}");
            output.WriteLine($"cocoon run --rm -- true:{new string(' ', image.Length + 6)}{BenchSupport.Describe(builtIn)}");
            output.WriteLine(Report.Figure("container-run-overhead", Report.Median(withImage) / Report.Median(builtIn), "x", "<=", 1.15));
        }
        finally
        {
            await registry.DisposeAsync();
            Directory.Delete(scratch, recursive: true);
            BenchSupport.CleanUpHome(home, output);
        }
    }
}
