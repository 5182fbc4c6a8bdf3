// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>The four-letter level names of Cocoon's log lines (the agent's, the supervisor's, the vsock device's).</summary>
internal static class LogLevelName
{
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
}
