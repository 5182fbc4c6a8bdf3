// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Cli;

/// <summary>
/// Every exit status <c>cocoon</c> uses, documented here and nowhere else. Each
/// <see cref="CocoonErrorCode"/> maps to exactly one code (<see cref="ExitCodes.From"/>).
/// </summary>
/// <remarks>
/// <c>cocoon run</c> and <c>cocoon exec</c> pass the guest command's own exit status through, so
/// there a failure of cocoon itself must not look like the command's status. Those two commands
/// follow <c>docker run</c>: 125 when cocoon fails (the message on stderr says why), 126 when the
/// command cannot be invoked, 127 when it is not found; every other status is the command's.
/// All other commands use 0–9.
/// </remarks>
internal enum ExitCode
{
    /// <summary>Success.</summary>
    Ok = 0,

    /// <summary>An unexpected failure (a bug, or an I/O error with no better code).</summary>
    Internal = 1,

    /// <summary>Bad usage: unknown flag, malformed or out-of-range value, invalid name or file.</summary>
    Usage = 2,

    /// <summary>The named box (or file) does not exist.</summary>
    NotFound = 3,

    /// <summary>A box with that name already exists.</summary>
    AlreadyExists = 4,

    /// <summary>The box is in the wrong state for the operation, or the state files are corrupt.</summary>
    InvalidState = 5,

    /// <summary>The operation timed out.</summary>
    Timeout = 6,

    /// <summary>Not supported on this host or backend.</summary>
    Unsupported = 7,

    /// <summary>A finite resource (such as vsock CIDs) is exhausted.</summary>
    ResourceExhausted = 8,

    /// <summary>A component (VMM, agent, supervisor) is unreachable or died.</summary>
    Unavailable = 9,

    /// <summary><c>run</c>/<c>exec</c> only: cocoon itself failed (reserved; docker's convention).</summary>
    RunFailed = 125,

    /// <summary><c>run</c>/<c>exec</c> only: the command was found but could not be invoked (not executable, a directory, no such working directory or user).</summary>
    CommandNotInvokable = 126,

    /// <summary><c>run</c>/<c>exec</c> only: the command was not found.</summary>
    CommandNotFound = 127,
}

/// <summary>The one mapping from error codes to exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>The exit code for a <see cref="CocoonErrorCode"/>.</summary>
    public static ExitCode From(CocoonErrorCode code) => code switch
    {
        CocoonErrorCode.InvalidArgument => ExitCode.Usage,
        CocoonErrorCode.NotFound => ExitCode.NotFound,
        CocoonErrorCode.AlreadyExists => ExitCode.AlreadyExists,
        CocoonErrorCode.InvalidState => ExitCode.InvalidState,
        CocoonErrorCode.Timeout => ExitCode.Timeout,
        CocoonErrorCode.Unsupported => ExitCode.Unsupported,
        CocoonErrorCode.ResourceExhausted => ExitCode.ResourceExhausted,
        CocoonErrorCode.Unavailable => ExitCode.Unavailable,
        _ => ExitCode.Internal,
    };
}
