// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.Protocol;

namespace Cocoon.Configuration;

/// <summary>
/// The one place box options are checked (flags, YAML and SDK all come here). It touches no state:
/// checks that need the state root (socket path lengths, a free name) happen in the box
/// repository, still before anything is allocated.
/// </summary>
internal static class BoxConfigValidator
{
    /// <summary>Validates <paramref name="options"/> into a config, naming bad fields through <paramref name="names"/>.</summary>
    /// <param name="options">The raw options.</param>
    /// <param name="names">How messages name fields.</param>
    /// <param name="hostCpus">The host's CPU count (the upper bound of cpus); defaults to this host.</param>
    public static BoxConfig Validate(BoxOptions options, FieldNames names, int? hostCpus = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(names);

        var name = options.Name is null ? CocoonRuntime.GenerateName() : BoxName.Validate(options.Name, names["name"]);
        var image = ValidateImage(options.Image, names["image"]);

        var maxCpus = hostCpus ?? Environment.ProcessorCount;
        var cpus = options.Cpus ?? BoxOptions.DefaultCpus;
        if (cpus < 1 || cpus > maxCpus)
        {
            throw Invalid($"{names["cpus"]} {cpus} is out of range: use 1 to {maxCpus} (the host's CPU count)");
        }

        var memory = options.MemoryMiB ?? BoxOptions.DefaultMemoryMiB;
        if (memory < MemorySize.MinMiB || memory > MemorySize.MaxMiB)
        {
            throw Invalid($"{names["memory"]} {memory} MiB is out of range: use {MemorySize.MinMiB} MiB to {MemorySize.MaxMiB} MiB");
        }

        var network = options.Network ?? BoxNetwork.User;
        if (!Enum.IsDefined(network))
        {
            throw Invalid($"{names["network"]} {(int)network} is not a network: use user or none");
        }

        if (options.DiskSizeMiB is < MinDiskSizeMiB or > MaxDiskSizeMiB)
        {
            throw Invalid($"{names["disk_size"]} {options.DiskSizeMiB} MiB is out of range: use {MinDiskSizeMiB} MiB to {MaxDiskSizeMiB / (1024 * 1024)} TiB");
        }

        if (options.SupportDocker && image is null)
        {
            throw Invalid($"{names["support_docker"]} applies to a box's containers, and a box without an image has none: give it an image with dockerd ({names["image"]})");
        }

        if (image is null && (options.Entrypoint is not null || options.Cmd is not null || options.WorkingDir is not null || options.User is not null))
        {
            var (field, what) = options.Entrypoint is not null ? ("entrypoint", "the command")
                : options.Cmd is not null ? ("cmd", "the command")
                : options.WorkingDir is not null ? ("working_dir", "the working directory")
                : ("user", "the user");
            throw Invalid($"{names[field]} sets {what} of the box's container, and a box without an image has none: give it an image ({names["image"]}), or run commands in the box with cocoon exec");
        }

        if (options.WorkingDir is { } workingDir && (!workingDir.StartsWith('/') || workingDir.Contains('\0', StringComparison.Ordinal)))
        {
            throw Invalid($"{names["working_dir"]} '{workingDir}' is not an absolute path: give the container's working directory from / (for example /app)");
        }

        if (options.User is { } user && (user.Length == 0 || user.Any(c => char.IsWhiteSpace(c) || c == '\0')))
        {
            throw Invalid($"{names["user"]} '{user}' is not a user: give a name, UID or UID:GID (for example 1000:1000)");
        }

        var mounts = ValidateSocketMounts(options.SocketMounts, names);
        if (mounts.Count > 0 && image is null)
        {
            throw Invalid($"{names["mounts"]} applies to a box's containers, and a box without an image has none: give it an image ({names["image"]}), or reach host sockets from the box through {names["vsock_ports"]}");
        }

        return new BoxConfig
        {
            Name = name,
            Image = image,
            Cpus = cpus,
            MemoryMiB = memory,
            DiskSizeMiB = options.DiskSizeMiB,
            VsockPorts = ValidatePorts(options.VsockPorts, names),
            Publish = ValidatePublish(options.Publish, names),
            SocketForwards = ValidateSocketForwards(options.SocketForwards, names),
            SocketMounts = mounts,
            Network = network,
            Volumes = ValidateVolumes(options.Volumes, names),
            SupportDocker = options.SupportDocker,
            Entrypoint = ValidateArguments(options.Entrypoint, names["entrypoint"]),
            Cmd = ValidateArguments(options.Cmd, names["cmd"]),
            WorkingDir = options.WorkingDir,
            User = options.User,
            Env = ValidateEnv(options.Env, names["env"]),
        };
    }

