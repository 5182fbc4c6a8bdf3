// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.Oci.Content;
using Cocoon.Oci.Registry;
using Cocoon.State;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// image-pull: fetching a ~100 MiB, four-layer image from a docker-registry on loopback into a fresh
/// content store (manifest, config, layers; every blob hashed and size-checked while it streams, as
/// skopeo does), against <c>skopeo copy docker://… oci:…</c> of the same image into a fresh layout.
/// Rounds alternate; the figure is skopeo's median ÷ ours. <c>cocoon pull</c> then also builds the
/// ext4 root file system; that step is the rootfs-build benchmark's.
/// </summary>
internal sealed class ImagePullBenchmark : IBenchmark
{
    private const int Rounds = 5;

    public string Name => "image-pull";

    public string Description => "pull of a ~100 MiB 4-layer image from a local registry vs skopeo copy to an OCI layout (goal >= 1.2x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        await using var image = await BenchImage.CreateAsync(output);
        var ours = new List<double>();
        var skopeo = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            skopeo.Add(await SkopeoAsync(image, Path.Combine(image.Directory, $"skopeo-{round}"), cancellationToken));
            ours.Add(await PullAsync(image, Path.Combine(image.Directory, $"store-{round}"), cancellationToken));
        }

        output.WriteLine($"cocoon pull into the store: {BenchSupport.Describe(ours)}");
        output.WriteLine($"skopeo copy docker:// oci:  {BenchSupport.Describe(skopeo)}");
        output.WriteLine(Report.Figure("image-pull", Report.Median(skopeo) / Report.Median(ours), "x", ">=", 1.2));
    }

    private static async Task<double> PullAsync(BenchImage image, string directory, CancellationToken cancellationToken)
    {
        var store = new ImageStore(directory, StateFiles.Instance);
        using var registry = new RegistryClient(_ => null);
        var start = Stopwatch.GetTimestamp();
        await new ImagePuller(registry, store).PullAsync(Oci.ImageReference.Parse(image.Reference), null, cancellationToken);
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        Directory.Delete(directory, recursive: true);
        return ms;
    }

    private static async Task<double> SkopeoAsync(BenchImage image, string layout, CancellationToken cancellationToken)
    {
        var (ms, _) = await BenchSupport.RunCheckedAsync(
            "skopeo", ["copy", "--quiet", "--src-tls-verify=false", $"docker://{image.Reference}", $"oci:{layout}:big"], null, TimeSpan.FromMinutes(5), cancellationToken);
        Directory.Delete(layout, recursive: true);
        return ms;
    }
}
