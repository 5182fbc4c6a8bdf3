// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Formats.Tar;
using System.Runtime.Versioning;

namespace Cocoon.Vsock.Streams;

/// <summary>How an unpacked tar stream lands at its destination.</summary>
public enum CopyPlacement : byte
{
    /// <summary>
    /// <c>docker cp</c>'s rule for an archive of one file or directory (what <see cref="TarCopy.PackAsync"/>
    /// writes): into the destination when it is a directory, else as the destination (its directory
    /// must exist); a source ending in <c>/.</c> copies the directory's contents.
    /// </summary>
    Place = 1,

    /// <summary>Unpack the archive as it is into the destination, which must be an existing directory (<c>cocoon cp - BOX:DIR</c>).</summary>
    Into = 2,
}

/// <summary>
/// The tar side of <c>cocoon cp</c>, the same code on the host and in the agent: packs a file or
/// directory tree into a tar stream and unpacks one with <c>docker cp</c>'s placement rules.
/// </summary>
/// <remarks>
/// <para>
/// The archive holds one top entry, named after the source (or <c>.</c> for a source ending in
/// <c>/.</c>), then everything under it, in PAX format: owners, modes, times and symbolic links are
/// kept; links are archived as links and never followed.
/// </para>
/// <para>
/// Unpacking treats the archive as hostile (the box is untrusted, and so is a tar on stdin): absolute
/// names and <c>..</c> are refused, no entry is written through a symbolic link (each directory on
/// the way is checked with lstat, and a link in the way is an error), an existing link at an entry's
/// place is replaced, not followed, and hard links must point at a regular file unpacked inside the
/// destination (they are copied). Device nodes and FIFOs are refused. Owners are set when the
/// process may (root); when <c>dropSetId</c> is set, as on the host for an archive from a box, set-user-ID
/// and set-group-ID bits are dropped.
/// </para>
/// </remarks>
public static class TarCopy
{
    private const UnixFileMode SetIdBits = UnixFileMode.SetUser | UnixFileMode.SetGroup;

    private enum Node
    {
        None,
        File,
        Directory,
        Link,
    }

    /// <summary>Checks that <paramref name="source"/> exists (without following a final link).</summary>
    /// <param name="source">The path to pack.</param>
    /// <exception cref="StreamException">not-found naming the path.</exception>
    public static void CheckSource(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var path = SourcePath(source, out _);
        if (Lstat(path) == Node.None)
        {
            throw new StreamException(StreamStatusCode.NotFound, $"no such file or directory: {source}");
        }
    }

    /// <summary>
    /// Checks, before any byte flows, that an archive can land at <paramref name="destination"/>: for
    /// <see cref="CopyPlacement.Into"/> an existing directory; for <see cref="CopyPlacement.Place"/>
    /// an existing path, or a missing one whose directory exists.
    /// </summary>
    /// <param name="destination">Where to unpack.</param>
    /// <param name="placement">How.</param>
    /// <exception cref="StreamException">not-found or bad-path naming the path.</exception>
    public static void CheckDestination(string destination, CopyPlacement placement)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var trimmed = TrimEnd(destination);
        if (placement == CopyPlacement.Into)
        {
            if (!Directory.Exists(trimmed))
            {
                throw Lstat(trimmed) == Node.None
                    ? new StreamException(StreamStatusCode.NotFound, $"destination directory {destination} does not exist")
                    : new StreamException(StreamStatusCode.BadPath, $"destination {destination} is not a directory; a tar stream unpacks into a directory");
            }

            return;
        }

        if (Lstat(trimmed) != Node.None || Directory.Exists(trimmed))
        {
            return;
        }

