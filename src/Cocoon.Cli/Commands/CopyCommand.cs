// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon cp [BOX:]SRC [BOX:]DST</c>, with <c>docker cp</c>'s rules: exactly one side names a box
/// (<c>BOX:PATH</c>, PATH absolute); a file or directory lands in DST when it is a directory, else as
/// DST (whose directory must exist); SRC ending in <c>/.</c> copies a directory's contents; <c>-</c>
/// as SRC reads a tar stream from stdin and unpacks it into the box directory DST, and as DST writes
/// the tar stream of the box's SRC to stdout. A local path holding ':' is written with a '/' in
/// front of the ':' (<c>./a:b</c>), as in docker. The box path is in a container's file system with
/// <c>--container</c>, and by default in the first running container of a box that runs containers
/// (the same rule as <c>exec</c>), so <c>cocoon cp web:/etc/app.conf .</c> after <c>cocoon run --name
/// web IMAGE</c> reads the file the container sees, as <c>docker cp</c> would.
/// </summary>
internal static class CopyCommand
{
    private static readonly Argument<string> SourceArgument = new("SRC") { Description = "BOX:PATH, a host path, or - (a tar stream on stdin)." };
    private static readonly Argument<string> DestinationArgument = new("DST") { Description = "BOX:PATH, a host path, or - (a tar stream on stdout)." };
    private static readonly ContainerTarget Target = new("The container whose file system PATH is in");

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("cp", "Copy files or directories between the host and a running box, as docker cp: cocoon cp [BOX:]SRC [BOX:]DST (- for a tar stream).")
        {
            SourceArgument, DestinationArgument,
        };
        Target.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var (sourceBox, source) = Split(parseResult.GetRequiredValue(SourceArgument));
            var (destinationBox, destination) = Split(parseResult.GetRequiredValue(DestinationArgument));
            if (sourceBox is not null && destinationBox is not null)
            {
                throw Usage("copying between two boxes is not supported: copy to the host first");
            }

            if (sourceBox is null && destinationBox is null)
            {
                throw Usage("one of SRC and DST must name a box as BOX:PATH (for example web:/tmp/out.txt)");
            }

            var boxName = sourceBox ?? destinationBox!;
            var boxPath = sourceBox is null ? destination : source;
            if (!boxPath.StartsWith('/'))
            {
                throw Usage($"the path in box '{boxName}' must be absolute: '{boxPath}'");
            }

            await using var box = context.Runtime.GetBox(boxName);
            var container = await Target.ResolveAsync(parseResult, context, box, cancellationToken);
            if (destinationBox is not null)
            {
                if (source == "-")
                {
                    await using var stdin = new StandardStream(StandardStream.Input);
                    await box.CopyToAsync(stdin, destination, container, cancellationToken);
                }
                else
                {
                    await box.CopyToAsync(Path.GetFullPath(source) + (source.EndsWith("/.", StringComparison.Ordinal) ? "/." : string.Empty), destination, container, cancellationToken);
                }
            }
            else if (destination == "-")
            {
                await using var stdout = Console.OpenStandardOutput();
                await box.CopyFromAsync(source, stdout, container, cancellationToken);
            }
            else
            {
                await box.CopyFromAsync(source, Path.GetFullPath(destination) + (destination.EndsWith('/') ? "/" : string.Empty), container, cancellationToken);
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>Splits <c>BOX:PATH</c>; a local path (or <c>-</c>) has no box. Pure.</summary>
    internal static (string? Box, string Path) Split(string argument)
    {
        var colon = argument.IndexOf(':', StringComparison.Ordinal);
        var slash = argument.IndexOf('/', StringComparison.Ordinal);
        if (colon <= 0 || slash >= 0 && slash < colon)
        {
            return (null, argument);
        }

        var path = argument[(colon + 1)..];
        return path.Length == 0
            ? throw Usage($"'{argument}' names box '{argument[..colon]}' but no path in it: use {argument[..colon]}:/PATH")
            : (argument[..colon], path);
    }

    private static CocoonException Usage(string message) => new(CocoonErrorCode.InvalidArgument, message);
}
