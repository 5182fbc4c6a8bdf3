// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Cocoon.Guest;

/// <summary>
/// Collects the files of a guest initramfs and writes them as an uncompressed newc cpio archive
/// (uncompressed because decompressing under TCG costs more than reading the extra bytes).
/// </summary>
/// <remarks>
/// Guest paths are absolute. Missing parent directories are added (mode 0755). Entries are written
/// sorted by path, so parents precede children and the output depends only on the entries, never on
/// the order they were added. <see cref="ComputeHash"/> digests every input (paths, modes, link
/// targets, device numbers, file contents, kernel version) and keys <see cref="GuestImageCache"/>.
/// <para>
/// Adding a path twice is fine when both entries are the same (two executables sharing libc);
/// a different entry for the same path is an error, except that implicit parent directories and
/// busybox applet links give way to anything added explicitly.
/// </para>
/// </remarks>
internal sealed class InitramfsBuilder
{
    internal const uint DefaultFileMode = 0x1A4; // 0644
    internal const uint ExecutableMode = 0x1ED; // 0755
    internal const uint DirectoryMode = 0x1ED; // 0755
    private const string FormatVersion = "cocoon-initramfs-v1";

    private readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _kernelVersions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _contentHashes = new(StringComparer.Ordinal);

    private enum EntryKind
    {
        Directory,
        File,
        Bytes,
        Symlink,
        CharDevice,
    }

    /// <summary>The host files whose contents go into the image, sorted by guest path.</summary>
    public IEnumerable<string> HostFiles => _entries.Values.Where(e => e.Kind == EntryKind.File).Select(e => e.HostPath!);

    /// <summary>The guest paths added so far, sorted.</summary>
    public IEnumerable<string> Paths => _entries.Keys.Select(k => "/" + k);

    public InitramfsBuilder AddDirectory(string guestPath, uint mode = DirectoryMode)
    {
        Add(new Entry(EntryKind.Directory, Normalize(guestPath), mode, Weak: false));
        return this;
    }

