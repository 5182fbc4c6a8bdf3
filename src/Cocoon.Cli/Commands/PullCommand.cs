// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using Cocoon.Oci;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon pull REF</c>: pulls an image (linux/amd64) and builds its root file system.</summary>
internal static class PullCommand
{
    private static readonly Argument<string> ReferenceArgument = new("REF") { Description = "The image, e.g. busybox or localhost:5000/app:1." };

    private static readonly Option<bool> QuietOption = new("--quiet", "-q") { Description = "Print only the image reference." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("pull", "Pull an image from a registry.") { ReferenceArgument, QuietOption };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var reference = parseResult.GetRequiredValue(ReferenceArgument);
            var quiet = parseResult.GetValue(QuietOption);
            var view = quiet ? null : new PullProgressView(context.Out, context.OutIsTerminal);
            ImageInfo image;
            using (var signals = new SignalCancellation(cancellationToken))
            {
                image = await context.Runtime.Images.PullAsync(reference, view, signals.Token);
            }

            view?.Flush();
            if (!quiet)
            {
                context.Out.WriteLine($"Digest: {image.Digest}");
            }

            context.Out.WriteLine(image.Reference);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>Pulls <paramref name="image"/> when it is not stored, saying so on stderr first, as <c>docker run</c> and <c>docker create</c> do.</summary>
    internal static async Task EnsureStoredAsync(CliContext context, string image, CancellationToken cancellationToken)
    {
        if (context.Runtime.Images.Find(image) is not null)
        {
            return;
        }

        context.Error.WriteLine($"Unable to find image '{image}' locally");
        using var signals = new SignalCancellation(cancellationToken);
        await context.Runtime.Images.PullAsync(image, new PullProgressView(context.Error, terminal: false), signals.Token);
    }
}
