// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>The four-letter level names of Cocoon's log lines (the agent's, the supervisor's, the vsock device's).</summary>
internal static class LogLevelName
{
    /// <summary>The names <see cref="TryParse"/> takes, for messages.</summary>
    public const string Accepted = "trace, debug, info, warn, error, critical or none";

    /// <summary><c>trce</c>, <c>dbug</c>, <c>info</c>, <c>warn</c>, <c>fail</c> or <c>crit</c>.</summary>
    public static string Of(Microsoft.Extensions.Logging.LogLevel level) => level switch
    {
        Microsoft.Extensions.Logging.LogLevel.Trace => "trce",
        Microsoft.Extensions.Logging.LogLevel.Debug => "dbug",
        Microsoft.Extensions.Logging.LogLevel.Information => "info",
        Microsoft.Extensions.Logging.LogLevel.Warning => "warn",
        Microsoft.Extensions.Logging.LogLevel.Error => "fail",
        _ => "crit",
    };

    /// <summary>
    /// A level named the way people write it: <see cref="Accepted"/>, .NET's own names
    /// (<c>Information</c>, <c>Warning</c>...) or the four-letter names of the log lines, in any case.
    /// Numbers are not names.
    /// </summary>
    public static bool TryParse(string? text, out Microsoft.Extensions.Logging.LogLevel level)
    {
        Microsoft.Extensions.Logging.LogLevel? named = (text ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "trace" or "trce" => Microsoft.Extensions.Logging.LogLevel.Trace,
            "debug" or "dbug" => Microsoft.Extensions.Logging.LogLevel.Debug,
            "info" or "information" => Microsoft.Extensions.Logging.LogLevel.Information,
            "warn" or "warning" => Microsoft.Extensions.Logging.LogLevel.Warning,
            "error" or "fail" => Microsoft.Extensions.Logging.LogLevel.Error,
            "critical" or "crit" => Microsoft.Extensions.Logging.LogLevel.Critical,
            "none" => Microsoft.Extensions.Logging.LogLevel.None,
            _ => null,
        };
        level = named.GetValueOrDefault();
        return named.HasValue;
    }
}