    /// <summary>The smallest scratch disk in MiB (ext4 with a journal needs a few).</summary>
    public const int MinDiskSizeMiB = 64;

    /// <summary>The largest scratch disk in MiB (16 TiB, ext4's limit with 4 KiB blocks).</summary>
    public const int MaxDiskSizeMiB = 16 * 1024 * 1024;

    /// <summary>Checks one guest→host port number.</summary>
    public static void ValidatePort(int port, string field)
    {
        if (port is < 1 or > 65535)
        {
            throw Invalid($"{field} {port} is out of range: use 1 to 65535 (2000 and up by convention)");
        }

        if (port is (int)AgentPorts.Control or (int)AgentPorts.Streams)
        {
            throw Invalid($"{field} {port} is reserved for the guest agent ({AgentPorts.Control} and {AgentPorts.Streams}): pick another port, 2000 and up by convention");
        }
    }

    /// <summary>Reads a network name as the CLI and box.yaml spell it (<c>user</c>, <c>none</c>).</summary>
    /// <exception cref="CocoonException">Any other word (InvalidArgument); the message names <paramref name="field"/>.</exception>
    public static BoxNetwork ParseNetwork(string? text, string field) => text switch
    {
        "user" => BoxNetwork.User,
        "none" => BoxNetwork.None,
        _ => throw Invalid($"{field} '{text}' is not supported: use user (outbound NAT and DNS through QEMU, the default) or none (loopback only)"),
    };

    /// <summary>Checks that <paramref name="key"/> is an environment variable name.</summary>
    public static void ValidateEnvKey(string key, string field)
    {
        var valid = key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_');
        foreach (var c in key)
        {
            valid &= char.IsAsciiLetterOrDigit(c) || c == '_';
        }

        if (!valid)
        {
            throw Invalid($"{field} key '{key}' is not a valid variable name: use letters, digits and '_', not starting with a digit");
        }
    }

    private static string? ValidateImage(string? image, string field)
    {
        if (image is null)
        {
            return null;
        }

        if (image.Length == 0 || image.Length > 4096 || image.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw Invalid($"{field} '{image}' is not an image reference: it must be non-empty, without spaces or control characters (for example 'busybox' or 'docker.io/library/alpine:3.20')");
        }

        return image;
    }

