// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon logs [-f] [--tail N] [--console] NAME</c>: the box log (what the box's command printed,
/// and the agent's log), or with <c>--console</c> the guest console (the kernel's messages).
/// <c>-f</c> follows it until the box stops.
/// </summary>
/// <remarks>
/// Every log is a file the box appends to; <see cref="SelectLog"/> is the one place that picks it
/// from the flags, so a new source is one option and one case there.
/// </remarks>
internal static class LogsCommand
{
    private static readonly Argument<string> NameArgument = new("NAME") { Description = "The box." };
    private static readonly Option<bool> FollowOption = new("--follow", "-f") { Description = "Keep printing new output until the box stops (or Ctrl-C)." };
    private static readonly Option<bool> ConsoleOption = new("--console") { Description = "Print the guest console (kernel messages) instead of the box log." };
    private static readonly Option<string> TailOption = new("--tail", "-n") { Description = "Print only the last N lines first (\"all\" for every line) [default: all].", HelpName = "N" };

    /// <summary>How often <c>-f</c> looks for new output.</summary>
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("logs", "Print a box's log: the output of its command (cocoon run) and the agent's messages.") { NameArgument, FollowOption, TailOption, ConsoleOption };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var tail = ParseTail(parseResult.GetValue(TailOption));
            var name = context.Boxes.Get(parseResult.GetRequiredValue(NameArgument)).Name;
            var path = SelectLog(parseResult, context, name);
            var position = 0L;
            var first = ReadFrom(path, ref position);
            context.Out.Write(tail is { } lines ? LastLines(first, lines) : first);
            context.Out.Flush();
            if (!parseResult.GetValue(FollowOption))
            {
                return (int)ExitCode.Ok;
            }

            using var signals = new SignalCancellation(cancellationToken);
            try
            {
                // Until the box stops; then once more for what it wrote last.
                var running = true;
                while (running)
                {
                    running = context.Runtime.Refresh(context.Boxes.Get(name)).State == BoxState.Running;
                    context.Out.Write(ReadFrom(path, ref position));
                    context.Out.Flush();
                    if (running)
                    {
                        await Task.Delay(FollowInterval, signals.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
            {
                // Ctrl-C ends following; it is not an error.
            }

            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>The log file the flags name.</summary>
    private static string SelectLog(ParseResult parseResult, CliContext context, string name) =>
        parseResult.GetValue(ConsoleOption) ? context.Paths.ConsoleLog(name) : context.Paths.BoxLog(name);

    private static int? ParseTail(string? text) => text switch
    {
        null or "all" => null,
        _ when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var lines) => lines,
        _ => throw new CocoonException(CocoonErrorCode.InvalidArgument, $"--tail '{text}' is not a number of lines or 'all'"),
    };

    /// <summary>The text appended to <paramref name="path"/> since <paramref name="position"/> (whole UTF-8 lines are not awaited).</summary>
    private static string ReadFrom(string path, ref long position)
    {
        if (!File.Exists(path))
        {
            return "";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length < position)
        {
            position = 0; // the log started over (a new boot)
        }

        stream.Position = position;
        var bytes = new byte[stream.Length - position];
        stream.ReadExactly(bytes);
        position += bytes.Length;
        return Encoding.UTF8.GetString(bytes);
    }

    private static string LastLines(string text, int count)
    {
        var complete = text.EndsWith('\n');
        var lines = (complete ? text[..^1] : text).Split('\n');
        var kept = lines.Skip(Math.Max(0, lines.Length - count)).ToList();
        return text.Length == 0 || kept.Count == 0 ? "" : string.Join('\n', kept) + (complete ? "\n" : "");
    }
}
