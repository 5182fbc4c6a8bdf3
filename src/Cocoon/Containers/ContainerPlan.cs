// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias oci;
using Cocoon.Protocol.Agent.V1;
using Cocoon.Supervisor;
using oci::Cocoon.Oci.Run;

namespace Cocoon.Containers;

/// <summary>
/// Turns <see cref="ContainerOptions"/> into the agent's <see cref="ContainerSpec"/>: the image must be
/// the box's (its root file system is the disk the box booted with), its config is merged with the
/// options by <see cref="RunSpec.Merge"/>, and the name is checked or generated. Everything is
/// validated here, before the agent creates anything.
/// </summary>
internal static class ContainerPlan
{
    /// <summary>The agent's spec for <paramref name="options"/> in a box configured as <paramref name="box"/>.</summary>
    public static ContainerSpec Create(CocoonRuntime runtime, BoxConfig box, ContainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(box);
        ArgumentNullException.ThrowIfNull(options);
        ContainerProcess process;
        string imageRoot, scratchDir;
        if (options.RootDirectory is { } root)
        {
            process = RootDirectoryProcess(root, options);
            imageRoot = root;
            scratchDir = box.Image is null ? MemoryScratchDir : BoxDisks.ScratchMountPoint;
        }
        else
        {
            process = ImageProcess(runtime, box, options);
            imageRoot = BoxDisks.ImageMountPoint;
            scratchDir = BoxDisks.ScratchMountPoint;
        }

        EnsureProfileFits(process, box.SupportDocker, $"box '{box.Name}'");
        EnsureSocketMountsValid(options.SocketMounts);
        var spec = new ContainerSpec
        {
            Name = options.Name ?? GenerateName(),
            Image = options.Image,
            ImageRoot = imageRoot,
            ScratchDir = scratchDir,
            WorkingDir = process.WorkingDir,
            User = process.User,
            Tty = options.Tty,
            Stdin = options.Stdin,
            Detach = options.Detach,
            KeepLayer = options.KeepLayer,
            Profile = box.SupportDocker ? ContainerProfile.Docker : ContainerProfile.Default,
        };
        spec.Argv.AddRange(process.Args);
        spec.Env.AddRange(process.Env);
        spec.SocketMounts.AddRange(options.SocketMounts.Select(m => new SocketMount { Destination = m.Destination, ForwardId = Protocol.ForwardId.Compute(spec.Name, m.Destination) }));
        if (options.WindowSize is { } size)
        {
            spec.WindowSize = new WindowSize { Rows = (uint)size.Rows, Columns = (uint)size.Columns };
        }

        return spec;
    }

    /// <summary>
    /// The box's own container, which <see cref="CocoonRuntime.StartAsync"/> runs detached (as <c>docker start</c>):
    /// the box's image with its <see cref="BoxConfig.Entrypoint"/>, <see cref="BoxConfig.Cmd"/>,
    /// <see cref="BoxConfig.Env"/>, <see cref="BoxConfig.WorkingDir"/> and <see cref="BoxConfig.User"/>,
    /// named after the box. Null for a box without an image, and for one whose config and stored image
    /// name no command: it only hosts the containers run into it. It keeps its writable layer and log
    /// from one start of the box to the next.
    /// </summary>
    public static ContainerOptions? ForBox(CocoonRuntime runtime, BoxConfig box)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(box);
        if (box.Image is not { } image)
        {
            return null;
        }

        if (box.Entrypoint is null && box.Cmd is null
            && runtime.Images.Find(image) is { } stored
            && runtime.Images.GetConfig(stored.Reference) is { Entrypoint.Count: 0, Cmd.Count: 0 })
        {
            return null;
        }

