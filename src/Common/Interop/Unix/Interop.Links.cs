// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>
/// What unpacking a file tree needs that .NET does not offer: ownership without following symlinks,
/// hard links and extended attributes (unistd.h, sys/xattr.h).
/// </summary>
internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysLchown(string path, int owner, int group);

    [LibraryImport(Libc, EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysLink(string oldPath, string newPath);

    [LibraryImport(Libc, EntryPoint = "lsetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysLsetxattr(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    /// <summary>lchown(2): sets the owner of <paramref name="path"/> itself, never a symlink's target.</summary>
    internal static void Lchown(string path, int owner, int group) =>
        CheckIo(() => SysLchown(path, owner, group), $"lchown '{path}'");

    /// <summary>link(2): a hard link <paramref name="newPath"/> to <paramref name="oldPath"/> (a symlink is linked, not followed).</summary>
    internal static void Link(string oldPath, string newPath) =>
        CheckIo(() => SysLink(oldPath, newPath), $"link '{newPath}' to '{oldPath}'");

    /// <summary>lsetxattr(2) on <paramref name="path"/> itself.</summary>
    internal static void Lsetxattr(string path, string name, byte[] value) =>
        CheckIo(() => SysLsetxattr(path, name, value, (nuint)value.Length, 0), $"lsetxattr {name} '{path}'");
}