        var parent = Path.GetDirectoryName(trimmed);
        if (string.IsNullOrEmpty(parent) || !Directory.Exists(parent))
        {
            throw new StreamException(StreamStatusCode.NotFound, $"destination directory {parent} does not exist (copying to {destination})");
        }
    }

    /// <summary>
    /// Writes a tar stream of <paramref name="source"/> (a file, a link, or a directory and everything
    /// under it) to <paramref name="output"/>.
    /// </summary>
    /// <param name="source">The path; ending in <c>/.</c> archives a directory's contents.</param>
    /// <param name="output">Where the archive goes; left open.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>A task that completes once the archive is written.</returns>
    /// <exception cref="StreamException">not-found when the source does not exist.</exception>
    public static async Task PackAsync(string source, Stream output, CancellationToken cancellationToken = default)
    {
        CheckSource(source);
        var path = SourcePath(source, out var contents);
        var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        await using (writer.ConfigureAwait(false))
        {
            var top = contents ? "." : Path.GetFileName(TrimEnd(path));
            if (top.Length == 0)
            {
                top = ".";
            }

            await WriteTreeAsync(writer, path, top, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a tar stream from <paramref name="input"/> and unpacks it at <paramref name="destination"/>.</summary>
    /// <param name="input">The archive; read to its end-of-archive marker.</param>
    /// <param name="destination">Where it lands (see <see cref="CopyPlacement"/>).</param>
    /// <param name="placement">How it lands.</param>
    /// <param name="dropSetId">Drop set-user-ID and set-group-ID bits (an archive from an untrusted box).</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>How many entries were unpacked.</returns>
    /// <exception cref="StreamException">not-found or bad-path for a destination it cannot land at; bad-path for a hostile or broken archive.</exception>
    public static async Task<int> UnpackAsync(Stream input, string destination, CopyPlacement placement, bool dropSetId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Cocoon runs on Linux only");
        }

        CheckDestination(destination, placement);
        var reader = new TarReader(input, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            var first = await NextAsync(reader, cancellationToken).ConfigureAwait(false);
            if (first is null)
            {
                return placement == CopyPlacement.Into ? 0 : throw new StreamException(StreamStatusCode.BadPath, "the archive is empty");
            }

            var target = Plan(first, destination, placement);
            var directories = new List<(string Path, TarEntry Entry)>();
            var count = 0;
            for (var entry = first; entry is not null; entry = await NextAsync(reader, cancellationToken).ConfigureAwait(false))
            {
                var parts = target.Map(entry.Name);
                await WriteEntryAsync(target.Base, parts, entry, target, directories, dropSetId, cancellationToken).ConfigureAwait(false);
                count++;
            }

            // Directory modes and times last, deepest first: a read-only directory would refuse its
            // own children, and writing a child changes its directory's time.
            for (var i = directories.Count - 1; i >= 0; i--)
            {
                ApplyMetadata(directories[i].Path, directories[i].Entry, dropSetId);
            }

            return count;
        }
    }

    private static async Task WriteTreeAsync(TarWriter writer, string path, string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            await writer.WriteEntryAsync(path, name, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new StreamException(StreamStatusCode.BadPath, $"cannot archive {path}: {e.Message}", e);
        }

        if (Lstat(path) != Node.Directory)
        {
            return;
        }

        var children = Directory.GetFileSystemEntries(path);
        Array.Sort(children, StringComparer.Ordinal);
        foreach (var child in children)
        {
            var childName = name == "." ? Path.GetFileName(child) : name + "/" + Path.GetFileName(child);
            await WriteTreeAsync(writer, child, childName, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<TarEntry?> NextAsync(TarReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new StreamException(StreamStatusCode.BadPath, $"the tar stream is broken: {e.Message}", e);
        }
    }

    /// <summary>Decides where the archive's top entry lands (the placement rules), before anything is written.</summary>
    private static Target Plan(TarEntry first, string destination, CopyPlacement placement)
    {
        var trimmed = TrimEnd(destination);
        var parts = Split(first.Name);
        var top = parts.Length == 0 ? "." : parts[0];
        if (placement == CopyPlacement.Into)
        {
            return new Target(trimmed, null, null, CreateBase: false);
        }

        var isDirectory = first.EntryType == TarEntryType.Directory;
        if (Directory.Exists(trimmed))
        {
            return new Target(trimmed, top, top == "." ? null : top, CreateBase: false);
        }

        if (Lstat(trimmed) != Node.None)
        {
            return isDirectory
                ? throw new StreamException(StreamStatusCode.BadPath, $"cannot copy a directory onto the file {destination}")
                : new Target(Path.GetDirectoryName(trimmed)!, top, Path.GetFileName(trimmed), CreateBase: false);
        }

        if (!isDirectory && destination.EndsWith('/'))
        {
            throw new StreamException(StreamStatusCode.NotFound, $"destination directory {destination} does not exist");
        }

        // A directory's contents ('.') become the new directory itself.
        return top == "."
            ? new Target(trimmed, ".", null, CreateBase: true)
            : new Target(Path.GetDirectoryName(trimmed)!, top, Path.GetFileName(trimmed), CreateBase: false);
    }

    [SupportedOSPlatform("linux")]
    private static async Task WriteEntryAsync(
        string root, string[] parts, TarEntry entry, Target target, List<(string, TarEntry)> directories, bool dropSetId, CancellationToken cancellationToken)
    {
        if (parts.Length == 0)
        {
            // The archive's '.': the destination directory itself.
            if (target.CreateBase)
            {
                Directory.CreateDirectory(root);
                directories.Add((root, entry));
            }

            return;
        }

        var path = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            path = Path.Join(path, parts[i]);
            switch (Lstat(path))
            {
                case Node.None:
                    Directory.CreateDirectory(path);
                    break;
                case Node.Directory:
                    break;
                default:
                    throw new StreamException(StreamStatusCode.BadPath, $"tar entry '{entry.Name}' would be written through {path}, which is not a directory (links are never followed)");
            }
        }

        path = Path.Join(path, parts[^1]);
        var existing = Lstat(path);
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                if (existing is Node.File or Node.Link)
                {
                    File.Delete(path);
                }

                Directory.CreateDirectory(path);
                directories.Add((path, entry));
                return;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                Replace(path, existing, entry.Name);
                var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
                await using (file.ConfigureAwait(false))
                {
                    if (entry.DataStream is { } data)
                    {
                        await data.CopyToAsync(file, 128 * 1024, cancellationToken).ConfigureAwait(false);
                    }
                }

                ApplyMetadata(path, entry, dropSetId);
                return;
            case TarEntryType.SymbolicLink:
                Replace(path, existing, entry.Name);
                File.CreateSymbolicLink(path, entry.LinkName);
                SetOwner(path, entry);
                return;
            case TarEntryType.HardLink:
                var linked = Path.Join(target.Base, Path.Join(target.Map(entry.LinkName)));
                if (Lstat(linked) != Node.File || !IsUnder(linked, target.Base))
                {
                    throw new StreamException(StreamStatusCode.BadPath, $"tar entry '{entry.Name}' is a hard link to '{entry.LinkName}', which is not a regular file unpacked by this copy");
                }

                Replace(path, existing, entry.Name);
                File.Copy(linked, path);
                ApplyMetadata(path, entry, dropSetId);
                return;
            default:
                throw new StreamException(StreamStatusCode.BadPath, $"tar entry '{entry.Name}' is a {entry.EntryType}; cp copies files, directories and links only");
        }
    }

    private static void Replace(string path, Node existing, string name)
    {
        switch (existing)
        {
            case Node.Directory:
                throw new StreamException(StreamStatusCode.BadPath, $"tar entry '{name}' would replace the directory {path}");
            case Node.File or Node.Link:
                File.Delete(path);
                break;
        }
    }

    [SupportedOSPlatform("linux")]
    private static void ApplyMetadata(string path, TarEntry entry, bool dropSetId)
    {
        SetOwner(path, entry);

        // After the owner: chown clears set-ID bits.
        File.SetUnixFileMode(path, dropSetId ? entry.Mode & ~SetIdBits : entry.Mode);
        File.SetLastWriteTimeUtc(path, entry.ModificationTime.UtcDateTime);
    }

    private static void SetOwner(string path, TarEntry entry)
    {
        if (Environment.IsPrivilegedProcess && entry is PosixTarEntry posix)
        {
            Interop.Lchown(path, posix.Uid, posix.Gid);
        }
    }

    private static Node Lstat(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            return Node.Link;
        }

        return Directory.Exists(path) ? Node.Directory : info.Exists ? Node.File : Node.None;
    }

    private static string[] Split(string name)
    {
        if (name.StartsWith('/'))
        {
            throw new StreamException(StreamStatusCode.BadPath, $"tar entry '{name}' has an absolute name");
        }

        var parts = name.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToArray();
        return parts.Contains("..")
            ? throw new StreamException(StreamStatusCode.BadPath, $"tar entry '{name}' climbs out with '..'")
            : parts;
    }

    private static bool IsUnder(string path, string root) =>
        Path.GetFullPath(path).StartsWith(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + "/", StringComparison.Ordinal);

    private static string SourcePath(string source, out bool contents)
    {
        contents = source.EndsWith("/.", StringComparison.Ordinal) || source == ".";
        return contents ? source[..^1] : source;
    }

    private static string TrimEnd(string path) => path.Length > 1 ? path.TrimEnd('/') is { Length: > 0 } t ? t : "/" : path;

    /// <summary>Where an archive lands: <see cref="Base"/> plus each entry's name, its top part renamed.</summary>
    /// <param name="Base">The directory entries are unpacked under.</param>
    /// <param name="Top">The archive's top name every entry must start with; null for any (<see cref="CopyPlacement.Into"/>).</param>
    /// <param name="Rename">What the top name becomes; null to keep it (or, for '.', to drop it).</param>
    /// <param name="CreateBase">The '.' entry creates <see cref="Base"/>.</param>
    private sealed record Target(string Base, string? Top, string? Rename, bool CreateBase)
    {
        public string[] Map(string name)
        {
            var parts = Split(name);
            if (Top is null or ".")
            {
                return parts;
            }

            if (parts.Length == 0 || parts[0] != Top)
            {
                throw new StreamException(StreamStatusCode.BadPath, $"tar entry '{name}' is outside the archive's top entry '{Top}'");
            }

            if (Rename is not null)
            {
                parts[0] = Rename;
            }

            return parts;
        }
    }
}