    public InitramfsBuilder AddFile(string hostPath, string guestPath, uint mode = DefaultFileMode)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostPath);
        var full = Path.GetFullPath(hostPath);
        if (!File.Exists(full))
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"Host file '{full}' for guest path '{guestPath}' does not exist.");
        }

        Add(new Entry(EntryKind.File, Normalize(guestPath), mode, Weak: false) { HostPath = full });
        return this;
    }

    /// <summary>
    /// Adds a kernel module; without <paramref name="keepSignature"/> it goes in without its appended
    /// signature (<see cref="ModuleSignature"/>).
    /// </summary>
    public InitramfsBuilder AddModule(string hostPath, string guestPath, bool keepSignature)
    {
        AddFile(hostPath, guestPath);
        if (!keepSignature)
        {
            var entry = _entries[Normalize(guestPath)];
            var length = ModuleSignature.UnsignedLength(entry.HostPath!);
            if (length != new FileInfo(entry.HostPath!).Length)
            {
                _entries[entry.Path] = entry with { Length = length };
            }
        }

        return this;
    }

    public InitramfsBuilder AddBytes(string guestPath, ReadOnlySpan<byte> content, uint mode = DefaultFileMode)
    {
        Add(new Entry(EntryKind.Bytes, Normalize(guestPath), mode, Weak: false) { Content = content.ToArray() });
        return this;
    }

    public InitramfsBuilder AddText(string guestPath, string content, uint mode = DefaultFileMode)
    {
        ArgumentNullException.ThrowIfNull(content);
        return AddBytes(guestPath, Encoding.UTF8.GetBytes(content), mode);
    }

    public InitramfsBuilder AddSymlink(string guestPath, string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        Add(new Entry(EntryKind.Symlink, Normalize(guestPath), 0x1FF, Weak: false) { Target = target });
        return this;
    }

    public InitramfsBuilder AddCharDevice(string guestPath, uint major, uint minor, uint mode = 0x180 /* 0600 */)
    {
        Add(new Entry(EntryKind.CharDevice, Normalize(guestPath), mode, Weak: false) { Major = major, Minor = minor });
        return this;
    }

    /// <summary>Adds <c>/dev/console</c> and <c>/dev/null</c>, so /init has a console before devtmpfs is mounted.</summary>
    public InitramfsBuilder AddConsoleDevices()
    {
        return AddCharDevice("/dev/console", 5, 1, 0x180).AddCharDevice("/dev/null", 1, 3, 0x1B6);
    }

    /// <summary>Adds an executable and the shared libraries and loader it links (at the same paths as on the host).</summary>
    public InitramfsBuilder AddExecutable(string hostPath, string guestPath, uint mode = ExecutableMode)
    {
        AddFile(hostPath, guestPath, mode);
        foreach (var library in ElfDependencies.Resolve(Path.GetFullPath(hostPath)))
        {
            AddFile(library, library, ExecutableMode);
        }

        return this;
    }

    /// <summary>
    /// Adds busybox at <c>/bin/busybox</c> with links for its applets: the named ones at
    /// <c>/bin/&lt;applet&gt;</c>, or, when <paramref name="applets"/> is null, every applet at the
    /// path <c>busybox --list-full</c> gives, less the paths in <paramref name="without"/>. Links give
    /// way to files added explicitly.
    /// </summary>
    public InitramfsBuilder AddBusybox(string hostPath = "/bin/busybox", IEnumerable<string>? applets = null, IEnumerable<string>? without = null)
    {
        AddExecutable(hostPath, "/bin/busybox");
        var links = applets is null
            ? ListApplets(hostPath)
            : applets.Select(a => "/bin/" + a);
        var left = new HashSet<string>(without ?? [], StringComparer.Ordinal) { "/bin/busybox" };
        foreach (var link in links)
        {
            if (!left.Contains(link))
            {
                Add(new Entry(EntryKind.Symlink, Normalize(link), 0x1FF, Weak: true) { Target = "/bin/busybox" });
            }
        }

        return this;
    }

    /// <summary>
    /// Adds the named kernel modules and everything they depend on under
    /// <c>/lib/modules/&lt;version&gt;/</c>, and returns their guest paths in load order.
    /// </summary>
    public IReadOnlyList<string> AddModules(GuestKernel kernel, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var resolver = new ModuleResolver(kernel.ModulesDirectory);
        var guestPaths = new List<string>();
        foreach (var module in resolver.Resolve(names))
        {
            var guestPath = kernel.GuestModulesDirectory + "/" + module.RelativePath;
            AddFile(Path.Combine(kernel.ModulesDirectory, module.RelativePath), guestPath, DefaultFileMode);
            guestPaths.Add(guestPath);
        }

        _kernelVersions.Add(kernel.Version);
        return guestPaths;
    }

    /// <summary>Returns the lowercase hex SHA-256 over every input of this image.</summary>
    public string ComputeHash()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Line(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\n"));
        Line(FormatVersion);
        foreach (var version in _kernelVersions)
        {
            Line("kernel " + version);
        }

        foreach (var (path, entry) in _entries)
        {
            var mode = Convert.ToString(entry.Mode, 8);
            Line(entry.Kind switch
            {
                EntryKind.Directory => $"d {mode} {path}",
                EntryKind.Symlink => $"l {path} -> {entry.Target}",
                EntryKind.CharDevice => $"c {mode} {entry.Major}:{entry.Minor} {path}",
                EntryKind.Bytes => $"f {mode} {Convert.ToHexStringLower(SHA256.HashData(entry.Content!))} {path}",
                EntryKind.File => $"f {mode} {HashFile(entry.HostPath!, entry.Length)} {path}",
                _ => throw new UnreachableException(),
            });
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Writes the archive to <paramref name="outputPath"/> (created or truncated) and returns its size.</summary>
    public long Build(string outputPath)
    {
        using var stream = new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var writer = new CpioWriter(stream, leaveOpen: true);
        foreach (var (path, entry) in _entries)
        {
            switch (entry.Kind)
            {
                case EntryKind.Directory:
                    writer.AddDirectory(path, entry.Mode);
                    break;
                case EntryKind.Symlink:
                    writer.AddSymlink(path, entry.Target!);
                    break;
                case EntryKind.CharDevice:
                    writer.AddCharDevice(path, entry.Mode, entry.Major, entry.Minor);
                    break;
                case EntryKind.Bytes:
                    writer.AddFile(path, entry.Mode, entry.Content);
                    break;
                case EntryKind.File:
                    using (var source = File.OpenRead(entry.HostPath!))
                    {
                        writer.AddFile(path, entry.Mode, source, entry.Length ?? source.Length);
                    }

                    break;
                default:
                    throw new UnreachableException();
            }
        }

        writer.Finish();
        stream.Flush(flushToDisk: true);
        return stream.Length;
    }

    private static string Normalize(string guestPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(guestPath);
        var parts = guestPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (!guestPath.StartsWith('/') || parts.Length == 0 || parts.Any(p => p is "." or ".." || p.Contains('\0', StringComparison.Ordinal)))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Guest path '{guestPath}' must be absolute, not '/', and contain no '.' or '..' components.");
        }

        return string.Join('/', parts);
    }

    private static IEnumerable<string> ListApplets(string busyboxPath)
    {
        var result = HostTool.Run(busyboxPath, ["--list-full"], "install busybox-static");
        if (result.ExitCode != 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"'{busyboxPath} --list-full' failed (exit {result.ExitCode}). Is it busybox? Install 'busybox-static'.");
        }

        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => "/" + line)
            .ToList();
    }

    /// <summary>The SHA-256 of <paramref name="hostPath"/>, or of its first <paramref name="length"/> bytes.</summary>
    private string HashFile(string hostPath, long? length)
    {
        var key = length is { } prefix ? $"{hostPath}\0{prefix}" : hostPath;
        if (!_contentHashes.TryGetValue(key, out var digest))
        {
            using var stream = File.OpenRead(hostPath);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            var remaining = length ?? long.MaxValue;
            int read;
            while (remaining > 0 && (read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining))) > 0)
            {
                hash.AppendData(buffer, 0, read);
                remaining -= read;
            }

            digest = Convert.ToHexStringLower(hash.GetHashAndReset());
            _contentHashes[key] = digest;
        }

        return digest;
    }

    private void Add(Entry entry)
    {
        AddParents(entry.Path);
        if (_entries.TryGetValue(entry.Path, out var existing))
        {
            if (entry.Weak || existing.SameAs(entry))
            {
                return;
            }

            if (!existing.Weak && !(existing.Kind == EntryKind.Directory && entry.Kind == EntryKind.Directory))
            {
                throw new CocoonException(CocoonErrorCode.AlreadyExists, $"Guest path '/{entry.Path}' is added twice with different content ({existing.Describe()} and {entry.Describe()}). Add each guest path once.");
            }
        }

        _entries[entry.Path] = entry;
    }

    private void AddParents(string path)
    {
        var slash = path.LastIndexOf('/');
        if (slash <= 0)
        {
            return;
        }

        var parent = path[..slash];
        if (!_entries.ContainsKey(parent))
        {
            AddParents(parent);
            _entries[parent] = new Entry(EntryKind.Directory, parent, DirectoryMode, Weak: true);
        }
    }

    private sealed record Entry(EntryKind Kind, string Path, uint Mode, bool Weak)
    {
        public string? HostPath { get; init; }

        /// <summary>For a host file: how many of its bytes go in, all when null.</summary>
        public long? Length { get; init; }

        public byte[]? Content { get; init; }

        public string? Target { get; init; }

        public uint Major { get; init; }

        public uint Minor { get; init; }

        public bool SameAs(Entry other) =>
            Kind == other.Kind && Mode == other.Mode && HostPath == other.HostPath && Length == other.Length && Target == other.Target
            && Major == other.Major && Minor == other.Minor
            && (Content is null ? other.Content is null : other.Content is not null && Content.AsSpan().SequenceEqual(other.Content));

        public string Describe() => Kind switch
        {
            EntryKind.File => $"host file '{HostPath}'",
            EntryKind.Symlink => $"link to '{Target}'",
            EntryKind.Bytes => $"{Content!.Length} bytes",
            _ => Kind.ToString().ToLowerInvariant(),
        };
    }
}
