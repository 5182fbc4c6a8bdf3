// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;
using Microsoft.Extensions.Logging;

namespace Cocoon.Cli;

/// <summary>What every command needs from its surroundings; tests pass their own.</summary>
/// <param name="Out">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="StateRoot">The state root; null for <c>COCOON_HOME</c> or the default (found lazily, so <c>--help</c> never needs one).</param>
internal sealed record CliContext(TextWriter Out, TextWriter Error, string? StateRoot = null)
{
    /// <summary>Shows stack traces of unexpected failures (<c>COCOON_DEBUG=1</c>).</summary>
    public bool Debug { get; init; }

    /// <summary>Whether <see cref="Out"/> is a terminal (progress is drawn in place there).</summary>
    public bool OutIsTerminal { get; init; }

    /// <summary>The SDK runtime over <see cref="StateRoot"/>; supervisors run this very executable.</summary>
    public CocoonRuntime Runtime => field ??= new CocoonRuntime(new CocoonRuntimeOptions
    {
        StateRoot = StateRoot,
        LoggerFactory = new LoggerFactory([new TerminalLoggerProvider(Error)]),
        StartTimeout = TimeSpan.FromSeconds(
            int.TryParse(Environment.GetEnvironmentVariable("COCOON_START_TIMEOUT"), System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : 60),
    });

    /// <summary>
    /// The logger factory of long-running commands (supervisor, vsock device): one line per entry with a
    /// UTC timestamp (<see cref="LineLoggerProvider"/>), debug level under COCOON_DEBUG.
    /// </summary>
    /// <param name="toStandardError">Write every entry to stderr rather than stdout.</param>
    public ILoggerFactory CreateLoggerFactory(bool toStandardError) =>
        new LoggerFactory([new LineLoggerProvider(toStandardError ? Error : Out, Debug ? LogLevel.Debug : LogLevel.Information)]);

    /// <summary>The real standard output, standard error and environment.</summary>
    public static CliContext FromEnvironment() =>
        new(StandardWriter(StandardStream.Output), StandardWriter(StandardStream.Error))
        {
            Debug = Environment.GetEnvironmentVariable("COCOON_DEBUG") is "1" or "true",
            OutIsTerminal = !Console.IsOutputRedirected,
        };

    /// <summary>
    /// A writer on standard stream <paramref name="fd"/> (<see cref="StandardStream"/>), not
    /// <see cref="Console.Out"/>: .NET's console, the first time it writes to a terminal, sends the
    /// terminal's keypad_xmit string (<c>ESC [?1h ESC =</c>) and never undoes it, which left the user's
    /// terminal in application keypad mode after every command.
    /// </summary>
    private static TextWriter StandardWriter(int fd) =>
        TextWriter.Synchronized(new StreamWriter(new StandardStream(fd, dropAfterBrokenPipe: true), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true });
}
