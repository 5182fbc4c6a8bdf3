// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// docker-in-box: what a Docker daemon in a box costs, as a user meets it, with a dind image of this
/// machine's Debian packages (<see cref="DindLayer"/>) and Debian's docker CLI (/usr/bin/docker):
/// <list type="bullet">
/// <item><c>dockerd-ready</c>: from <c>cocoon run --support-docker -d --socket-forward SOCK:/var/run/docker.sock DIND</c>
/// until <c>docker version</c> answers on the host through that forward (polled every 50 ms), against
/// <c>cocoon run --rm --entrypoint true DIND</c>; a fresh box each, rounds alternate, ratio of medians.</item>
/// <item><c>docker-run-vs-exec</c>: in one such box, <c>docker run --rm busybox true</c> against
/// <c>cocoon exec BOX true</c>, p50 of 20 each.</item>
/// </list>
/// </summary>
internal sealed class DockerInBoxBenchmark : IBenchmark
{
    private const int ReadyRounds = 3;
    private const int RunRounds = 20;
    private const string DockerCli = "/usr/bin/docker";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    public string Name => "docker-in-box";

    public string Description => "dockerd ready on the host vs cocoon run IMAGE true (goal <= 2.5x); docker run --rm vs cocoon exec (goal <= 10x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        var scratch = Directory.CreateTempSubdirectory("cb-dkr-").FullName;
        var registry = await LocalRegistry.StartAsync(Path.Combine(scratch, "registry"));
        try
        {
            var layout = Path.Combine(scratch, "layout");
            await OciLayouts.BuildAsync(layout, "dind", [await DindLayer.BuildAsync()], config: DindLayer.ImageConfig);
            await registry.PushLayoutAsync(layout, "dind", "bench/dind:1");
            var image = $"{registry.Host}/bench/dind:1";
            await OciLayouts.BuildAsync(layout, "busybox", [BusyboxLayer.Build()], config: ["--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
            var busybox = Path.Combine(scratch, "busybox.tar");
            await BenchSupport.RunCheckedAsync("skopeo", ["copy", "--quiet", $"oci:{layout}:busybox", $"docker-archive:{busybox}:busybox:latest"], null, Timeout, cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["pull", "-q", image], home, Timeout, cancellationToken);
            string[] baseline = ["run", "--rm", "--entrypoint", "true", image];

            // Warm-up (page cache, both guest images), not counted.
            await BenchSupport.RunCheckedAsync(cli, baseline, home, Timeout, cancellationToken);
            var socket = Path.Combine(scratch, "docker.sock");
            await StartDockerBoxAsync(cli, home, image, "dw", socket, cancellationToken);

            var ready = new List<double>();
            var plain = new List<double>();
            for (var round = 0; round < ReadyRounds; round++)
            {
                plain.Add((await BenchSupport.RunCheckedAsync(cli, baseline, home, Timeout, cancellationToken)).Ms);
                ready.Add(await StartDockerBoxAsync(cli, home, image, $"d{round}", socket, cancellationToken));
            }

            // dN of the last round stays up for the second figure.
            var box = $"d{ReadyRounds - 1}";
            var docker = Docker(socket);
            await BenchSupport.RunCheckedAsync(DockerCli, [.. docker, "load", "-q", "-i", busybox], null, Timeout, cancellationToken);
            string[] dockerRun = [.. docker, "run", "--rm", "busybox", "true"];
            string[] exec = ["exec", box, "true"];
            await BenchSupport.RunCheckedAsync(DockerCli, dockerRun, null, Timeout, cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, exec, home, Timeout, cancellationToken);
            var runs = new List<double>();
            var execs = new List<double>();
            for (var round = 0; round < RunRounds; round++)
            {
                runs.Add((await BenchSupport.RunCheckedAsync(DockerCli, dockerRun, null, Timeout, cancellationToken)).Ms);
                execs.Add((await BenchSupport.RunCheckedAsync(cli, exec, home, Timeout, cancellationToken)).Ms);
            }

            output.WriteLine($"cocoon run --support-docker -d DIND until docker version answers: {BenchSupport.Describe(ready)}");
            output.WriteLine($"cocoon run --rm --entrypoint true DIND:                         {BenchSupport.Describe(plain)}");
            output.WriteLine($"docker run --rm busybox true (in the box):                      {BenchSupport.Describe(runs)}");
            output.WriteLine($"cocoon exec BOX true:                                           {BenchSupport.Describe(execs)}");
            output.WriteLine(Report.Figure("dockerd-ready", Report.Median(ready) / Report.Median(plain), "x", "<=", 2.5));
            output.WriteLine(Report.Figure("docker-run-vs-exec", Report.Median(runs) / Report.Median(execs), "x", "<=", 10));
        }
        finally
        {
            try
            {
                await RemoveDockerBoxesAsync(cli, home, CancellationToken.None);
            }
            catch (InvalidOperationException e)
            {
                output.WriteLine($"cleanup: {e.Message}");
            }

            await registry.DisposeAsync();
            Directory.Delete(scratch, recursive: true);
            BenchSupport.CleanUpHome(home, output);
        }
    }

    /// <summary>
    /// Removes the previous Docker box, then times <c>cocoon run --support-docker -d</c> of a new one,
    /// whose docker.sock the box serves at <paramref name="socket"/> for its lifetime, until
    /// <c>docker version</c> answers there.
    /// </summary>
    private static async Task<double> StartDockerBoxAsync(string cli, string home, string image, string name, string socket, CancellationToken cancellationToken)
    {
        await RemoveDockerBoxesAsync(cli, home, cancellationToken);
        var start = Stopwatch.GetTimestamp();
        await BenchSupport.RunCheckedAsync(
            cli, ["run", "--support-docker", "-d", "--name", name, "--socket-forward", $"{socket}:/var/run/docker.sock", image], home, Timeout, cancellationToken);
        string[] version = [.. Docker(socket), "version", "--format", "{{.Server.Version}}"];
        while ((await BenchSupport.RunAsync(DockerCli, version, null, Timeout, cancellationToken)).Code != 0)
        {
            if (Stopwatch.GetElapsedTime(start) > Timeout)
            {
                throw new BenchmarkFailedException($"dockerd in box '{name}' did not answer within {Timeout.TotalMinutes} minutes");
            }

            await Task.Delay(50, cancellationToken);
        }

        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>Removes every Docker box (<c>d*</c>); the stop of each removes its docker.sock on the host.</summary>
    private static async Task RemoveDockerBoxesAsync(string cli, string home, CancellationToken cancellationToken)
    {
        var boxes = Path.Combine(home, "boxes");
        foreach (var box in Directory.Exists(boxes) ? Directory.EnumerateDirectories(boxes).Select(Path.GetFileName).Where(b => b!.StartsWith('d')) : [])
        {
            await BenchSupport.RunCheckedAsync(cli, ["rm", "-f", box!], home, Timeout, cancellationToken);
        }
    }

    private static string[] Docker(string socket) => ["-H", $"unix://{socket}"];
}
