// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon stop [-t SECONDS] NAME</c>: guest power-off, then the supervisor is terminated.</summary>
internal static class StopCommand
{
    private static readonly Argument<string> NameArgument = new("NAME") { Description = "The box." };

    private static readonly Option<int> TimeOption = new("--time", "-t")
    {
        Description = "Seconds to wait for the guest to shut down before killing it.",
        DefaultValueFactory = _ => 10,
    };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("stop", "Stop a running box.") { NameArgument, TimeOption };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(NameArgument);
            var seconds = parseResult.GetValue(TimeOption);
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
