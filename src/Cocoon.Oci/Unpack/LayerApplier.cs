// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Cocoon.Oci.Unpack;

/// <summary>How much an image may unpack to; a layer that goes beyond is refused.</summary>
/// <param name="MaxBytes">Total bytes of regular files across all layers.</param>
/// <param name="MaxEntries">Total tar entries across all layers.</param>
internal sealed record UnpackLimits(long MaxBytes, long MaxEntries)
{
    /// <summary>64 GiB and 10 million entries: far above real images, far below a disk-filling bomb.</summary>
    public static readonly UnpackLimits Default = new(64L << 30, 10_000_000);
}

/// <summary>
/// Applies layer tars, bottom first, to a directory, as the OCI image spec's changeset rules say:
/// entries add or replace, <c>.wh.NAME</c> deletes NAME from the layers below, and
/// <c>.wh..wh..opq</c> empties its directory of everything the layers below put there.
/// </summary>
/// <remarks>
/// Layer content is untrusted (docs/architecture.md §2.5 rule 4). A <c>..</c> component refuses the layer; a
/// leading <c>/</c> names the root, as Docker and containerd read it (<c>/etc/x</c> is <c>etc/x</c>, and a <c>/</c>
/// entry, which umoci writes, describes the root itself). Parent directories are resolved inside
/// the root as a chroot would: a symlink met on the way (one an earlier layer planted, say
/// <c>etc -&gt; /etc</c> or <c>x -&gt; ../../..</c>) is followed with the root as <c>/</c> and
/// <c>..</c> stopping at the root, so no entry is ever created outside the root. The final component
/// is never followed: an existing entry there is replaced. Hard-link targets resolve the same way.
/// Ownership (when running as root), modes, set-id bits, xattrs (PAX <c>SCHILY.xattr.*</c>), hard
/// links, symlinks, device nodes and fifos are kept; regular-file bytes and entry counts are
/// bounded by <see cref="UnpackLimits"/>.
/// </remarks>
internal sealed class LayerApplier
{
    private const string WhiteoutPrefix = ".wh.";
    private const string OpaqueMarker = ".wh..wh..opq";
    private const string XattrPrefix = "SCHILY.xattr.";
    private const int MaxSymlinkHops = 40;

    private readonly string _root;
    private readonly UnpackLimits _limits;
    private readonly bool _privileged;
    private readonly HashSet<string> _created = new(StringComparer.Ordinal);
    private long _bytes;
    private long _entries;

    /// <param name="root">The directory layers are applied to (it must exist).</param>
    /// <param name="limits">Bounds on what all layers together may unpack.</param>
    /// <param name="privileged">Whether to set ownership (only root may).</param>
    public LayerApplier(string root, UnpackLimits limits, bool privileged)
    {
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _limits = limits;
        _privileged = privileged;
    }

    /// <summary>Bytes of regular files written so far.</summary>
    public long BytesWritten => _bytes;

