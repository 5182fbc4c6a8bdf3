// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using Cocoon.Agent.Containers;
using Cocoon.Agent.Processes;

namespace Cocoon.Agent.Tests.Containers;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RuntimeSpecTests
{
    /// <summary>include/uapi/linux/capability.h, for the capabilities Docker grants by default.</summary>
    private static readonly Dictionary<string, int> CapabilityBits = new()
    {
        ["CAP_CHOWN"] = 0,
        ["CAP_DAC_OVERRIDE"] = 1,
        ["CAP_FOWNER"] = 3,
        ["CAP_FSETID"] = 4,
        ["CAP_KILL"] = 5,
        ["CAP_SETGID"] = 6,
        ["CAP_SETUID"] = 7,
        ["CAP_SETPCAP"] = 8,
        ["CAP_NET_BIND_SERVICE"] = 10,
        ["CAP_NET_RAW"] = 13,
        ["CAP_SYS_CHROOT"] = 18,
        ["CAP_MKNOD"] = 27,
        ["CAP_AUDIT_WRITE"] = 29,
        ["CAP_SETFCAP"] = 31,
    };

    private static readonly ContainerProcessSpec Spec = new(
        "web",
        "/run/cocoon/containers/web/rootfs",
        "web-host",
        ["/bin/sh", "-c", "echo hi"],
        ["PATH=/bin", "HOSTNAME=web-host"],
        "/srv",
        new UserSpec(1000, 100, "/home/u"),
        Terminal: true,
        [new("/etc/hosts", "/run/cocoon/containers/web/hosts"), new("/data", "/run/volumes/cocoon-vol-0", ReadOnly: true)]);

    [Fact]
    public void Write_DefaultProfile_CapBndIsDockers()
    {
        using var spec = Parse(ContainerProfile.Default);

        foreach (var set in new[] { "bounding", "effective", "permitted" })
        {
            var names = spec.RootElement.GetProperty("process").GetProperty("capabilities").GetProperty(set).EnumerateArray().Select(e => e.GetString()!).ToList();
            var mask = names.Aggregate(0UL, (bits, name) => bits | (1UL << CapabilityBits[name]));
            Assert.Equal(14, names.Count);
            Assert.Equal(0x00000000a80425fbUL, mask);
        }
    }

    [Fact]
    public void Write_DefaultProfile_DockersMaskedAndReadOnlyPaths()
    {
        using var spec = Parse(ContainerProfile.Default);
        var linux = spec.RootElement.GetProperty("linux");

        Assert.Equal(
            ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"],
            Strings(linux.GetProperty("maskedPaths")));
        Assert.Equal(["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"], Strings(linux.GetProperty("readonlyPaths")));
    }

    [Fact]
    public void Write_DefaultProfile_CgroupReadOnlySysReadOnly()
    {
        using var spec = Parse(ContainerProfile.Default);

        Assert.Contains("ro", Options(spec, "/sys/fs/cgroup"));
        Assert.Contains("ro", Options(spec, "/sys"));
        Assert.Equal("cgroup", Mount(spec, "/sys/fs/cgroup").GetProperty("type").GetString());
    }

    [Fact]
    public void Write_DockerProfile_EveryCapabilityThroughCapCheckpointRestore()
    {
        using var spec = Parse(ContainerProfile.Docker);

        foreach (var set in new[] { "bounding", "effective", "permitted" })
        {
            var names = Strings(spec.RootElement.GetProperty("process").GetProperty("capabilities").GetProperty(set));
            Assert.Equal(41, names.Distinct().Count());
            Assert.Contains("CAP_SYS_ADMIN", names);
            Assert.Contains("CAP_CHECKPOINT_RESTORE", names);
        }
    }

    [Fact]
    public void Write_DockerProfile_NothingMaskedSysAndCgroupWritableCgroupDelegated()
    {
        using var spec = Parse(ContainerProfile.Docker);
        var linux = spec.RootElement.GetProperty("linux");

        Assert.Empty(Strings(linux.GetProperty("maskedPaths")));
        Assert.Empty(Strings(linux.GetProperty("readonlyPaths")));
        Assert.Contains("rw", Options(spec, "/sys"));
        Assert.Contains("rw", Options(spec, "/sys/fs/cgroup"));
        Assert.Equal("init", spec.RootElement.GetProperty("annotations").GetProperty("run.oci.delegate-cgroup").GetString());
    }

