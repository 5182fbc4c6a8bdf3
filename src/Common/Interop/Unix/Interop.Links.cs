// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>
/// What unpacking a file tree needs that .NET does not offer, beside ownership (Interop.Owner.cs):
/// hard links and extended attributes (unistd.h, sys/xattr.h).
/// </summary>
internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysLink(string oldPath, string newPath);

    [LibraryImport(Libc, EntryPoint = "lsetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysLsetxattr(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    /// <summary>link(2): a hard link <paramref name="newPath"/> to <paramref name="oldPath"/> (a symlink is linked, not followed).</summary>
    internal static void Link(string oldPath, string newPath) =>
        CheckIo(() => SysLink(oldPath, newPath), $"link '{newPath}' to '{oldPath}'");

    /// <summary>lsetxattr(2) on <paramref name="path"/> itself.</summary>
    internal static void Lsetxattr(string path, string name, byte[] value) =>
        CheckIo(() => SysLsetxattr(path, name, value, (nuint)value.Length, 0), $"lsetxattr {name} '{path}'");
}