    /// <summary>Opens a layer blob for reading as a tar stream.</summary>
    public static Stream OpenLayer(string path, LayerCompression compression)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return compression switch
        {
            LayerCompression.Gzip => new GZipStream(file, CompressionMode.Decompress),
            LayerCompression.Zstd => new ZstdSharp.DecompressionStream(file),
            _ => file,
        };
    }

    /// <summary>Applies one layer's tar stream.</summary>
    /// <param name="tar">The uncompressed tar.</param>
    /// <param name="layer">Names the layer in errors.</param>
    public void Apply(Stream tar, string layer)
    {
        _created.Clear();
        var counted = new ReadCounter(tar);
        using var reader = new TarReader(counted, leaveOpen: true);
        while (true)
        {
            TarEntry? entry;
            var before = counted.Total;
            try
            {
                entry = reader.GetNextEntry();
            }
            catch (EndOfStreamException) when (counted.EndedAtHeader(before))
            {
                // No end-of-archive marker (umoci writes none): the stream ended where the next
                // header would start, after no more than the previous entry's padding. Go's reader,
                // and so Docker and containerd, take that as the end; a layer cut inside an entry
                // still fails.
                return;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
            {
                throw Bad(layer, $"is not a valid tar stream ({e.Message})", e);
            }
            catch (IOException e) when (e.InnerException is InvalidDataException)
            {
                throw Bad(layer, $"is not a valid tar stream ({e.Message})", e);
            }

            if (entry is null)
            {
                return;
            }

            if (entry.EntryType is TarEntryType.GlobalExtendedAttributes)
            {
                continue;
            }

            if (++_entries > _limits.MaxEntries)
            {
                throw Bad(layer, $"takes the image past {_limits.MaxEntries} entries; refusing it");
            }

            ApplyEntry(entry, layer);
        }
    }

    private void ApplyEntry(TarEntry entry, string layer)
    {
        var components = SplitName(entry.Name, layer);
        if (components.Count == 0)
        {
            // The layer's "./" entry describes the root itself: keep its mode and owner.
            if (entry.EntryType == TarEntryType.Directory)
            {
                SetAttributes(_root, entry, layer);
            }

            return;
        }

        var name = components[^1];
        var parent = ResolveDirectory(components.GetRange(0, components.Count - 1), create: true, entry.Name, layer, finalMayBeFile: false);
        if (name == OpaqueMarker)
        {
            HideLowerEntries(parent);
            return;
        }

        if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
        {
            var hidden = name[WhiteoutPrefix.Length..];
            if (hidden.Length == 0 || hidden is "." or "..")
            {
                throw Bad(layer, $"has a whiteout '{entry.Name}' that names no entry");
            }

            Delete(Path.Combine(parent, hidden));
            return;
        }

        var path = Path.Combine(parent, name);
        MarkCreated(path);
        var existing = KindOf(path);
        if (entry.EntryType == TarEntryType.Directory)
        {
            if (existing != EntryKind.Directory)
            {
                Delete(path);
                Directory.CreateDirectory(path);
            }

            SetAttributes(path, entry, layer);
            return;
        }

        Delete(path);
        switch (entry.EntryType)
        {
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                WriteFile(path, entry, layer);
                break;
            case TarEntryType.SymbolicLink:
                if (string.IsNullOrEmpty(entry.LinkName) || entry.LinkName.Contains('\0', StringComparison.Ordinal))
                {
                    throw Bad(layer, $"has a symlink '{entry.Name}' with an empty or invalid target");
                }

                File.CreateSymbolicLink(path, entry.LinkName);
                break;
            case TarEntryType.HardLink:
                var target = ResolveLinkTarget(entry, layer);
                Interop.Link(target, path);
                return; // A hard link shares its target's inode: its attributes are the target's.
            case TarEntryType.CharacterDevice or TarEntryType.BlockDevice or TarEntryType.Fifo:
                entry.ExtractToFile(path, overwrite: false);
                break;
            default:
                throw Bad(layer, $"has entry '{entry.Name}' of type {entry.EntryType}, which Cocoon does not unpack");
        }

        SetAttributes(path, entry, layer);
    }

    private void WriteFile(string path, TarEntry entry, string layer)
    {
        if (entry.Length < 0 || entry.Length > _limits.MaxBytes - _bytes)
        {
            throw Bad(layer, $"has file '{entry.Name}' of {entry.Length} bytes, which takes the image past {_limits.MaxBytes} bytes; refusing it");
        }

        _bytes += entry.Length;
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
        if (entry.DataStream is { } data)
        {
            try
            {
                data.CopyTo(file, 1 << 20);
            }
            catch (EndOfStreamException e)
            {
                throw Bad(layer, $"ends inside file '{entry.Name}'; the layer is truncated", e);
            }
        }

        if (file.Length != entry.Length)
        {
            throw Bad(layer, $"ends inside file '{entry.Name}' ({file.Length} of {entry.Length} bytes); the layer is truncated");
        }
    }

    private void SetAttributes(string path, TarEntry entry, string layer)
    {
        if (_privileged)
        {
            Interop.Lchown(path, entry.Uid, entry.Gid);
        }

        if (entry.EntryType == TarEntryType.SymbolicLink)
        {
            return;
        }

        // After chown, which clears set-id bits.
        UnixFiles.SetMode(path, entry.Mode);
        if (entry is PaxTarEntry pax)
        {
            foreach (var (key, value) in pax.ExtendedAttributes)
            {
                if (key.StartsWith(XattrPrefix, StringComparison.Ordinal) && (_privileged || key.StartsWith(XattrPrefix + "user.", StringComparison.Ordinal)))
                {
                    Interop.Lsetxattr(path, key[XattrPrefix.Length..], Encoding.UTF8.GetBytes(value));
                }
            }
        }

        try
        {
            File.SetLastWriteTimeUtc(path, entry.ModificationTime.UtcDateTime);
        }
        catch (ArgumentOutOfRangeException)
        {
            // A time before 1601 or after 9999: keep the unpack time.
        }
    }

    private string ResolveLinkTarget(TarEntry entry, string layer)
    {
        var components = SplitName(entry.LinkName, layer);
        if (components.Count == 0)
        {
            throw Bad(layer, $"has a hard link '{entry.Name}' to the root directory");
        }

        var parent = ResolveDirectory(components.GetRange(0, components.Count - 1), create: false, entry.LinkName, layer, finalMayBeFile: false);
        var target = Path.Combine(parent, components[^1]);
        return KindOf(target) switch
        {
            EntryKind.Missing => throw Bad(layer, $"has a hard link '{entry.Name}' to '{entry.LinkName}', which does not exist"),
            EntryKind.Directory => throw Bad(layer, $"has a hard link '{entry.Name}' to the directory '{entry.LinkName}'"),
            _ => target,
        };
    }

    /// <summary>
    /// Resolves <paramref name="name"/> (relative to the root, symlinks followed inside the root) to
    /// an existing file or directory; throws naming <paramref name="what"/> when it does not exist.
    /// </summary>
    public string ResolveExisting(string name, string what)
    {
        var components = name.Split('/').Where(c => c.Length > 0).ToList();
        return ResolveDirectory(components, create: false, name, what, finalMayBeFile: true);
    }

    /// <summary>
    /// Resolves directory components inside the root, following symlinks with the root as '/' and
    /// '..' clamped at the root, creating missing directories when asked.
    /// </summary>
    private string ResolveDirectory(List<string> components, bool create, string entryName, string layer, bool finalMayBeFile)
    {
        var resolved = new List<string>();
        var pending = new Stack<string>(Enumerable.Reverse(components));
        var hops = 0;
        while (pending.Count > 0)
        {
            var component = pending.Pop();
            if (component is "" or ".")
            {
                continue;
            }

            if (component == "..")
            {
                if (resolved.Count > 0)
                {
                    resolved.RemoveAt(resolved.Count - 1);
                }

                continue;
            }

            var path = Join(resolved, component);
            switch (KindOf(path))
            {
                case EntryKind.Directory:
                    resolved.Add(component);
                    break;
                case EntryKind.Other when finalMayBeFile && pending.Count == 0:
                    resolved.Add(component);
                    break;
                case EntryKind.Missing when create:
                    Directory.CreateDirectory(path);
                    MarkCreated(path);
                    resolved.Add(component);
                    break;
                case EntryKind.Missing:
                    throw Bad(layer, $"has entry '{entryName}' whose directory '{component}' does not exist");
                case EntryKind.Symlink:
                    if (++hops > MaxSymlinkHops)
                    {
                        throw Bad(layer, $"has entry '{entryName}' whose directories loop through symlinks");
                    }

                    var target = new FileInfo(path).LinkTarget!;
                    if (target.StartsWith('/'))
                    {
                        resolved.Clear();
                    }

                    foreach (var part in target.Split('/').Reverse())
                    {
                        pending.Push(part);
                    }

                    break;
                default:
                    throw Bad(layer, $"has entry '{entryName}' under '{component}', which is not a directory");
            }
        }

        return Join(resolved, null);
    }

    private string Join(List<string> components, string? last)
    {
        var builder = new StringBuilder(_root);
        foreach (var component in components)
        {
            builder.Append('/').Append(component);
        }

        if (last is not null)
        {
            builder.Append('/').Append(last);
        }

        return builder.ToString();
    }

    /// <summary>Deletes everything in <paramref name="directory"/> that this layer did not create (recursively).</summary>
    private void HideLowerEntries(string directory)
    {
        foreach (var child in Directory.EnumerateFileSystemEntries(directory).ToList())
        {
            if (!_created.Contains(child))
            {
                Delete(child);
            }
            else if (KindOf(child) == EntryKind.Directory)
            {
                HideLowerEntries(child);
            }
        }
    }

    /// <summary>Records that this layer put <paramref name="path"/> (and so its directories) in place.</summary>
    private void MarkCreated(string path)
    {
        while (path.Length > _root.Length && _created.Add(path))
        {
            path = Path.GetDirectoryName(path)!;
        }
    }

    private static void Delete(string path)
    {
        switch (KindOf(path))
        {
            case EntryKind.Directory:
                Directory.Delete(path, recursive: true);
                break;
            case EntryKind.Missing:
                break;
            default:
                File.Delete(path);
                break;
        }
    }

    private static EntryKind KindOf(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            return EntryKind.Symlink;
        }

        return Directory.Exists(path) ? EntryKind.Directory : info.Exists ? EntryKind.Other : EntryKind.Missing;
    }

    /// <summary>
    /// Splits a tar name into components relative to the root: empty and <c>.</c> components, a
    /// leading <c>/</c> among them, are dropped; refuses <c>..</c> and NUL.
    /// </summary>
    internal static List<string> SplitName(string name, string layer)
    {
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw Bad(layer, $"has an entry name with a NUL byte ('{name.Replace("\0", "\\0", StringComparison.Ordinal)}')");
        }

        var components = new List<string>();
        foreach (var component in name.Split('/'))
        {
            if (component is "" or ".")
            {
                continue;
            }

            if (component == "..")
            {
                throw Bad(layer, $"has entry '{name}' with a '..' component; refusing a layer that writes outside its root");
            }

            if (Encoding.UTF8.GetByteCount(component) > 255)
            {
                throw Bad(layer, $"has entry '{name}' with a component longer than 255 bytes");
            }

            components.Add(component);
        }

        return components;
    }

    private static CocoonException Bad(string layer, string what, Exception? inner = null) =>
        new(CocoonErrorCode.InvalidArgument, $"{layer} {what}", inner);

    /// <summary>Counts the bytes read through it and remembers whether the stream has ended.</summary>
    private sealed class ReadCounter(Stream inner) : Stream
    {
        private const int BlockSize = 512;

        private bool _ended;

        /// <summary>Bytes read so far.</summary>
        public long Total { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        /// <summary>
        /// Whether the stream ended on a block boundary less than one block after <paramref name="before"/>:
        /// what a reader that then looked for a header consumed was at most the previous entry's padding.
        /// </summary>
        public bool EndedAtHeader(long before) =>
            _ended && Total % BlockSize == 0 && Total - before < BlockSize;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var read = inner.Read(buffer);
            Total += read;
            _ended |= read == 0 && !buffer.IsEmpty;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private enum EntryKind
    {
        Missing,
        Directory,
        Symlink,
        Other,
    }
}
