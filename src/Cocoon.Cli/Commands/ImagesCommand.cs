// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Globalization;
using Cocoon.Oci;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon images</c>: the images in the local store.</summary>
internal static class ImagesCommand
{
    private static readonly Option<bool> QuietOption = new("--quiet", "-q") { Description = "Print only the references." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("images", "List images.") { QuietOption };
        command.SetAction(parseResult =>
        {
            var images = context.Runtime.Images.List();
            if (parseResult.GetValue(QuietOption))
            {
                foreach (var image in images)
                {
                    context.Out.WriteLine(image.Reference);
                }

                return (int)ExitCode.Ok;
            }

            var rows = new List<string[]> { new[] { "REFERENCE", "DIGEST", "SIZE", "CREATED" } };
            rows.AddRange(images.Select(i => new[]
            {
                i.Reference,
                OciDigest.Short(i.Digest),
                (i.Size / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
                i.Created.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            }));
            var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
            foreach (var row in rows)
            {
                context.Out.WriteLine(string.Join("   ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }
}
