// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon.Oci.Unpack;

/// <summary>
/// The libc calls layer unpacking needs that .NET does not offer: ownership without following
/// symlinks, hard links and extended attributes (unistd.h, sys/xattr.h).
/// </summary>
internal static partial class Interop
{
    private const string Libc = "libc";
    private const int EINTR = 4;

    [LibraryImport(Libc, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LchownRaw(string path, int owner, int group);

    [LibraryImport(Libc, EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LinkRaw(string oldPath, string newPath);

    [LibraryImport(Libc, EntryPoint = "lsetxattr", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LsetxattrRaw(string path, string name, ReadOnlySpan<byte> value, nuint size, int flags);

    /// <summary>lchown(2): sets the owner of <paramref name="path"/> itself, never a symlink's target.</summary>
    public static void Lchown(string path, int owner, int group) => Check(() => LchownRaw(path, owner, group), "lchown", path);

    /// <summary>link(2): a hard link <paramref name="newPath"/> to <paramref name="oldPath"/> (a symlink is linked, not followed).</summary>
    public static void Link(string oldPath, string newPath) => Check(() => LinkRaw(oldPath, newPath), "link", newPath);

    /// <summary>lsetxattr(2) on <paramref name="path"/> itself.</summary>
    public static void Lsetxattr(string path, string name, byte[] value) =>
        Check(() => LsetxattrRaw(path, name, value, (nuint)value.Length, 0), "lsetxattr " + name, path);

    private static void Check(Func<int> call, string operation, string path)
    {
        while (call() != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                throw new CocoonException(
                    CocoonErrorCode.Internal,
                    $"{operation} '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            }
        }
    }
}
