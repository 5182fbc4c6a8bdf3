// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>mmap/munmap/mprotect/memfd_create/ftruncate (<c>include/uapi/asm-generic/mman-common.h</c>).</summary>
internal static partial class Interop
{
    internal const int PROT_NONE = 0;
    internal const int PROT_READ = 1;
    internal const int PROT_WRITE = 2;
    internal const int MAP_SHARED = 0x01;
    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_NORESERVE = 0x4000;
    internal const uint MFD_CLOEXEC = 1;

    /// <summary>MAP_FAILED.</summary>
    private const nint MapFailed = -1;

    [LibraryImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    private static partial nint SysMmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Libc, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint addr, nuint length);

    [LibraryImport(Libc, EntryPoint = "mprotect", SetLastError = true)]
    private static partial int SysMprotect(nint addr, nuint length, int prot);

    [LibraryImport(Libc, EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SysMemfdCreate(string name, uint flags);

    [LibraryImport(Libc, EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int SysFtruncate(SafeHandle fd, long length);

    /// <summary>Maps a shared, read-write view of <paramref name="fd"/> (guest RAM from the VMM).</summary>
    internal static MappedMemory MapShared(SafeHandle fd, ulong length, string context)
    {
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            return Map(length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, (int)fd.DangerousGetHandle(), context);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>Maps private anonymous memory with the given protection.</summary>
    internal static MappedMemory MapAnonymous(ulong length, int prot) =>
        Map(length, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, "mmap(anonymous)");

    /// <summary>mprotect(2).</summary>
    internal static void Mprotect(nint addr, ulong length, int prot) =>
        IoResult.FromRaw(SysMprotect(addr, (nuint)length, prot)).ThrowIfFailed("mprotect");

    /// <summary>Creates a close-on-exec memfd of <paramref name="size"/> bytes.</summary>
    internal static SafeFdHandle MemfdCreate(string name, long size)
    {
        var fd = new SafeFdHandle((int)IoResult.FromRaw(SysMemfdCreate(name, MFD_CLOEXEC)).ThrowIfFailed("memfd_create"));
        try
        {
            Call((Fd: fd, Size: size), static s => SysFtruncate(s.Fd, s.Size)).ThrowIfFailed("ftruncate");
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    private static MappedMemory Map(ulong length, int prot, int flags, int fd, string context)
    {
        nint address = SysMmap(0, (nuint)length, prot, flags, fd, 0);
        if (address == MapFailed)
        {
            IoResult.FromRaw(-1).ThrowIfFailed(context);
        }

        return new MappedMemory(address, (nuint)length);
    }
}

/// <summary>An owned mapping; unmapped exactly once.</summary>
internal sealed class MappedMemory : SafeHandle
{
    /// <summary>Takes ownership of a mapping created by mmap.</summary>
    public MappedMemory(nint address, nuint length)
        : base(0, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    /// <summary>The mapping's length in bytes.</summary>
    public nuint Length { get; }

    /// <summary>The mapping's start address; valid while the handle is open.</summary>
    public nint Address => handle;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0 || handle == -1;

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => Interop.Munmap(handle, Length) == 0;
}
