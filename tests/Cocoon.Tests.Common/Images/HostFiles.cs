// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Formats.Tar;
using System.Text.RegularExpressions;

namespace Cocoon.Tests.Common.Images;

/// <summary>
/// Image layers made of this machine's own executables (./scripts/setup installs the Debian packages):
/// each executable with every shared library ldd finds for it and the dynamic loader, at their host paths.
/// </summary>
public static partial class HostFiles
{
    /// <summary>A layer holding <paramref name="executables"/> and their libraries (to put over <see cref="BusyboxLayer"/>).</summary>
    /// <param name="executables">Absolute host paths of dynamically linked programs (/usr/bin/socat).</param>
    /// <returns>The layer's tar.</returns>
    public static async Task<byte[]> BuildLayerAsync(params string[] executables)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal) { "/lib64/ld-linux-x86-64.so.2" };
        foreach (var executable in executables)
        {
            if (!File.Exists(executable))
            {
                throw new InvalidOperationException($"'{executable}' is missing on this machine: ./scripts/setup installs it");
            }

            files.Add(executable);
            files.UnionWith(await LibrariesAsync(executable));
        }

        var tar = new TarBuilder();
        var directories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            AddFile(tar, directories, file, file);
        }

        return tar.Build();
    }

    /// <summary>The libraries ldd finds for <paramref name="elf"/> (none for a static one).</summary>
    internal static async Task<IEnumerable<string>> LibrariesAsync(string elf)
    {
        var ldd = await ProcessRunner.RunAsync("ldd", [elf], TimeSpan.FromSeconds(30));
        return LibraryLine().Matches(ldd.Stdout).Select(m => m.Groups[1].Value);
    }

    /// <summary>Adds the host file <paramref name="hostPath"/> (links followed) at <paramref name="imagePath"/>, executable, with its directories.</summary>
    internal static void AddFile(TarBuilder tar, HashSet<string> directories, string hostPath, string imagePath)
    {
        var name = imagePath.TrimStart('/');
        AddDirectories(tar, directories, name);
        var info = new FileInfo(hostPath);
        var real = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
        tar.Add(new PaxTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(File.ReadAllBytes(real.FullName)),
            Mode = (UnixFileMode)0x1ED,
        });
    }

    /// <summary>Adds the directories above <paramref name="name"/> not added yet.</summary>
    internal static void AddDirectories(TarBuilder tar, HashSet<string> directories, string name)
    {
        var parts = name.Split('/');
        for (var i = 1; i < parts.Length; i++)
        {
            var directory = string.Join('/', parts[..i]);
            if (directories.Add(directory))
            {
                tar.Directory(directory);
            }
        }
    }

    [GeneratedRegex(@"=> (/\S+) \(0x")]
    private static partial Regex LibraryLine();
}
