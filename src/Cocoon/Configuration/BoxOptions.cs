// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Configuration;

namespace Cocoon;

/// <summary>
/// What a caller asks for when creating a box, before validation. Set properties with an object
/// initializer or chain the <c>With…</c> methods, then call <see cref="Build()"/>.
/// </summary>
/// <remarks>
/// Rules (the same for the CLI, <c>box.yaml</c> and the SDK):
/// <list type="bullet">
/// <item><c>name</c>: 1–63 characters of lowercase letters, digits and '-', starting with a letter
/// and not ending with '-'.</item>
/// <item><c>image</c>: optional; no whitespace or control characters.</item>
/// <item><c>cpus</c>: 1 to the host's CPU count; default 1.</item>
/// <item><c>memory</c>: MiB, 128 to 1048576 (and no more than the host has); default 512.</item>
/// <item><c>network</c>: <c>user</c> (the default) or <c>none</c>.</item>
/// <item><c>disk_size</c>: the scratch disk of a box with an image, in MiB, 64 to 16777216 (16 TiB);
/// sparse, so only what containers write takes host space; default 8 GiB.</item>
/// <item><c>vsock_ports</c>: ports 1–65535 except 1024 and 1025 (the agent's); no duplicates;
/// absolute socket paths of at most 107 bytes.</item>
/// <item><c>volumes</c>: an existing host directory (absolute path, no ',') and an absolute guest
/// path other than <c>/</c>, <c>/proc</c>, <c>/sys</c>, <c>/dev</c> and what is under them; each guest
/// path once; at most 8.</item>
/// <item><c>mounts</c>: <c>uds</c> mounts (<see cref="UnixSocketMount"/>), seen in every container of
/// the box, so the box needs an image; absolute socket paths of at most 107 bytes, no NUL; each
/// destination once.</item>
/// <item><c>socket_forwards</c>: absolute socket paths of at most 107 bytes, no NUL; the host path's
/// directory exists and nothing but a socket is at the host path; each host path once.</item>
/// <item><c>env</c>: keys match <c>[A-Za-z_][A-Za-z0-9_]*</c>; no NUL in keys, values or
/// arguments.</item>
/// </list>
/// </remarks>
public sealed class BoxOptions
{
    /// <summary>CPUs when none are asked for.</summary>
    public const int DefaultCpus = 1;

    /// <summary>Memory in MiB when none is asked for.</summary>
    public const int DefaultMemoryMiB = 512;

    /// <summary>Scratch disk size in MiB when none is asked for (8 GiB, sparse).</summary>
    public const int DefaultDiskSizeMiB = 8 * 1024;

    /// <summary>Creates empty options; set at least <see cref="Name"/>.</summary>
    public BoxOptions()
    {
    }

    /// <summary>Creates options for a box called <paramref name="name"/>.</summary>
    public BoxOptions(string name) => Name = name;

    /// <summary>The box name.</summary>
    public string? Name { get; set; }

    /// <summary>The container image reference; null for none.</summary>
    public string? Image { get; set; }

    /// <summary>Virtual CPUs; null for <see cref="DefaultCpus"/>.</summary>
    public int? Cpus { get; set; }

    /// <summary>Guest memory in MiB; null for <see cref="DefaultMemoryMiB"/>.</summary>
    public int? MemoryMiB { get; set; }

    /// <summary>Scratch disk size in MiB for a box with an image; null for <see cref="DefaultDiskSizeMiB"/>.</summary>
    public int? DiskSizeMiB { get; set; }

    /// <summary>Published ports (<c>-p</c>), in order.</summary>
    public IList<PublishedPort> Publish { get; } = [];

    /// <summary>The box's network; null for <see cref="BoxNetwork.User"/>.</summary>
    public BoxNetwork? Network { get; set; }

    /// <summary>Guest→host vsock ports, in order.</summary>
    public IList<VsockPort> VsockPorts { get; } = [];

    /// <summary>Host directories shared into the box (<c>-v</c>), in order.</summary>
    public IList<VolumeMount> Volumes { get; } = [];

