// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.Oci;
using Cocoon.Oci.Content;
using Cocoon.Oci.Registry;
using Cocoon.Oci.Unpack;
using Cocoon.State;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// rootfs-build: turning the pulled layers of the ~100 MiB image into its read-only ext4 root file
/// system (apply the layers with whiteouts, ownership and bounds, then <c>mke2fs -d</c>) against
/// plain <c>tar -xzf</c> of the same layer blobs, in order, into an empty directory. Both read the
/// same gzip blobs and write to the same file system. Rounds alternate; the figure is ours ÷ tar.
/// </summary>
internal sealed class RootfsBuildBenchmark : IBenchmark
{
    private const int Rounds = 5;

    public string Name => "rootfs-build";

    public string Description => "ext4 root file system of a ~100 MiB 4-layer image vs tar -x of its layers (goal <= 2x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        await using var image = await BenchImage.CreateAsync(output);
        var store = new ImageStore(Path.Combine(image.Directory, "images"), StateFiles.Instance);
        OciManifest manifest;
        using (var registry = new RegistryClient(_ => null))
        {
            (_, manifest) = await new ImagePuller(registry, store).PullAsync(ImageReference.Parse(image.Reference), null, cancellationToken);
        }

        var layers = manifest.Layers!.Select((l, i) => new LayerFile(store.BlobPath(l.Digest!), MediaTypes.LayerCompressionOf(l.MediaType)!.Value, $"layer {i + 1}")).ToList();
        var ours = new List<double>();
        var tar = new List<double>();
        long imageSize = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var extracted = Path.Combine(image.Directory, $"tar-{round}");
            Directory.CreateDirectory(extracted);
            var start = Stopwatch.GetTimestamp();
            foreach (var layer in layers)
            {
                await BenchSupport.RunCheckedAsync("tar", ["-xzf", layer.Path, "-C", extracted], null, TimeSpan.FromMinutes(5), cancellationToken);
            }

            tar.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            Directory.Delete(extracted, recursive: true);

            var output4 = Path.Combine(image.Directory, $"rootfs-{round}.ext4");
            start = Stopwatch.GetTimestamp();
            RootfsBuilder.Build(layers, output4, output4 + ".d", UnpackLimits.Default);
            ours.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            imageSize = new FileInfo(output4).Length;
            File.Delete(output4);
        }

        output.WriteLine($"ext4 root file system ({imageSize >> 20} MiB image): {BenchSupport.Describe(ours)}");
        output.WriteLine($"tar -xzf of the layers:                {BenchSupport.Describe(tar)}");
        output.WriteLine(Report.Figure("rootfs-build", Report.Median(ours) / Report.Median(tar), "x", "<=", 2));
    }
}
