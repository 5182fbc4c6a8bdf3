// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// A box's configuration and runtime facts, as <see cref="CocoonRuntime.GetBoxInfo"/> and
/// <see cref="CocoonRuntime.ListBoxes"/> report them (what <c>cocoon inspect</c> and <c>cocoon ls</c> show).
/// </summary>
public sealed record BoxInfo
{
    /// <summary>The box name.</summary>
    public required string Name { get; init; }

    /// <summary>Created, running or stopped; a box whose supervisor died reads as stopped.</summary>
    public required BoxState State { get; init; }

    /// <summary>The validated configuration.</summary>
    public required BoxConfig Config { get; init; }

    /// <summary>The box's vsock context id.</summary>
    public required uint Cid { get; init; }

    /// <summary>The supervisor's process id while running, else null.</summary>
    public int? SupervisorPid { get; init; }

    /// <summary>The VMM's (QEMU's) process id while running, else null.</summary>
    public int? VmmPid { get; init; }

    /// <summary>When the box was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the box last started, if ever.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the box last stopped, if ever.</summary>
    public DateTimeOffset? StoppedAt { get; init; }

    /// <summary>Why the box last stopped (docs/control-api.md, "Stop reasons"), or null.</summary>
    public string? StopReason { get; init; }

    /// <summary>The box's directory under the state root.</summary>
    public required string Directory { get; init; }

    /// <summary>The hybrid vsock socket: connect and write <c>CONNECT &lt;port&gt;\n</c> to reach a guest port.</summary>
    public required string VsockSocketPath { get; init; }

    /// <summary>The guest serial console log.</summary>
    public required string ConsoleLogPath { get; init; }

    /// <summary>The box's log: the output of its command (<c>cocoon run</c>) and the agent's messages (what <c>cocoon logs</c> shows).</summary>
    public required string LogPath { get; init; }

    /// <summary>The supervisor's control API socket (docs/control-api.md), present while the box runs.</summary>
    public required string ControlSocketPath { get; init; }
}

/// <summary>A box whose state file cannot be read; <c>RemoveAsync(name, force: true)</c> removes it and frees its CID.</summary>
/// <param name="Name">The box name (its directory).</param>
/// <param name="Problem">What is wrong with its state file.</param>
public sealed record DamagedBox(string Name, string Problem);
