// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// The closed set of failure kinds Cocoon reports. The CLI maps each code to one exit code and the
/// agent maps each code to one gRPC status; nothing else decides how a failure is presented.
/// </summary>
public enum CocoonErrorCode
{
    /// <summary>A failure with no more specific code; details only when detailed errors are enabled.</summary>
    Internal = 0,

    /// <summary>An input (flag, file, name, port, path, reference) is malformed or out of range.</summary>
    InvalidArgument = 1,

    /// <summary>The named box, image, file or process does not exist.</summary>
    NotFound = 2,

    /// <summary>Something with that name or identity already exists.</summary>
    AlreadyExists = 3,

    /// <summary>The operation does not fit the current state (for example, exec in a stopped box).</summary>
    InvalidState = 4,

    /// <summary>The operation did not finish in time.</summary>
    Timeout = 5,

    /// <summary>The operation is not supported by this host, backend or guest.</summary>
    Unsupported = 6,

    /// <summary>A finite resource (CIDs, ports, memory) is exhausted.</summary>
    ResourceExhausted = 7,

    /// <summary>A component Cocoon depends on (VMM, guest agent, supervisor) is not reachable or died.</summary>
    Unavailable = 8,
}
