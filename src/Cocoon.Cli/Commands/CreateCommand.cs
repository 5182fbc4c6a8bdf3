// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Globalization;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon create</c>: validates a box configuration (flags or <c>-f box.yaml</c>), then claims
/// the name, allocates a CID and writes the box's state. <c>-f</c> cannot be combined with
/// configuration flags, except <c>--name</c>, which overrides the file's name.
/// </summary>
internal static class CreateCommand
{
    private static readonly Option<string> NameOption = new("--name", "-n") { Description = "Box name: 1-63 of a-z, 0-9, '-', starting with a letter [default: box-<random hex>]." };
    private static readonly Option<string> ImageOption = new("--image") { Description = "Container image reference." };
    private static readonly Option<int?> CpusOption = NumberOption.Create("--cpus", $"Virtual CPUs, 1 to the host's count [default: {BoxOptions.DefaultCpus}].");
    private static readonly Option<string> MemoryOption = new("--memory", "-m") { Description = $"Guest memory: MiB (512) or with a unit (512M, 1G) [default: {BoxOptions.DefaultMemoryMiB}]." };
    /// <summary><c>--disk-size</c>, shared with <c>run</c>.</summary>
    internal static readonly Option<string> DiskSizeOption = new("--disk-size") { Description = $"Scratch disk for containers' writes (sparse): MiB or with a unit (8G) [default: {BoxOptions.DefaultDiskSizeMiB / 1024}G]." };
    private static readonly Option<string[]> VsockPortOption = new("--vsock-port") { Description = "Let the guest reach a host UNIX socket: PORT:PATH (repeatable).", HelpName = "PORT:PATH" };
    /// <summary><c>--support-docker</c>, shared with <c>run</c>.</summary>
    internal static readonly Option<bool> SupportDockerOption = new("--support-docker") { Description = "Run the box's containers with the Docker profile, for a Docker daemon inside (all capabilities, writable /proc/sys, /sys and cgroups, bridge and netfilter modules, /var/lib/docker on the scratch disk)." };
    private static readonly Option<string> EntrypointOption = new("--entrypoint") { Description = "Replace the image ENTRYPOINT (\"\" clears it)." };
    private static readonly Option<string[]> CmdOption = new("--cmd") { Description = "Replace the image CMD, one argument per flag (repeatable)." };
    private static readonly Option<string> WorkdirOption = new("--workdir", "-w") { Description = "The working directory of the box's container, absolute [default: the image's]." };
    private static readonly Option<string> UserOption = new("--user", "-u") { Description = "Run the box's container as USER: a name, UID or UID:GID [default: the image's]." };
    private static readonly Option<string[]> EnvOption = new("--env", "-e") { Description = "Environment variable KEY=VALUE, or KEY for the host's value (repeatable).", HelpName = "KEY=VALUE" };
    private static readonly Option<string[]> MountOption = new("--mount") { Description = "A host UNIX socket seen in every container of the box: type=uds,source=HOST_SOCKET,destination=PATH (repeatable; needs --image).", HelpName = "type=uds,source=HOST_SOCKET,destination=PATH" };
    private static readonly Option<string> FileOption = new("--file", "-f") { Description = "Read the configuration from a box.yaml file (only --name may be combined with it)." };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("create", "Create a box (validated; nothing is allocated for a rejected box).")
        {
            NameOption, ImageOption, CpusOption, MemoryOption, DiskSizeOption, VsockPortOption, PublishOption, NetworkOption, VolumeOption, MountOption, SocketForwardOption,
            SupportDockerOption, EntrypointOption, CmdOption, WorkdirOption, UserOption, EnvOption, FileOption,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            // As docker create: an image that is not stored is pulled, and the box's container is checked against it.
            var config = ToConfig(Read(parseResult));
            if (config.Image is { } image)
            {
                await PullCommand.EnsureStoredAsync(context, image, cancellationToken);
            }

            context.Out.WriteLine(await context.Runtime.CreateAsync(config, cancellationToken));
            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>The flags as given, before validation.</summary>
    internal sealed record Arguments(
        string? Name,
        string? Image,
        int? Cpus,
        string? Memory,
        IReadOnlyList<string> VsockPorts,
        bool SupportDocker,
        string? Entrypoint,
        IReadOnlyList<string> Cmd,
        IReadOnlyList<string> Env,
        string? File,
        IReadOnlyList<string>? Publish = null,
        string? Network = null,
        IReadOnlyList<string>? Volumes = null,
        string? DiskSize = null,
        IReadOnlyList<string>? Mounts = null,
        IReadOnlyList<string>? SocketForwards = null,
        string? WorkingDir = null,
        string? User = null);

    /// <summary>Reads the flags into <see cref="Arguments"/>.</summary>
    internal static Arguments Read(ParseResult parseResult) => new(
        parseResult.GetValue(NameOption),
        parseResult.GetValue(ImageOption),
        parseResult.GetValue(CpusOption),
        parseResult.GetValue(MemoryOption),
        parseResult.GetValue(VsockPortOption) ?? [],
        parseResult.GetValue(SupportDockerOption),
        parseResult.GetValue(EntrypointOption),
        parseResult.GetValue(CmdOption) ?? [],
        parseResult.GetValue(EnvOption) ?? [],
        parseResult.GetValue(FileOption),
        parseResult.GetValue(PublishOption) ?? [],
        parseResult.GetValue(NetworkOption),
        parseResult.GetValue(VolumeOption) ?? [],
        parseResult.GetValue(DiskSizeOption),
        parseResult.GetValue(MountOption) ?? [],
        parseResult.GetValue(SocketForwardOption) ?? [],
        parseResult.GetValue(WorkdirOption),
        parseResult.GetValue(UserOption));

    /// <summary>The one place flags become a validated <see cref="BoxConfig"/>; errors name the flag.</summary>
    internal static BoxConfig ToConfig(Arguments args)
    {
        if (args.File is { } file)
        {
            var conflicting = new List<string>();
            AddIf(conflicting, args.Image is not null, "--image");
            AddIf(conflicting, args.Cpus is not null, "--cpus");
            AddIf(conflicting, args.Memory is not null, "--memory");
            AddIf(conflicting, args.DiskSize is not null, "--disk-size");
            AddIf(conflicting, args.VsockPorts.Count > 0, "--vsock-port");
            AddIf(conflicting, args.Publish is { Count: > 0 }, "--publish");
            AddIf(conflicting, args.Network is not null, "--network");
            AddIf(conflicting, args.Volumes is { Count: > 0 }, "--volume");
            AddIf(conflicting, args.Mounts is { Count: > 0 }, "--mount");
            AddIf(conflicting, args.SocketForwards is { Count: > 0 }, "--socket-forward");
            AddIf(conflicting, args.SupportDocker, "--support-docker");
            AddIf(conflicting, args.Entrypoint is not null, "--entrypoint");
            AddIf(conflicting, args.Cmd.Count > 0, "--cmd");
            AddIf(conflicting, args.WorkingDir is not null, "--workdir");
            AddIf(conflicting, args.User is not null, "--user");
            AddIf(conflicting, args.Env.Count > 0, "--env");
            if (conflicting.Count > 0)
            {
                throw Usage($"--file cannot be combined with {string.Join(", ", conflicting)}: put those settings in '{file}' (only --name may override the file)");
            }

            var fromFile = BoxOptions.Load(file);
            if (args.Name is not null)
            {
                fromFile.Name = args.Name;
            }

            return fromFile.Build(key => key == "name" && args.Name is not null ? "--name" : null);
        }

        var options = new BoxOptions
        {
            Name = args.Name,
            Image = args.Image,
            Cpus = args.Cpus,
            MemoryMiB = args.Memory is null ? null : BoxOptions.ParseSizeMiB(args.Memory, "--memory"),
            DiskSizeMiB = args.DiskSize is null ? null : BoxOptions.ParseSizeMiB(args.DiskSize, "--disk-size"),
            SupportDocker = args.SupportDocker,
            Network = args.Network is null ? null : BoxOptions.ParseNetwork(args.Network, "--network"),
            Entrypoint = args.Entrypoint switch
            {
                null => null,
                "" => [],
                var e => [e],
            },
            Cmd = args.Cmd.Count > 0 ? [.. args.Cmd] : null,
            WorkingDir = args.WorkingDir,
            User = args.User,
        };
        foreach (var spec in args.VsockPorts)
        {
            options.VsockPorts.Add(ParseVsockPort(spec));
        }

        var publish = args.Publish ?? [];
        for (var i = 0; i < publish.Count; i++)
        {
            options.Publish.Add(PublishedPort.Parse(publish[i], FlagName($"publish[{i.ToString(CultureInfo.InvariantCulture)}]")));
        }

        var volumes = args.Volumes ?? [];
        for (var i = 0; i < volumes.Count; i++)
        {
            options.Volumes.Add(VolumeMount.Parse(volumes[i], FlagName($"volumes[{i.ToString(CultureInfo.InvariantCulture)}]")));
        }

        var mounts = args.Mounts ?? [];
        for (var i = 0; i < mounts.Count; i++)
        {
            options.SocketMounts.Add(UnixSocketMount.Parse(mounts[i], FlagName($"mounts[{i.ToString(CultureInfo.InvariantCulture)}]")));
        }

        var socketForwards = args.SocketForwards ?? [];
        for (var i = 0; i < socketForwards.Count; i++)
        {
            options.SocketForwards.Add(PublishedSocket.Parse(socketForwards[i], FlagName($"socket_forwards[{i.ToString(CultureInfo.InvariantCulture)}]")));
        }

        foreach (var (key, value) in ExecPump.ParseEnv(args.Env))
        {
            options.Env[key] = value;
        }

        // As docker create: no name, a generated one (printed, so scripts can use it).
        return options.Build(FlagName);
    }

    private static string FlagName(string key) => key switch
    {
        "name" => "--name",
        "memory" => "--memory",
        "env" => "--env",
        "working_dir" => "--workdir",
        _ when key.StartsWith("vsock_ports[", StringComparison.Ordinal) =>
            $"--vsock-port #{int.Parse(key.AsSpan(12, key.IndexOf(']', StringComparison.Ordinal) - 12), CultureInfo.InvariantCulture) + 1} {(key.EndsWith(".port", StringComparison.Ordinal) ? "port" : "path")}",
        _ when key.StartsWith("publish[", StringComparison.Ordinal) =>
            $"--publish #{int.Parse(key.AsSpan(8, key.IndexOf(']', StringComparison.Ordinal) - 8), CultureInfo.InvariantCulture) + 1}",
        "volumes" => "--volume",
        "mounts" => "--mount",
        _ when key.StartsWith("mounts[", StringComparison.Ordinal) =>
            $"--mount #{int.Parse(key.AsSpan(7, key.IndexOf(']', StringComparison.Ordinal) - 7), CultureInfo.InvariantCulture) + 1}",
        _ when key.StartsWith("socket_forwards[", StringComparison.Ordinal) =>
            $"--socket-forward #{int.Parse(key.AsSpan(16, key.IndexOf(']', StringComparison.Ordinal) - 16), CultureInfo.InvariantCulture) + 1}",
        _ when key.StartsWith("volumes[", StringComparison.Ordinal) =>
            $"--volume #{int.Parse(key.AsSpan(8, key.IndexOf(']', StringComparison.Ordinal) - 8), CultureInfo.InvariantCulture) + 1}",
        _ => "--" + key.Replace('_', '-'),
    };

    /// <summary><c>-p/--publish [IP:]HOSTPORT:PORT[/udp]</c>, shared with <c>run</c>.</summary>
    internal static readonly Option<string[]> PublishOption = new("--publish", "-p")
    {
        Description = "Publish a box port on the host for the box's lifetime: [IP:]HOSTPORT:PORT[/udp] (repeatable; default IP 127.0.0.1 and ::1).",
        HelpName = "[IP:]HOSTPORT:PORT[/udp]",
    };

    /// <summary><c>--network user|none</c>, shared with <c>run</c>.</summary>
    internal static readonly Option<string> NetworkOption = new("--network")
    {
        Description = "The box's network: user (outbound NAT and DNS through QEMU; nothing inbound) or none (loopback only) [default: user].",
        HelpName = "user|none",
    };

    /// <summary><c>-v/--volume HOST_DIR:PATH[:ro]</c>, shared with <c>run</c>.</summary>
    internal static readonly Option<string[]> VolumeOption = new("--volume", "-v")
    {
        Description = "Share a host directory into the box over virtio-fs: HOST_DIR:PATH[:ro] (repeatable; HOST_DIR absolute and existing).",
        HelpName = "HOST_DIR:PATH[:ro]",
    };

    /// <summary><c>--socket-forward HOST_PATH:BOX_PATH</c>, shared with <c>run</c>.</summary>
    internal static readonly Option<string[]> SocketForwardOption = new("--socket-forward")
    {
        Description = "Serve a UNIX socket of the box on the host for the box's lifetime (owner-only; removed when the box stops): HOST_PATH:BOX_PATH (repeatable; in a box with an image, the socket of its first running container).",
        HelpName = "HOST_PATH:BOX_PATH",
    };

    private static VsockPort ParseVsockPort(string spec)
    {
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == spec.Length - 1
            || !int.TryParse(spec.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw Usage($"--vsock-port '{spec}' is not PORT:PATH (for example 2000:/run/app.sock)");
        }

        return new VsockPort(port, spec[(colon + 1)..]);
    }

    private static void AddIf(List<string> list, bool condition, string flag)
    {
        if (condition)
        {
            list.Add(flag);
        }
    }

    private static CocoonException Usage(string message) => new(CocoonErrorCode.InvalidArgument, message);
}
