// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon stop [-t SECONDS] NAME</c>: as docker stop, the box's processes get SIGTERM and
/// SECONDS to exit before SIGKILL; then the guest powers off.
/// </summary>
internal static class StopCommand
{
    private static readonly Argument<string> NameArgument = new("NAME") { Description = "The box." };

    private static readonly Option<int?> TimeOption = NumberOption.Create(
        "--time", "Seconds the box's processes get after SIGTERM before SIGKILL [default: 10].", "-t");

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("stop", "Stop a running box.") { NameArgument, TimeOption };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(NameArgument);
            var seconds = parseResult.GetValue(TimeOption) ?? 10;
            if (seconds < 0)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"--time {seconds} is negative; give seconds >= 0");
            }

            await context.Runtime.StopAsync(name, TimeSpan.FromSeconds(seconds), cancellationToken);
            context.Out.WriteLine(name);
            return (int)ExitCode.Ok;
        });
        return command;
    }
}
