// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>posix_spawn(3) and its attribute and file-action helpers (<c>spawn.h</c>, glibc).</summary>
internal static partial class Interop
{
    // <spawn.h> (glibc): posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80, sigset_t 128.
    internal const int PosixSpawnAttrSize = 336;
    internal const int PosixSpawnFileActionsSize = 80;
    internal const int SigSetSize = 128;

    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
    internal const short POSIX_SPAWN_SETSID = 0x80;

    /// <summary>posix_spawn(3): returns 0 or an errno value (not through errno); check with <see cref="CheckResult"/>.</summary>
    [LibraryImport(Libc, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PosixSpawn(out int pid, string path, IntPtr fileActions, IntPtr attr, IntPtr argv, IntPtr envp);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_init")]
    internal static partial int PosixSpawnFileActionsInit(IntPtr actions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static partial int PosixSpawnFileActionsDestroy(IntPtr actions);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static partial int PosixSpawnFileActionsAddDup2(IntPtr actions, int fd, int newfd);

    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PosixSpawnFileActionsAddOpen(IntPtr actions, int fd, string path, OpenFlags oflag, int mode);

    /// <summary>glibc 2.29+.</summary>
    [LibraryImport(Libc, EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int PosixSpawnFileActionsAddChdir(IntPtr actions, string path);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_init")]
    internal static partial int PosixSpawnAttrInit(IntPtr attr);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_destroy")]
    internal static partial int PosixSpawnAttrDestroy(IntPtr attr);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setflags")]
    internal static partial int PosixSpawnAttrSetFlags(IntPtr attr, short flags);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static partial int PosixSpawnAttrSetSigMask(IntPtr attr, IntPtr sigmask);

    [LibraryImport(Libc, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static partial int PosixSpawnAttrSetSigDefault(IntPtr attr, IntPtr sigdefault);

    [LibraryImport(Libc, EntryPoint = "sigemptyset")]
    internal static partial int SigEmptySet(IntPtr set);

    [LibraryImport(Libc, EntryPoint = "sigfillset")]
    internal static partial int SigFillSet(IntPtr set);
}
