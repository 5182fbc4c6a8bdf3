// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Oci.Run;

/// <summary>What the user gave <c>cocoon run IMAGE</c> on top of the image's config (docker run's flags).</summary>
public sealed record RunOverrides
{
    /// <summary><c>--entrypoint</c>: replaces ENTRYPOINT and clears CMD; <c>""</c> resets ENTRYPOINT to none. Null: not given.</summary>
    public string? Entrypoint { get; init; }

    /// <summary><c>--cmd</c> (repeatable): replaces CMD, keeps ENTRYPOINT. Empty: not given.</summary>
    public IReadOnlyList<string> Cmd { get; init; } = [];

    /// <summary>The arguments after the image: replace CMD, keep ENTRYPOINT. Empty: none given.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary><c>-e KEY=VALUE</c> (set) or <c>-e KEY</c> (take KEY from the host's environment, unset when the host lacks it).</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary><c>-w</c>: the working directory (absolute). Null: the image's, else <c>/</c>.</summary>
    public string? WorkingDir { get; init; }

    /// <summary><c>-u</c>: the user. Null: the image's, else root.</summary>
    public string? User { get; init; }
}

/// <summary>The process a container runs, as <c>docker run</c> would start it.</summary>
/// <param name="Args">argv: the entrypoint followed by the command.</param>
/// <param name="Env">The environment, <c>KEY=VALUE</c>, image order with overrides in place and additions last.</param>
/// <param name="WorkingDir">The absolute working directory.</param>
/// <param name="User">The user (resolved inside the container), <c>0</c> for root.</param>
public sealed record ContainerProcess(IReadOnlyList<string> Args, IReadOnlyList<string> Env, string WorkingDir, string User);
