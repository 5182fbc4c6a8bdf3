// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Tests.Common.Images;

/// <summary>Builds OCI image layouts with umoci from layer tars made by the caller.</summary>
public static class OciLayouts
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(300);

    /// <summary>
    /// Creates (or adds to) the layout at <paramref name="layout"/> an image tagged <paramref name="tag"/>
    /// with the given layers, bottom first. <paramref name="config"/> are umoci's <c>--config.*</c> flags
    /// (default: ENTRYPOINT /bin/sh and COCOON_TEST=1).
    /// </summary>
    public static async Task BuildAsync(string layout, string tag, IReadOnlyList<byte[]> layers, string? architecture = null, IReadOnlyList<string>? config = null)
    {
        if (!Directory.Exists(layout))
        {
            await Umoci("init", "--layout", layout);
        }

        await Umoci("new", "--image", $"{layout}:{tag}");
        var scratch = Directory.CreateTempSubdirectory("layer-").FullName;
        try
        {
            for (var i = 0; i < layers.Count; i++)
            {
                var file = Path.Combine(scratch, $"layer{i}.tar");
                await File.WriteAllBytesAsync(file, layers[i]);
                await Umoci("raw", "add-layer", "--image", $"{layout}:{tag}", file);
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }

        await Umoci(["config", "--image", $"{layout}:{tag}", .. config ?? ["--config.entrypoint", "/bin/sh", "--config.env", "COCOON_TEST=1"],
            "--architecture", architecture ?? "amd64", "--os", "linux"]);
    }

    private static async Task Umoci(params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync("umoci", arguments, Timeout);
        Check(result.ExitCode == 0, $"umoci {string.Join(' ', arguments)}: {result.Stderr}");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
