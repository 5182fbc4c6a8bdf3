// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Tests.Common.Images;

/// <summary>
/// A one-layer Docker-in-Docker userland made of this machine's Debian packages (docker.io,
/// containerd, runc, iptables, tini; ./scripts/setup installs them): dockerd and what it runs, every
/// shared library they load (found with ldd, iptables' extensions included), iptables as the legacy
/// backend, and busybox for a shell. No registry is reachable, so the tests cannot pull docker:dind.
/// The image's entrypoint is dockerd itself (<see cref="ImageConfig"/>).
/// </summary>
public static class DindLayer
{
    /// <summary>umoci <c>--config.*</c> flags: ENTRYPOINT dockerd, a PATH that finds containerd, runc and iptables.</summary>
    public static readonly IReadOnlyList<string> ImageConfig =
    [
        "--config.entrypoint", "/usr/sbin/dockerd",
        "--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ];

    private static readonly string[] Executables =
    [
        "/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", "/usr/sbin/runc",
        "/usr/sbin/docker-proxy", "/usr/bin/tini-static", "/usr/sbin/xtables-legacy-multi",
    ];

    private static readonly string[] IptablesLinks =
    [
        "iptables", "iptables-save", "iptables-restore", "iptables-legacy", "iptables-legacy-save", "iptables-legacy-restore",
        "ip6tables", "ip6tables-save", "ip6tables-restore", "ip6tables-legacy", "ip6tables-legacy-save", "ip6tables-legacy-restore",
    ];

    private static readonly string[] Applets = ["sh", "ls", "cat", "echo", "grep", "mkdir", "sleep", "ps", "ip", "mount", "true"];

    private const string Extensions = "/usr/lib/x86_64-linux-gnu/xtables";

    /// <summary>The layer's tar.</summary>
    public static async Task<byte[]> BuildAsync()
    {
        foreach (var executable in Executables)
        {
            if (!File.Exists(executable))
            {
                throw new InvalidOperationException($"'{executable}' is missing: install docker.io (./scripts/setup does)");
            }
        }

        var files = new SortedSet<string>(StringComparer.Ordinal) { "/lib64/ld-linux-x86-64.so.2" };
        var elves = Executables.Concat(Directory.EnumerateFiles(Extensions, "*.so")).ToList();
        foreach (var elf in elves)
        {
            files.Add(elf);
            foreach (var library in await HostFiles.LibrariesAsync(elf))
            {
                files.Add(library);
            }
        }

        var tar = new TarBuilder()
            .Directory("bin").Directory("etc").Directory("root", (UnixFileMode)0x1C0).Directory("run").Directory("tmp", (UnixFileMode)0x3FF)
            .Directory("var").Directory("var/lib").Symlink("var/run", "../run")
            .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
            .File("etc/group", "root:x:0:\ndocker:x:999:\n");
        var directories = new HashSet<string>(["bin", "etc", "root", "run", "tmp", "var", "var/lib"], StringComparer.Ordinal);
        foreach (var file in files)
        {
            HostFiles.AddFile(tar, directories, file, file);
        }

        HostFiles.AddFile(tar, directories, "/bin/busybox", "/bin/busybox");
        foreach (var applet in Applets)
        {
            tar.Symlink("bin/" + applet, "busybox");
        }

        HostFiles.AddDirectories(tar, directories, "usr/sbin/x");
        foreach (var link in IptablesLinks)
        {
            tar.Symlink("usr/sbin/" + link, "xtables-legacy-multi");
        }

        tar.Symlink("usr/bin/docker-init", "tini-static");
        return tar.Build();
    }
}
