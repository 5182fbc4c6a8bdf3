// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Formats.Tar;

namespace Cocoon.Tests.Common.Images;

/// <summary>
/// A one-layer userland built from this machine's <c>/bin/busybox</c> (busybox-static): its applets
/// as links in /bin, /srv, a sticky /tmp, and an /etc/passwd with root and app (1000:1000).
/// </summary>
public static class BusyboxLayer
{
    /// <summary>The applets linked into /bin.</summary>
    public static readonly IReadOnlyList<string> Applets =
        ["sh", "echo", "cat", "grep", "hostname", "id", "nc", "sleep", "seq", "mkdir", "touch", "wc", "head", "true"];

    /// <summary>The layer's tar.</summary>
    public static byte[] Build() => Build(Applets);

    /// <summary>The layer's tar with <paramref name="applets"/> linked into /bin.</summary>
    public static byte[] Build(IEnumerable<string> applets)
    {
        var tar = new TarBuilder()
            .Directory("bin")
            .Directory("etc")
            .Directory("srv")
            .Directory("tmp", (UnixFileMode)0x3FF)
            .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
            .File("etc/group", "root:x:0:\napp:x:1000:\n");
        tar.Add(new PaxTarEntry(TarEntryType.RegularFile, "bin/busybox")
        {
            DataStream = new MemoryStream(File.ReadAllBytes("/bin/busybox")),
            Mode = (UnixFileMode)0x1ED,
        });
        foreach (var applet in applets)
        {
            tar.Symlink("bin/" + applet, "busybox");
        }

        return tar.Build();
    }
}
