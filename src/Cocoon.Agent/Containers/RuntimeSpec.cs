// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using Cocoon.Agent.Processes;

namespace Cocoon.Agent.Containers;

/// <summary>What the OCI runtime spec of one container is made of, validated.</summary>
/// <param name="Name">The container name (crun's id, the cgroup's name).</param>
/// <param name="Rootfs">The absolute path of the container's root (the overlay).</param>
/// <param name="Hostname">The UTS hostname.</param>
/// <param name="Argv">The process's argv.</param>
/// <param name="Env">The whole environment, KEY=VALUE.</param>
/// <param name="WorkingDir">The absolute working directory inside the container.</param>
/// <param name="User">The user and group to run as.</param>
/// <param name="Terminal">Whether the process gets a terminal.</param>
/// <param name="Binds">Bind mounts over the container's own files: the bundle's /etc files and the box's volumes.</param>
internal sealed record ContainerProcessSpec(
    string Name,
    string Rootfs,
    string Hostname,
    IReadOnlyList<string> Argv,
    IReadOnlyList<string> Env,
    string WorkingDir,
    UserSpec User,
    bool Terminal,
    IReadOnlyList<BindMount> Binds);

/// <summary>A path of the box bound into a container.</summary>
/// <param name="Destination">The absolute path inside the container.</param>
/// <param name="Source">The absolute path in the box.</param>
/// <param name="ReadOnly">Whether the container may only read it.</param>
internal readonly record struct BindMount(string Destination, string Source, bool ReadOnly = false);

/// <summary>
/// Writes a container's <c>config.json</c> (OCI runtime spec 1.0.2) for crun: the process, the
/// profile's capabilities, masks and read-only paths, the standard mounts, and the namespaces: own
/// mount, PID, IPC, UTS and cgroup; none for the network, so every container of a box shares the
/// box's (a pod).
/// </summary>
internal static class RuntimeSpec
{
    /// <summary>The cgroup (under /sys/fs/cgroup) that holds every container's own cgroup.</summary>
    public const string CgroupParent = "/cocoon";

    /// <summary>The spec's JSON, UTF-8.</summary>
    public static byte[] Write(ContainerProcessSpec spec, ContainerProfile profile)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(profile);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("ociVersion", "1.0.2");
            WriteProcess(json, spec, profile);
            json.WriteStartObject("root");
            json.WriteString("path", spec.Rootfs);
            json.WriteBoolean("readonly", false);
            json.WriteEndObject();
            json.WriteString("hostname", spec.Hostname);
            WriteMounts(json, spec, profile);
            WriteLinux(json, spec, profile);
            if (profile.DelegatedCgroup is { } delegated)
            {
                json.WriteStartObject("annotations");
                json.WriteString("run.oci.delegate-cgroup", delegated);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteProcess(Utf8JsonWriter json, ContainerProcessSpec spec, ContainerProfile profile)
    {
        json.WriteStartObject("process");
        json.WriteBoolean("terminal", spec.Terminal);
        json.WriteStartObject("user");
        json.WriteNumber("uid", spec.User.Uid);
        json.WriteNumber("gid", spec.User.Gid);
        json.WriteEndObject();
        Strings(json, "args", spec.Argv);
        Strings(json, "env", spec.Env);
        json.WriteString("cwd", spec.WorkingDir);
        json.WriteStartObject("capabilities");
        foreach (var set in new[] { "bounding", "effective", "permitted" })
        {
            Strings(json, set, profile.Capabilities);
        }

        json.WriteEndObject();
        json.WriteStartArray("rlimits");
        json.WriteStartObject();
        json.WriteString("type", "RLIMIT_NOFILE");
        json.WriteNumber("hard", 1048576);
        json.WriteNumber("soft", 1048576);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteBoolean("noNewPrivileges", false);
        json.WriteEndObject();
    }

    private static void WriteMounts(Utf8JsonWriter json, ContainerProcessSpec spec, ContainerProfile profile)
    {
        json.WriteStartArray("mounts");
        Mount(json, "/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]);
        Mount(json, "/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]);
        Mount(json, "/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]);
        Mount(json, "/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]);
        Mount(json, "/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]);
        Mount(json, "/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", profile.SysReadOnly ? "ro" : "rw"]);
        Mount(json, "/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "relatime", profile.CgroupReadOnly ? "ro" : "rw"]);
        foreach (var (destination, source, readOnly) in spec.Binds)
        {
            Mount(json, destination, "bind", source, readOnly ? ["rbind", "rprivate", "ro"] : ["rbind", "rprivate"]);
        }

        json.WriteEndArray();
    }

    private static void WriteLinux(Utf8JsonWriter json, ContainerProcessSpec spec, ContainerProfile profile)
    {
        json.WriteStartObject("linux");
        json.WriteStartArray("namespaces");
        foreach (var type in new[] { "pid", "ipc", "uts", "mount", "cgroup" })
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteString("cgroupsPath", CgroupParent + "/" + spec.Name);
        json.WriteStartObject("resources");
        json.WriteStartArray("devices");
        Device(json, allow: false, type: null, major: null, minor: null, "rwm");
        foreach (var (major, minor) in ContainerProfile.AllowedCharDevices)
        {
            Device(json, allow: true, "c", major, minor, "rwm");
        }

        // Creating nodes is allowed (with CAP_MKNOD); using them is not, unless listed above.
        Device(json, allow: true, "c", null, null, "m");
        Device(json, allow: true, "b", null, null, "m");
        json.WriteEndArray();
        json.WriteEndObject();
        Strings(json, "maskedPaths", profile.MaskedPaths);
        Strings(json, "readonlyPaths", profile.ReadonlyPaths);
        json.WriteEndObject();
    }

    private static void Mount(Utf8JsonWriter json, string destination, string type, string source, IReadOnlyList<string> options)
    {
        json.WriteStartObject();
        json.WriteString("destination", destination);
        json.WriteString("type", type);
        json.WriteString("source", source);
        Strings(json, "options", options);
        json.WriteEndObject();
    }

    private static void Device(Utf8JsonWriter json, bool allow, string? type, long? major, long? minor, string access)
    {
        json.WriteStartObject();
        json.WriteBoolean("allow", allow);
        if (type is not null)
        {
            json.WriteString("type", type);
        }

        if (major is { } majorNumber)
        {
            json.WriteNumber("major", majorNumber);
        }

        if (minor is { } minorNumber)
        {
            json.WriteNumber("minor", minorNumber);
        }

        json.WriteString("access", access);
        json.WriteEndObject();
    }

    private static void Strings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
