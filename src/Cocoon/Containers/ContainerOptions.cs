// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// A container to run in a box (<see cref="Box.RunContainerAsync"/>): the image and <c>docker run</c>'s
/// options. The image's ENTRYPOINT, CMD, Env, WorkingDir and User merge with these exactly as
/// <c>docker run</c> merges them.
/// </summary>
/// <param name="Image">The image reference; it must be the box's image (<see cref="BoxOptions.Image"/>) and stored locally.</param>
public sealed record ContainerOptions(string Image)
{
    /// <summary>
    /// A directory in the box holding the container's root file system (such as a volume's guest
    /// path), used instead of the image's; null to run the image. The image is then only a label: it
    /// is not looked up and its config is not merged, so <see cref="Entrypoint"/>, <see cref="Cmd"/>
    /// and <see cref="Arguments"/> (in that order) are the whole command and <see cref="Environment"/>
    /// the whole environment. The container writes to an overlay on the box's scratch disk (or its
    /// memory in a box without an image); the directory is not changed.
    /// </summary>
    public string? RootDirectory { get; init; }

    /// <summary>The container's name in the box (1–64 of a-z, 0-9, '_', '.', '-'); null for a generated one.</summary>
    public string? Name { get; init; }

    /// <summary>Replaces the image ENTRYPOINT and clears its CMD (<c>--entrypoint</c>); <c>""</c> for none; null keeps the image's.</summary>
    public string? Entrypoint { get; init; }

    /// <summary>Replaces the image CMD and keeps the ENTRYPOINT (<c>--cmd</c>); empty keeps the image's.</summary>
    public IReadOnlyList<string> Cmd { get; init; } = [];

    /// <summary>The arguments after the image in <c>docker run</c>: replace CMD, keep the ENTRYPOINT.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary><c>KEY=VALUE</c> sets, <c>KEY</c> copies the host's value; on top of the image's Env.</summary>
    public IReadOnlyList<string> Environment { get; init; } = [];

    /// <summary>The absolute working directory; null for the image's, else <c>/</c>.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The user (<c>name</c>, <c>uid</c>, <c>uid:gid</c>), looked up in the image; null for the image's, else root.</summary>
    public string? User { get; init; }

    /// <summary>Run on a pseudo-terminal.</summary>
    public bool Tty { get; init; }

    /// <summary>The initial terminal size for <see cref="Tty"/>; null for 24x80.</summary>
    public TerminalSize? WindowSize { get; init; }

    /// <summary>Keep stdin open (<see cref="Container.Session"/>); false gives the process /dev/null.</summary>
    public bool Stdin { get; init; }

    /// <summary>Start and return without attaching: output goes to the container's log only.</summary>
    public bool Detach { get; init; }

    /// <summary>Host UNIX sockets seen inside the container (<c>--mount type=uds,...</c>), each at its own destination.</summary>
    public IReadOnlyList<UnixSocketMount> SocketMounts { get; init; } = [];

    /// <summary>Whether the container keeps the writable layer and log an earlier container of its name left (a box's own container, started again).</summary>
    internal bool KeepLayer { get; init; }
}

/// <summary>A container as <see cref="Box.ListContainersAsync"/> reports it.</summary>
/// <param name="Name">Its name in the box.</param>
/// <param name="Image">The image reference it was started from.</param>
/// <param name="Command">Its process's argv.</param>
/// <param name="Created">When it was created.</param>
/// <param name="Exit">How its process ended; null while it runs.</param>
public sealed record ContainerStatus(string Name, string Image, IReadOnlyList<string> Command, DateTimeOffset Created, ExecExit? Exit)
{
    /// <summary>True while its process runs.</summary>
    public bool IsRunning => Exit is null;
}
