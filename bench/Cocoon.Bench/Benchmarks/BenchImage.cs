// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Formats.Tar;
using Cocoon.Tests.Common.Images;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// The image the image benchmarks pull and unpack: about 100 MiB in four layers of 25 files of
/// 1 MiB each, seeded pseudo-random bytes (so gzip cannot shrink them, and every run builds the
/// same image), built with umoci and pushed with skopeo to a docker-registry on loopback.
/// </summary>
internal sealed class BenchImage : IAsyncDisposable
{
    public const int Layers = 4;
    public const int FilesPerLayer = 25;
    public const int FileSize = 1 << 20;

    private BenchImage(LocalRegistry registry, string directory)
    {
        Registry = registry;
        Directory = directory;
    }

    public LocalRegistry Registry { get; }

    /// <summary>Scratch space for the benchmark (deleted on dispose).</summary>
    public string Directory { get; }

    public string Reference => $"{Registry.Host}/bench/big:1";

    public static async Task<BenchImage> CreateAsync(TextWriter output)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("cb-image-").FullName;
        var registry = await LocalRegistry.StartAsync(Path.Combine(directory, "registry"));
        var image = new BenchImage(registry, directory);
        try
        {
            var layers = Enumerable.Range(0, Layers).Select(MakeLayer).ToList();
            var layout = Path.Combine(directory, "layout");
            await OciLayouts.BuildAsync(layout, "big", layers);
            await registry.PushLayoutAsync(layout, "big", "bench/big:1");
            output.WriteLine($"image {image.Reference}: {Layers} layers x {FilesPerLayer} files x {FileSize >> 20} MiB of seeded random bytes ({layers.Sum(l => (long)l.Length) >> 20} MiB of tar)");
            return image;
        }
        catch
        {
            await image.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Registry.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static byte[] MakeLayer(int layer)
    {
        var random = new Random(1000 + layer);
        using var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, $"data{layer}") { Mode = (UnixFileMode)0b111_101_101 });
            for (var file = 0; file < FilesPerLayer; file++)
            {
                var bytes = new byte[FileSize];
                random.NextBytes(bytes);
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"data{layer}/file{file}")
                {
                    Mode = (UnixFileMode)0b110_100_100,
                    DataStream = new MemoryStream(bytes),
                });
            }
        }

        return stream.ToArray();
    }
}
