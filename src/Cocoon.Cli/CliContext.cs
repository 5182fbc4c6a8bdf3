// Copyright (c) Cocoon contributors. Licensed under the MIT License.

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
    /// UTC timestamp, debug level under COCOON_DEBUG.
    /// </summary>
    /// <param name="toStandardError">Write every entry to stderr rather than stdout.</param>
    public ILoggerFactory CreateLoggerFactory(bool toStandardError) =>
        LoggerFactory.Create(builder =>
        {
            builder
                .SetMinimumLevel(Debug ? LogLevel.Debug : LogLevel.Information)
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                    console.UseUtcTimestamp = true;
                });
            if (toStandardError)
            {
                builder.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
            }
        });

    /// <summary>The real console and environment.</summary>
    public static CliContext FromEnvironment() =>
        new(Console.Out, Console.Error)
        {
            Debug = Environment.GetEnvironmentVariable("COCOON_DEBUG") is "1" or "true",
        };
}