    [Fact]
    public void Write_DefaultProfile_NoAnnotations()
    {
        using var spec = Parse(ContainerProfile.Default);

        Assert.False(spec.RootElement.TryGetProperty("annotations", out _));
    }

    [Fact]
    public void For_UnknownProfile_InvalidArgumentNamingIt()
    {
        var e = Assert.Throws<CocoonException>(() => ContainerProfile.For((Protocol.Agent.V1.ContainerProfile)7));

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.Contains("profile 7", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_Namespaces_OwnMountPidIpcUtsCgroupButTheBoxsNetwork()
    {
        using var spec = Parse(ContainerProfile.Default);
        var types = spec.RootElement.GetProperty("linux").GetProperty("namespaces").EnumerateArray().Select(n => n.GetProperty("type").GetString()).ToList();

        Assert.Equal(["pid", "ipc", "uts", "mount", "cgroup"], types);
        Assert.DoesNotContain("network", types);
        Assert.Equal("/cocoon/web", spec.RootElement.GetProperty("linux").GetProperty("cgroupsPath").GetString());
    }

    [Fact]
    public void Write_Process_ArgvEnvCwdUserTerminalRootAndHostname()
    {
        using var spec = Parse(ContainerProfile.Default);
        var process = spec.RootElement.GetProperty("process");

        Assert.Equal(["/bin/sh", "-c", "echo hi"], Strings(process.GetProperty("args")));
        Assert.Equal(["PATH=/bin", "HOSTNAME=web-host"], Strings(process.GetProperty("env")));
        Assert.Equal("/srv", process.GetProperty("cwd").GetString());
        Assert.Equal(1000u, process.GetProperty("user").GetProperty("uid").GetUInt32());
        Assert.Equal(100u, process.GetProperty("user").GetProperty("gid").GetUInt32());
        Assert.True(process.GetProperty("terminal").GetBoolean());
        Assert.Equal("/run/cocoon/containers/web/rootfs", spec.RootElement.GetProperty("root").GetProperty("path").GetString());
        Assert.Equal("web-host", spec.RootElement.GetProperty("hostname").GetString());
        Assert.Equal("/run/cocoon/containers/web/hosts", Mount(spec, "/etc/hosts").GetProperty("source").GetString());
    }

    [Fact]
    public void Write_Binds_RecursivePrivateAndReadOnlyOnlyWhereAsked()
    {
        using var spec = Parse(ContainerProfile.Default);

        Assert.Equal(["rbind", "rprivate"], Options(spec, "/etc/hosts"));
        Assert.Equal(["rbind", "rprivate", "ro"], Options(spec, "/data"));
        Assert.Equal("/run/volumes/cocoon-vol-0", Mount(spec, "/data").GetProperty("source").GetString());
    }

    [Fact]
    public void Write_Devices_DenyAllThenDockersCharDevicesNoBlockAccess()
    {
        using var spec = Parse(ContainerProfile.Default);
        var devices = spec.RootElement.GetProperty("linux").GetProperty("resources").GetProperty("devices").EnumerateArray().ToList();

        Assert.False(devices[0].GetProperty("allow").GetBoolean());
        Assert.Equal("rwm", devices[0].GetProperty("access").GetString());
        Assert.False(devices[0].TryGetProperty("type", out _));
        Assert.Contains(devices, d => d.GetProperty("allow").GetBoolean() && d.GetProperty("type").GetString() == "c"
            && d.GetProperty("major").GetInt64() == 1 && d.GetProperty("minor").GetInt64() == 3 && d.GetProperty("access").GetString() == "rwm");
        Assert.DoesNotContain(devices, d => d.GetProperty("allow").GetBoolean() && d.TryGetProperty("type", out var type) && type.GetString() == "b"
            && d.GetProperty("access").GetString() != "m");
    }

    private static JsonDocument Parse(ContainerProfile profile) => JsonDocument.Parse(RuntimeSpec.Write(Spec, profile));

    private static List<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static JsonElement Mount(JsonDocument spec, string destination) =>
        spec.RootElement.GetProperty("mounts").EnumerateArray().Single(m => m.GetProperty("destination").GetString() == destination);

    private static List<string> Options(JsonDocument spec, string destination) => Strings(Mount(spec, destination).GetProperty("options"));
}
