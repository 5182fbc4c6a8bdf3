// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// shim-run: what containerd and the shim add to a container run, as whole commands:
/// <c>ctr run --rm --runtime io.containerd.cocoon.v1 IMAGE ID true</c> (Debian's containerd,
/// started here with its own root, state and socket, the image imported) against
/// <c>cocoon run --rm IMAGE true</c> (the same image pulled). Both boot a fresh box each round;
/// rounds alternate; the figure is the ratio of the medians (lower is better).
/// </summary>
internal sealed class ShimRunBenchmark : IBenchmark
{
    private const int Rounds = 5;
    private const string Repository = "bench/busybox:1";
    private const string Namespace = "cocoon-bench";

    public string Name => "shim-run";

    public string Description => "ctr run --rm --runtime io.containerd.cocoon.v1 IMAGE true vs cocoon run --rm IMAGE true (goal <= 1.2x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var shimDirectory = Path.GetDirectoryName(cli)!;
        if (!File.Exists(Path.Combine(shimDirectory, "containerd-shim-cocoon-v1")))
        {
            throw new BenchmarkFailedException($"containerd-shim-cocoon-v1 is not published next to {cli}; run ./scripts/setup");
        }

        var home = BenchSupport.CreateHome();
        var scratch = Directory.CreateTempSubdirectory("cb-shim-").FullName;
        var registry = await LocalRegistry.StartAsync(Path.Combine(scratch, "registry"));
        System.Diagnostics.Process? containerd = null;
        try
        {
            var layout = Path.Combine(scratch, "layout");
            await OciLayouts.BuildAsync(layout, "bb", [BusyboxLayer.Build()], config: ["--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
            await registry.PushLayoutAsync(layout, "bb", Repository);
            var image = $"{registry.Host}/{Repository}";
            await BenchSupport.RunCheckedAsync(cli, ["pull", "-q", image], home, TimeSpan.FromMinutes(2), cancellationToken);

            var socket = Path.Combine(scratch, "c.sock");
            var config = Path.Combine(scratch, "config.toml");
            await File.WriteAllTextAsync(config, $"""
                version = 2
                root = "{scratch}/root"
                state = "{scratch}/state"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "{socket}"
                """, cancellationToken);
            var environment = new Dictionary<string, string> { ["PATH"] = shimDirectory + ":" + Environment.GetEnvironmentVariable("PATH") };
            containerd = BenchSupport.Start("containerd", ["--config", config], home, environment: environment);
            _ = containerd.StandardOutput.ReadToEndAsync(cancellationToken);
            _ = containerd.StandardError.ReadToEndAsync(cancellationToken);
            await WaitForSocketAsync(socket, containerd, cancellationToken);
            var archive = Path.Combine(scratch, "image.tar");
            await BenchSupport.RunCheckedAsync("tar", ["-C", layout, "-cf", archive, "."], null, TimeSpan.FromMinutes(1), cancellationToken);
            string[] ctr = ["--address", socket, "--namespace", Namespace];
            await BenchSupport.RunCheckedAsync("ctr", [.. ctr, "images", "import", "--base-name", "docker.io/bench/shim", archive], home, TimeSpan.FromMinutes(2), cancellationToken);
            const string ctrImage = "docker.io/bench/shim:bb";

            string[] ViaShim(string id) => [.. ctr, "run", "--rm", "--runtime", "io.containerd.cocoon.v1", ctrImage, id, "true"];
            string[] direct = ["run", "--rm", image, "true"];

            // Warm-up (page cache, the guest image cache), not counted.
            await BenchSupport.RunCheckedAsync("ctr", ViaShim("warm"), home, TimeSpan.FromMinutes(3), cancellationToken, environment);
            await BenchSupport.RunCheckedAsync(cli, direct, home, TimeSpan.FromMinutes(3), cancellationToken);

            var shim = new List<double>();
            var cocoon = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                shim.Add((await BenchSupport.RunCheckedAsync("ctr", ViaShim($"r{round}"), home, TimeSpan.FromMinutes(3), cancellationToken, environment)).Ms);
                cocoon.Add((await BenchSupport.RunCheckedAsync(cli, direct, home, TimeSpan.FromMinutes(3), cancellationToken)).Ms);
            }

            output.WriteLine($"ctr run --rm --runtime io.containerd.cocoon.v1 IMAGE true: {BenchSupport.Describe(shim)}");
            output.WriteLine($"cocoon run --rm IMAGE true:                                {BenchSupport.Describe(cocoon)}");
            output.WriteLine(Report.Figure("shim-overhead", Report.Median(shim) / Report.Median(cocoon), "x", "<=", 1.2));
        }
        finally
        {
            BenchSupport.KillAndDispose(containerd);
            await registry.DisposeAsync();
            await BenchSupport.RunAsync("sh", ["-c", $"grep -o ' {scratch}/[^ ]*' /proc/self/mountinfo | xargs -r -n1 umount -l"], null, TimeSpan.FromMinutes(1), CancellationToken.None);
            Directory.Delete(scratch, recursive: true);
            BenchSupport.CleanUpHome(home, output);
        }
    }

    private static async Task WaitForSocketAsync(string path, System.Diagnostics.Process containerd, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (containerd.HasExited)
            {
                throw new BenchmarkFailedException($"containerd exited with {containerd.ExitCode} before listening on {path}");
            }

            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }
}
