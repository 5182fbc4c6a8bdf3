// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using Cocoon.Oci;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon load -i FILE</c>: loads the images of an OCI layout tar or a docker save tar.</summary>
internal static class LoadCommand
{
    private static readonly Option<string> InputOption = new("--input", "-i") { Description = "The tar archive (OCI layout or docker save; may be gzipped).", Required = true };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("load", "Load images from a tar archive.") { InputOption };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            IReadOnlyList<ImageInfo> images;
            using (var signals = new SignalCancellation(cancellationToken))
            {
                images = await context.Runtime.Images.LoadAsync(parseResult.GetRequiredValue(InputOption), signals.Token);
            }

            foreach (var image in images)
            {
                context.Out.WriteLine($"Loaded image: {image.Reference}");
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }
}
