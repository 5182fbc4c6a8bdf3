// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;

namespace Cocoon;

/// <summary>
/// A box's validated configuration: what to run and with which resources. Build one with
/// <see cref="BoxOptions.Build()"/> (the SDK), <c>cocoon create</c> flags or a <c>box.yaml</c> file;
/// all three go through the same validation, so every instance obeys the rules documented on
/// <see cref="BoxOptions"/>.
/// </summary>
public sealed record BoxConfig
{
    [JsonConstructor]
    internal BoxConfig()
    {
    }

    /// <summary>The box name (see <see cref="BoxOptions.Name"/> for the rule).</summary>
    [JsonInclude]
    public string Name { get; internal init; } = "";

    /// <summary>The container image reference, or null for none.</summary>
    [JsonInclude]
    public string? Image { get; internal init; }

    /// <summary>Virtual CPUs, 1 to the host's CPU count.</summary>
    [JsonInclude]
    public int Cpus { get; internal init; } = BoxOptions.DefaultCpus;

    /// <summary>Guest memory in MiB.</summary>
    [JsonInclude]
    [JsonPropertyName("memory_mib")]
    public int MemoryMiB { get; internal init; } = BoxOptions.DefaultMemoryMiB;

    /// <summary>
    /// The size in MiB of the box's sparse scratch disk (container upper layers), made when a box with
    /// an image first starts; null for <see cref="BoxOptions.DefaultDiskSizeMiB"/>.
    /// </summary>
    [JsonInclude]
    [JsonPropertyName("disk_size_mib")]
    public int? DiskSizeMiB { get; internal init; }

    /// <summary>Guest→host vsock ports the guest may connect to, in the order given.</summary>
    [JsonInclude]
    public IReadOnlyList<VsockPort> VsockPorts { get; internal init; } = [];

    /// <summary>Host ports the supervisor publishes for the box's lifetime (<c>-p</c>), in the order given.</summary>
    [JsonInclude]
    public IReadOnlyList<PublishedPort> Publish { get; internal init; } = [];

    /// <summary>
    /// Box sockets the supervisor serves on the host for the box's lifetime (<c>--socket-forward</c>),
    /// in the order given.
    /// </summary>
    [JsonInclude]
    public IReadOnlyList<PublishedSocket> SocketForwards { get; internal init; } = [];

    /// <summary>
    /// Host UNIX sockets seen inside every container of the box (<c>--mount type=uds,...</c> on
    /// <c>create</c>), in the order given; a container's own mount with the same destination replaces one.
    /// </summary>
    [JsonInclude]
    [JsonPropertyName("mounts")]
    public IReadOnlyList<UnixSocketMount> SocketMounts { get; internal init; } = [];

    /// <summary>The box's network: user-mode networking (the default) or none.</summary>
    [JsonInclude]
    public BoxNetwork Network { get; internal init; }

    /// <summary>Host directories shared into the box over virtio-fs (<c>-v</c>), in the order given.</summary>
    [JsonInclude]
    public IReadOnlyList<VolumeMount> Volumes { get; internal init; } = [];

    /// <summary>Whether the box runs with the Docker profile (docs/architecture.md §2.8).</summary>
    [JsonInclude]
    public bool SupportDocker { get; internal init; }

    /// <summary>Replaces the image ENTRYPOINT of the box's own container (<see cref="CocoonRuntime.StartAsync"/> runs it) when not null; needs an image.</summary>
    [JsonInclude]
    public IReadOnlyList<string>? Entrypoint { get; internal init; }

    /// <summary>Replaces the image CMD of the box's own container (<see cref="CocoonRuntime.StartAsync"/> runs it) when not null; needs an image.</summary>
    [JsonInclude]
    public IReadOnlyList<string>? Cmd { get; internal init; }

    /// <summary>The working directory of the box's own container (<c>-w</c>) when not null, else the image's; needs an image.</summary>
    [JsonInclude]
    public string? WorkingDir { get; internal init; }

    /// <summary>The user of the box's own container (<c>-u</c>: a name, UID or UID:GID) when not null, else the image's; needs an image.</summary>
    [JsonInclude]
    public string? User { get; internal init; }

    /// <summary>Environment variables for the box's own container and for commands run in the box's built-in environment.</summary>
    [JsonInclude]
    public IReadOnlyDictionary<string, string> Env { get; internal init; } = new Dictionary<string, string>();
}

/// <summary>
/// One guest→host vsock port: a guest connecting to host CID 2, port <paramref name="Port"/> is
/// relayed to the UNIX socket <paramref name="Path"/> on the host.
/// </summary>
/// <param name="Port">The vsock port the guest connects to, 1–65535 except 1024 and 1025.</param>
/// <param name="Path">The absolute host socket path; at most 107 bytes (sun_path).</param>
public sealed record VsockPort(int Port, string Path);
