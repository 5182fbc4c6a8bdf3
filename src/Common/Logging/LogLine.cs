// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// The text of one entry of Cocoon's log lines, after each writer's own prefix (the agent's
/// <c>cocoon-agent:</c>, the CLI's timestamp): <c>info: Category[1] message</c>, then an exception's
/// text on the lines after it.
/// </summary>
internal static class LogLine
{
    /// <summary>The entry's text, without a final newline.</summary>
    public static string Format(Microsoft.Extensions.Logging.LogLevel level, string category, Microsoft.Extensions.Logging.EventId eventId, string message, Exception? exception)
    {
        var line = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{LogLevelName.Of(level)}: {category}[{eventId.Id}] {message}");
        return exception is null ? line : line + Environment.NewLine + exception;
    }
}
