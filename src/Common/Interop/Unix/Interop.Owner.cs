// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>File ownership without following symbolic links (<c>unistd.h</c>).</summary>
internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysLchown(string path, int owner, int group);

    /// <summary>lchown(2): sets the owner of <paramref name="path"/> itself, never a symlink's target.</summary>
    internal static void Lchown(string path, int owner, int group) =>
        Call((Path: path, Owner: owner, Group: group), static s => SysLchown(s.Path, s.Owner, s.Group)).ThrowIfFailed($"lchown '{path}'");
}
