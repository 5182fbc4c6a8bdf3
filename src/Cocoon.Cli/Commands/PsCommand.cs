// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Globalization;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon ps [-a] [BOX]</c>: the running containers of every running box (or of one), as a table; <c>-a</c> adds the exited ones, as in Docker.</summary>
internal static class PsCommand
{
    private static readonly Argument<string> BoxArgument = new("BOX") { Description = "Only this box's containers.", Arity = ArgumentArity.ZeroOrOne };
    private static readonly Option<bool> AllOption = new("--all", "-a") { Description = "Show exited containers too (only running ones by default)." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("ps", "List the containers of running boxes.") { AllOption, BoxArgument };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var only = parseResult.GetValue(BoxArgument);
            var all = parseResult.GetValue(AllOption);
            var names = only is not null
                ? [only]
                : context.Runtime.ListBoxes().Where(b => b.State == BoxState.Running && b.Config.Image is not null).Select(b => b.Name).ToList();
            var rows = new List<string[]> { new[] { "BOX", "CONTAINER", "IMAGE", "COMMAND", "CREATED", "STATUS" } };
            foreach (var name in names)
            {
                await using var box = context.Runtime.GetBox(name);
                foreach (var container in (await box.ListContainersAsync(cancellationToken)).Where(c => all || c.Exit is null))
                {
                    var command = string.Join(' ', container.Command);
                    rows.Add(
                    [
                        name,
                        container.Name,
                        container.Image,
                        command.Length > 40 ? command[..37] + "..." : command,
                        container.Created.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                        container.Exit is { } exit ? $"exited ({exit.ShellExitCode})" : "running",
                    ]);
                }
            }

            ListCommand.WriteTable(context.Out, rows);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
