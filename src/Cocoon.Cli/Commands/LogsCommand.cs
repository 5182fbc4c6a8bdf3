// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon logs [-f] [--tail N] [--console | -c CONTAINER] NAME</c>: the box log (what the box's
/// command printed, and the agent's log), with <c>--console</c> the guest console (the kernel's
/// messages), or with <c>-c</c> a container's output, read from the running box. A box made by
/// <c>cocoon run IMAGE</c> shows its container's output (the container has the box's name), as
/// <c>docker logs</c> does. <c>-f</c> follows until the box (or the container) stops.
/// </summary>
/// <remarks>
/// The box's logs are files it appends to; <see cref="SelectLog"/> is the one place that picks the
/// source from the flags, so a new source is one option and one case there.
/// </remarks>
internal static class LogsCommand
{
    private static readonly Argument<string> NameArgument = new("NAME") { Description = "The box." };
    private static readonly Option<bool> FollowOption = new("--follow", "-f") { Description = "Keep printing new output until the box stops (or Ctrl-C)." };
    private static readonly Option<bool> ConsoleOption = new("--console") { Description = "Print the guest console (kernel messages) instead of the box log." };
    private static readonly Option<string> ContainerOption = new("--container", "-c") { Description = "Print this container's output instead (the box must be running).", HelpName = "CONTAINER" };
    private static readonly Option<string> TailOption = new("--tail", "-n") { Description = "Print only the last N lines first (\"all\" for every line) [default: all].", HelpName = "N" };

    /// <summary>How often <c>-f</c> looks for new output.</summary>
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("logs", "Print a box's log: the output of its command (cocoon run) and the agent's messages; a container's output with -c.") { NameArgument, FollowOption, TailOption, ConsoleOption, ContainerOption };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var tail = ParseTail(parseResult.GetValue(TailOption));
            var box = context.Runtime.GetBoxInfo(parseResult.GetRequiredValue(NameArgument));
            var name = box.Name;
            var source = SelectLog(parseResult, box);
            if (source.Container is { } container)
            {
                return await PrintContainerLogAsync(context, name, container, tail, parseResult.GetValue(FollowOption), cancellationToken);
            }

            var path = source.Path!;
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
                    running = context.Runtime.GetBoxInfo(name).State == BoxState.Running;
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

    /// <summary>The log the flags name: a file of the box, or a container's output.</summary>
    private static (string? Path, string? Container) SelectLog(ParseResult parseResult, BoxInfo box)
    {
        var container = parseResult.GetValue(ContainerOption);
        if (parseResult.GetValue(ConsoleOption))
        {
            return container is null
                ? (box.ConsoleLogPath, null)
                : throw new CocoonException(CocoonErrorCode.InvalidArgument, "--console and --container name different logs; give one of them");
        }

        if (container is null && box.Config.Image is not null && box.State == BoxState.Running)
        {
            container = box.Name; // the container cocoon run IMAGE started, as docker logs shows
        }

        return container is null ? (box.LogPath, null) : (null, container);
    }

    /// <summary>Prints a container's output, read from the running box.</summary>
    private static async Task<int> PrintContainerLogAsync(CliContext context, string box, string container, int? tail, bool follow, CancellationToken cancellationToken)
    {
        using var signals = new SignalCancellation(cancellationToken);
        await using var handle = context.Runtime.GetBox(box);
        var decoder = Encoding.UTF8.GetDecoder();
        try
        {
            // The log is append-only: --tail reads it whole once, prints its last lines, and -f then
            // reads it again from the start, skipping the bytes already seen.
            var seen = 0L;
            if (tail is { } lines)
            {
                using var whole = new MemoryStream();
                await foreach (var chunk in handle.GetContainerLogsAsync(container, follow: false, signals.Token))
                {
                    whole.Write(chunk.Span);
                }

                seen = whole.Length;
                context.Out.Write(LastLines(Encoding.UTF8.GetString(whole.GetBuffer(), 0, (int)whole.Length), lines));
                context.Out.Flush();
                if (!follow)
                {
                    return (int)ExitCode.Ok;
                }
            }

            await foreach (var chunk in handle.GetContainerLogsAsync(container, follow, signals.Token))
            {
                var skip = (int)Math.Min(seen, chunk.Length);
                seen -= skip;
                var bytes = chunk.Span[skip..];
                var chars = new char[decoder.GetCharCount(bytes, flush: false)];
                decoder.GetChars(bytes, chars, flush: false);
                context.Out.Write(chars);
                context.Out.Flush();
            }
        }
        catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
        {
            // Ctrl-C ends following; it is not an error.
        }

        return (int)ExitCode.Ok;
    }

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