    /// <summary>
    /// A guest→host socket may appear later, but its directory must exist: otherwise every guest
    /// connection would fail silently. Checked at create and again at start.
    /// </summary>
    /// <exception cref="CocoonException">The directory does not exist (InvalidArgument).</exception>
    internal static void EnsureSocketDirectoryExists(string socketPath, string field)
    {
        var directory = Path.GetDirectoryName(socketPath);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw Invalid($"{field} '{socketPath}': the directory '{directory}' does not exist; create it (the socket itself may appear later)");
        }
    }

    private static List<VsockPort> ValidatePorts(IList<VsockPort> ports, FieldNames names)
    {
        var seen = new HashSet<int>();
        var result = new List<VsockPort>(ports.Count);
        for (var i = 0; i < ports.Count; i++)
        {
            var entry = ports[i] ?? throw Invalid($"{names["vsock_ports"]} entry {i} is empty");
            var index = i.ToString(CultureInfo.InvariantCulture);
            ValidatePort(entry.Port, names[$"vsock_ports[{index}].port"]);
            if (!seen.Add(entry.Port))
            {
                throw Invalid($"{names[$"vsock_ports[{index}].port"]} {entry.Port} is listed twice: each guest→host port maps to one socket");
            }

            var pathField = names[$"vsock_ports[{index}].path"];
            if (string.IsNullOrEmpty(entry.Path) || !Path.IsPathFullyQualified(entry.Path) || entry.Path.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"{pathField} '{entry.Path}' must be an absolute host socket path");
            }

            UnixSocketPath.EnsureFits(entry.Path, pathField, "use a shorter path");
            EnsureSocketDirectoryExists(entry.Path, pathField);
            result.Add(entry);
        }

        return result;
    }

    private static List<PublishedPort> ValidatePublish(IList<PublishedPort> ports, FieldNames names)
    {
        var seen = new HashSet<(string?, int, string)>();
        var result = new List<PublishedPort>(ports.Count);
        for (var i = 0; i < ports.Count; i++)
        {
            var field = names[$"publish[{i.ToString(CultureInfo.InvariantCulture)}]"];
            var entry = ports[i] ?? throw Invalid($"{field} is empty");
            if (entry.HostPort is < 1 or > 65535)
            {
                throw Invalid($"{field} '{entry}': host port {entry.HostPort} is out of range: use 1 to 65535");
            }

            if (entry.Port is < 1 or > 65535)
            {
                throw Invalid($"{field} '{entry}': port {entry.Port} is out of range: use 1 to 65535");
            }

            var network = entry.Network?.ToLowerInvariant();
            if (network is not ("tcp" or "udp"))
            {
                throw Invalid($"{field} '{entry}': network '{entry.Network}' is not supported: use tcp or udp");
            }

            if (entry.HostAddress is { } address && !System.Net.IPAddress.TryParse(address, out _))
            {
                throw Invalid($"{field} '{entry}': host address '{address}' is not an IP address");
            }

            if (!seen.Add((entry.HostAddress, entry.HostPort, network)))
            {
                throw Invalid($"{field} '{entry}': host port {entry.HostPort}/{network} is published twice");
            }

            result.Add(entry with { Network = network });
        }

        return result;
    }

    private static List<UnixSocketMount> ValidateSocketMounts(IList<UnixSocketMount> mounts, FieldNames names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<UnixSocketMount>(mounts.Count);
        for (var i = 0; i < mounts.Count; i++)
        {
            var field = names[$"mounts[{i.ToString(CultureInfo.InvariantCulture)}]"];
            var entry = mounts[i] ?? throw Invalid($"{field} is empty");
            entry.Validate(field);
            if (!seen.Add(entry.Destination))
            {
                throw Invalid($"{field}: the destination '{entry.Destination}' is used twice; give each uds mount its own");
            }

            result.Add(entry);
        }

        return result;
    }

    private static List<PublishedSocket> ValidateSocketForwards(IList<PublishedSocket> forwards, FieldNames names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<PublishedSocket>(forwards.Count);
        for (var i = 0; i < forwards.Count; i++)
        {
            var field = names[$"socket_forwards[{i.ToString(CultureInfo.InvariantCulture)}]"];
            var entry = forwards[i] ?? throw Invalid($"{field} is empty");
            UnixSocketPath.EnsureValid(entry.HostPath, $"{field} host path");
            UnixSocketPath.EnsureValid(entry.BoxPath, $"{field} box path");
            if (entry.Container is { } container && !ContainerName.IsValid(container))
            {
                throw Invalid($"{field}: {ContainerName.Invalid(container)}");
            }

            EnsureSocketDirectoryExists(entry.HostPath, $"{field} host path");

            // A socket there may be stale and is replaced at start (a live one fails the start); anything else would be lost.
            if (SocketForward.HoldsOtherThanSocket(entry.HostPath))
            {
                throw Invalid($"{field} host path '{entry.HostPath}' exists and is not a socket; remove it or pick another path");
            }

            if (!seen.Add(entry.HostPath))
            {
                throw Invalid($"{field} host path '{entry.HostPath}' is used twice; each socket forward needs its own");
            }

            result.Add(entry);
        }

        return result;
    }

    /// <summary>The most volumes a box takes: each is one virtio-fs device and one virtiofsd.</summary>
    public const int MaxVolumes = 8;

    private static readonly string[] ReservedGuestPaths = ["/proc", "/sys", "/dev"];

    private static List<VolumeMount> ValidateVolumes(IList<VolumeMount> volumes, FieldNames names)
    {
        if (volumes.Count > MaxVolumes)
        {
            throw Invalid($"{names["volumes"]}: {volumes.Count} volumes are more than the {MaxVolumes} a box takes; share a common parent directory instead");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<VolumeMount>(volumes.Count);
        for (var i = 0; i < volumes.Count; i++)
        {
            var field = names[$"volumes[{i.ToString(CultureInfo.InvariantCulture)}]"];
            var entry = volumes[i] ?? throw Invalid($"{field} is empty");
            var host = entry.HostPath;
            if (string.IsNullOrEmpty(host) || !Path.IsPathFullyQualified(host) || host.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"{field} '{entry}': the host directory '{host}' must be an absolute path (for example $PWD/data)");
            }

            // virtiofsd takes its directory as a comma-separated -o option.
            if (host.Contains(',', StringComparison.Ordinal))
            {
                throw Invalid($"{field} '{entry}': the host directory '{host}' contains ',', which virtiofsd cannot take; use a path without commas");
            }

            if (!Directory.Exists(host))
            {
                throw Invalid(File.Exists(host)
                    ? $"{field} '{entry}': '{host}' is a file; a volume shares a directory (copy single files with cocoon cp)"
                    : $"{field} '{entry}': the host directory '{host}' does not exist; create it first");
            }

            var guest = entry.GuestPath;
            if (string.IsNullOrEmpty(guest) || guest[0] != '/' || guest.Contains('\0', StringComparison.Ordinal)
                || guest.Split('/').Any(part => part is "." or ".."))
            {
                throw Invalid($"{field} '{entry}': the guest path '{guest}' must be an absolute path without '.' or '..' parts");
            }

            var normal = "/" + string.Join('/', guest.Split('/', StringSplitOptions.RemoveEmptyEntries));
            if (normal == "/" || ReservedGuestPaths.Any(r => normal == r || normal.StartsWith(r + "/", StringComparison.Ordinal)))
            {
                throw Invalid($"{field} '{entry}': the guest path '{guest}' is reserved for the box itself; pick another (for example /data)");
            }

            if (!seen.Add(normal))
            {
                throw Invalid($"{field} '{entry}': the guest path '{normal}' is used twice; each volume needs its own path");
            }

            result.Add(entry with { HostPath = Path.TrimEndingDirectorySeparator(host), GuestPath = normal });
        }

        return result;
    }

    private static List<string>? ValidateArguments(IList<string>? arguments, string field)
    {
        if (arguments is null)
        {
            return null;
        }

        foreach (var argument in arguments)
        {
            if (argument is null || argument.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"{field} contains an empty (null) or NUL-containing argument");
            }
        }

        return [.. arguments];
    }

    private static Dictionary<string, string> ValidateEnv(IDictionary<string, string> env, string field)
    {
        var result = new Dictionary<string, string>(env.Count, StringComparer.Ordinal);
        foreach (var (key, value) in env)
        {
            ValidateEnvKey(key, field);
            if (value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                throw Invalid($"{field} value of '{key}' must be a string without NUL characters");
            }

            result[key] = value;
        }

        return result;
    }

    private static CocoonException Invalid(string message) => new(CocoonErrorCode.InvalidArgument, message);
}