        // The options' entrypoint is docker run's one word; a config's longer one puts the rest before CMD,
        // which is where docker puts it (ENTRYPOINT's words, then CMD's).
        var entrypoint = box.Entrypoint;
        return new ContainerOptions(image)
        {
            Name = box.Name,
            Entrypoint = entrypoint switch
            {
                null => null,
                [] => "",
                [var first, ..] => first,
            },
            Cmd = [.. entrypoint?.Skip(1) ?? [], .. box.Cmd ?? []],
            Environment = [.. box.Env.Select(e => $"{e.Key}={e.Value}")],
            WorkingDirectory = box.WorkingDir,
            User = box.User,
            Detach = true,
            KeepLayer = true,
        };
    }

    /// <summary>The process of a container of the box's image: the image must be the box's.</summary>
    private static ContainerProcess ImageProcess(CocoonRuntime runtime, BoxConfig box, ContainerOptions options)
    {
        var image = runtime.Images.Find(options.Image)
            ?? throw new CocoonException(CocoonErrorCode.NotFound, $"image '{options.Image}' is not stored; pull it first: cocoon pull {options.Image}");
        if (box.Image is null || runtime.Images.Find(box.Image) is not { } boxImage || boxImage.Digest != image.Digest)
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                box.Image is null
                    ? $"box '{box.Name}' was created without an image, so it has no image disk to run '{options.Image}' from; create the box with --image {options.Image}"
                    : $"box '{box.Name}' runs image '{box.Image}'; a box runs containers of its own image only, so '{options.Image}' needs a box of its own (cocoon run {options.Image})");
        }

        return Merge(runtime, options);
    }

    /// <summary>The process of a container on a directory in the box (<see cref="ContainerOptions.RootDirectory"/>): the options alone.</summary>
    /// <remarks>
    /// Not <see cref="RunSpec.Merge"/> with an empty image config: its rules are <c>docker run</c>'s, and a
    /// root-directory container (the shim's) takes its process as runc takes <c>config.json</c>: no PATH
    /// default, no <c>-e KEY</c> copied from this host's environment, no user default beyond root.
    /// </remarks>
    private static ContainerProcess RootDirectoryProcess(string root, ContainerOptions options)
    {
        if (!root.StartsWith('/'))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"the root directory '{root}' is not an absolute path in the box");
        }

        string[] argv = [.. options.Entrypoint is { Length: > 0 } entrypoint ? [entrypoint] : Array.Empty<string>(), .. options.Cmd, .. options.Arguments];
        if (argv.Length == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"a container on the root directory '{root}' needs a command: set Entrypoint, Cmd or Arguments");
        }

        return new ContainerProcess(argv, options.Environment, options.WorkingDirectory ?? "/", options.User ?? "");
    }

    /// <summary>Where a box without a scratch disk keeps containers' writable layers: the guest's /run (a tmpfs).</summary>
    private const string MemoryScratchDir = "/run";

    /// <summary>The container's process: the stored image's config merged with <paramref name="options"/> (<see cref="RunSpec.Merge"/>).</summary>
    /// <exception cref="CocoonException">NotFound when the image is not stored; InvalidArgument naming a bad option.</exception>
    public static ContainerProcess Merge(CocoonRuntime runtime, ContainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(options);
        var image = runtime.Images.Find(options.Image)
            ?? throw new CocoonException(CocoonErrorCode.NotFound, $"image '{options.Image}' is not stored; pull it first: cocoon pull {options.Image}");
        return RunSpec.Merge(runtime.Images.GetConfig(image.Reference), new RunOverrides
        {
            Entrypoint = options.Entrypoint,
            Cmd = options.Cmd,
            Arguments = options.Arguments,
            Env = options.Environment,
            WorkingDir = options.WorkingDirectory,
            User = options.User,
        });
    }

    /// <summary>
    /// Refuses to start a Docker daemon (a process named <c>dockerd</c>, or Docker's own dind entrypoint)
    /// without the Docker profile, where it could only fail: no capabilities for its bridge and
    /// iptables, read-only /proc/sys and cgroups, no bridge or netfilter modules in the box.
    /// </summary>
    /// <exception cref="CocoonException">InvalidArgument pointing at <c>--support-docker</c>.</exception>
    public static void EnsureProfileFits(ContainerProcess process, bool supportDocker, string where)
    {
        ArgumentNullException.ThrowIfNull(process);
        var program = process.Args.Count > 0 ? Path.GetFileName(process.Args[0]) : "";
        if (!supportDocker && program is "dockerd" or "dockerd-entrypoint.sh")
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                $"the container runs {program}, which cannot start in {where} without the Docker profile (it needs every capability, writable cgroups and /proc/sys, and the bridge and netfilter modules): create the box with --support-docker (support_docker: true, BoxOptions.SupportDocker)");
        }
    }

    /// <summary>Checks each socket mount's paths, and that no two share a destination.</summary>
    /// <exception cref="CocoonException">InvalidArgument naming the bad mount.</exception>
    public static void EnsureSocketMountsValid(IReadOnlyList<UnixSocketMount> mounts)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        var destinations = new HashSet<string>(StringComparer.Ordinal);
        foreach (var mount in mounts)
        {
            mount.Validate();
            if (!destinations.Add(mount.Destination))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"two uds mounts have the destination '{mount.Destination}'; give each its own");
            }
        }
    }

    /// <summary>A container name as Docker makes them unique: a short random hex id.</summary>
    public static string GenerateName() => "c-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
}
