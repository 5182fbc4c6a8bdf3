// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.State;

/// <summary>
/// The contents of <c>boxes/&lt;name&gt;/box.json</c>: the desired configuration plus the runtime
/// facts the supervisor records. Immutable; change it with <c>with</c> inside
/// <see cref="BoxRepository.Update"/>.
/// </summary>
internal sealed record BoxRecord
{
    /// <summary>The format version of this file.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>The format version this file was written with.</summary>
    public int SchemaVersion { get; init; } = CurrentSchemaVersion;

    /// <summary>The box name (also its directory name).</summary>
    public required string Name { get; init; }

    /// <summary>The validated configuration.</summary>
    public required BoxConfig Config { get; init; }

    /// <summary>The box's vsock context id.</summary>
    public required uint Cid { get; init; }

    /// <summary>Created, running or stopped.</summary>
    public BoxState State { get; init; } = BoxState.Created;

    /// <summary>The supervisor's process id while running.</summary>
    public int? Pid { get; init; }

    /// <summary>The QEMU process id while running, else null.</summary>
    public int? VmmPid { get; init; }

    /// <summary>When the box was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the box last started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the box last stopped.</summary>
    public DateTimeOffset? StoppedAt { get; init; }

    /// <summary>Why the box last stopped: the text of a <see cref="Supervisor.StopReason"/>.</summary>
    public string? StopReason { get; init; }

    /// <summary>The accelerator of the last start (<c>kvm</c> or <c>tcg</c>), recorded by the supervisor.</summary>
    public string? Accelerator { get; init; }

    /// <summary>Why that accelerator was chosen (for TCG: why KVM cannot run guests here).</summary>
    public string? AcceleratorReason { get; init; }
}