    /// <summary>Box sockets served on the host for the box's lifetime (<c>--socket-forward</c>), in order.</summary>
    public IList<PublishedSocket> SocketForwards { get; } = [];

    /// <summary>Host sockets seen in every container of the box (<c>--mount type=uds,...</c>), in order.</summary>
    public IList<UnixSocketMount> SocketMounts { get; } = [];

    /// <summary>Whether to use the Docker profile.</summary>
    public bool SupportDocker { get; set; }

    /// <summary>Replaces the image ENTRYPOINT of the box's own container (<see cref="CocoonRuntime.StartAsync"/> runs it) when not null; needs an image.</summary>
    public IList<string>? Entrypoint { get; set; }

    /// <summary>Replaces the image CMD of the box's own container (<see cref="CocoonRuntime.StartAsync"/> runs it) when not null; needs an image.</summary>
    public IList<string>? Cmd { get; set; }

    /// <summary>The absolute working directory of the box's own container (<c>-w</c>) when not null, else the image's; needs an image.</summary>
    public string? WorkingDir { get; set; }

    /// <summary>The user of the box's own container (<c>-u</c>: a name, UID or UID:GID) when not null, else the image's; needs an image.</summary>
    public string? User { get; set; }

    /// <summary>Environment variables for the box's own container and for commands run in the box's built-in environment; a later value for the same key replaces the earlier one.</summary>
    public IDictionary<string, string> Env { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Sets <see cref="Name"/>.</summary>
    public BoxOptions WithName(string? name)
    {
        Name = name;
        return this;
    }

    /// <summary>Sets <see cref="Image"/>.</summary>
    public BoxOptions WithImage(string? image)
    {
        Image = image;
        return this;
    }

    /// <summary>Sets <see cref="Cpus"/>.</summary>
    public BoxOptions WithCpus(int cpus)
    {
        Cpus = cpus;
        return this;
    }

    /// <summary>Sets <see cref="MemoryMiB"/>.</summary>
    public BoxOptions WithMemory(int memoryMiB)
    {
        MemoryMiB = memoryMiB;
        return this;
    }

    /// <summary>Lets the guest reach the host UNIX socket <paramref name="socketPath"/> on vsock port <paramref name="port"/>.</summary>
    public BoxOptions WithVsock(int port, string socketPath)
    {
        VsockPorts.Add(new VsockPort(port, socketPath));
        return this;
    }

    /// <summary>
    /// Publishes <paramref name="hostPort"/> on the host (127.0.0.1 and ::1 unless
    /// <paramref name="hostAddress"/> is given) to <paramref name="port"/> in the box, for the box's lifetime.
    /// </summary>
    public BoxOptions WithPublish(int hostPort, int port, string network = "tcp", string? hostAddress = null)
    {
        Publish.Add(new PublishedPort(hostPort, port, network, hostAddress));
        return this;
    }

    /// <summary>Sets <see cref="Network"/>.</summary>
    public BoxOptions WithNetwork(BoxNetwork network)
    {
        Network = network;
        return this;
    }

    /// <summary>
    /// Shares the host directory <paramref name="hostPath"/> into the box at <paramref name="guestPath"/>
    /// (<c>-v HOST_DIR:PATH[:ro]</c>), read-only when <paramref name="readOnly"/>.
    /// </summary>
    public BoxOptions WithVolume(string hostPath, string guestPath, bool readOnly = false)
    {
        Volumes.Add(new VolumeMount(hostPath, guestPath, readOnly));
        return this;
    }

    /// <summary>
    /// Serves the box socket <paramref name="boxPath"/> on the host at <paramref name="hostPath"/> for the
    /// box's lifetime (<c>--socket-forward HOST_PATH:BOX_PATH</c>), in <paramref name="container"/> or the
    /// default one (<see cref="PublishedSocket.Container"/>).
    /// </summary>
    public BoxOptions WithSocketForward(string hostPath, string boxPath, string? container = null)
    {
        SocketForwards.Add(new PublishedSocket(hostPath, boxPath, container));
        return this;
    }

    /// <summary>
    /// Shows the host socket <paramref name="source"/> at <paramref name="destination"/> in every container
    /// of the box (<c>--mount type=uds,source=...,destination=...</c>).
    /// </summary>
    public BoxOptions WithSocketMount(string source, string destination)
    {
        SocketMounts.Add(new UnixSocketMount(source, destination));
        return this;
    }

    /// <summary>Sets <see cref="SupportDocker"/>.</summary>
    public BoxOptions WithDockerSupport(bool enabled = true)
    {
        SupportDocker = enabled;
        return this;
    }

    /// <summary>Sets <see cref="Entrypoint"/>.</summary>
    public BoxOptions WithEntrypoint(params string[] entrypoint)
    {
        Entrypoint = [.. entrypoint];
        return this;
    }

    /// <summary>Sets <see cref="Cmd"/>.</summary>
    public BoxOptions WithCmd(params string[] cmd)
    {
        Cmd = [.. cmd];
        return this;
    }

    /// <summary>Sets <see cref="WorkingDir"/>.</summary>
    public BoxOptions WithWorkingDir(string workingDir)
    {
        WorkingDir = workingDir;
        return this;
    }

    /// <summary>Sets <see cref="User"/>.</summary>
    public BoxOptions WithUser(string user)
    {
        User = user;
        return this;
    }

    /// <summary>Sets one environment variable.</summary>
    public BoxOptions WithEnv(string key, string value)
    {
        Env[key] = value;
        return this;
    }

    /// <summary>
    /// Reads a <c>box.yaml</c> file into options. Its keys are the names in the rules above; a key the
    /// file does not know, or a value of the wrong kind, is refused here. Messages, here and from
    /// <see cref="Build()"/>, name the file, the line and the key.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The options as the file gives them, not yet validated.</returns>
    /// <exception cref="CocoonException">NotFound when the file does not exist; InvalidArgument naming what is wrong in it.</exception>
    public static BoxOptions Load(string path)
    {
        var (options, names) = BoxConfigYaml.Load(path);
        options._names = names;
        return options;
    }

    /// <summary>Validates these options into a <see cref="BoxConfig"/>; a name is generated when none is set.</summary>
    /// <exception cref="CocoonException">An option breaks a rule (code InvalidArgument); the message names it.</exception>
    public BoxConfig Build() => BoxConfigValidator.Validate(this, _names);

    /// <summary>
    /// Validates these options into a <see cref="BoxConfig"/>, naming fields in messages the way the
    /// caller's user knows them (a tool's own flags, say).
    /// </summary>
    /// <param name="describeField">
    /// Given a field's key (<c>cpus</c>, <c>vsock_ports[0].path</c>), the name to show, such as <c>--cpus</c>;
    /// null keeps the default: the key, or for options from <see cref="Load"/>, its place in the file.
    /// </param>
    /// <exception cref="CocoonException">An option breaks a rule (code InvalidArgument); the message names it.</exception>
    public BoxConfig Build(Func<string, string?> describeField)
    {
        ArgumentNullException.ThrowIfNull(describeField);
        var names = _names;
        return BoxConfigValidator.Validate(this, new FieldNames(key => describeField(key) ?? names[key]));
    }

    /// <summary>Parses a memory or disk size as the CLI and <c>box.yaml</c> spell it: MiB as a number (512) or with a unit (512M, 1G, 1T).</summary>
    /// <param name="text">The size.</param>
    /// <param name="field">How messages name the value (<c>--memory</c>).</param>
    /// <returns>The size in MiB.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming <paramref name="field"/> and the forms.</exception>
    public static int ParseSizeMiB(string text, string field) => MemorySize.Parse(text, field);

    /// <summary>Parses a network mode as the CLI and <c>box.yaml</c> spell it: <c>user</c> or <c>none</c>.</summary>
    /// <param name="text">The mode.</param>
    /// <param name="field">How messages name the value (<c>--network</c>).</param>
    /// <exception cref="CocoonException">InvalidArgument naming <paramref name="field"/> and the modes.</exception>
    public static BoxNetwork ParseNetwork(string text, string field) => BoxConfigValidator.ParseNetwork(text, field);

    private FieldNames _names = FieldNames.Sdk;
}
