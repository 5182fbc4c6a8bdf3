// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cocoon;

internal static partial class Interop
{
    /// <summary>open(2) flags (asm-generic/fcntl.h, x86-64 values).</summary>
    [Flags]
    internal enum OpenFlags
    {
        O_RDONLY = 0x0,
        O_RDWR = 0x2,
        O_CREAT = 0x40,
        O_DIRECTORY = 0x10000,
        O_CLOEXEC = 0x80000,
    }

    /// <summary>flock(2) operations (uapi asm-generic/fcntl.h).</summary>
    [Flags]
    internal enum LockOperations
    {
        LOCK_SH = 1,
        LOCK_EX = 2,
        LOCK_NB = 4,
        LOCK_UN = 8,
    }

    [LibraryImport(Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial SafeFileHandle OpenRaw(string path, OpenFlags flags, int mode);

    [LibraryImport(Libc, EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockRaw(SafeFileHandle fd, LockOperations operation);

    [LibraryImport(Libc, EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncRaw(SafeFileHandle fd);

    /// <summary>
    /// open(2) with O_CLOEXEC always added, so a child process (a VMM, a supervisor) never inherits
    /// the descriptor and with it a lock. .NET's own FileStream is avoided for lock files because it
    /// takes a non-blocking flock of its own that would collide with ours.
    /// </summary>
    internal static SafeFileHandle Open(string path, OpenFlags flags, int mode = 0)
    {
        while (true)
        {
            var handle = OpenRaw(path, flags | OpenFlags.O_CLOEXEC, mode);
            if (!handle.IsInvalid)
            {
                return handle;
            }

            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            if (errno != (int)Errno.EINTR)
            {
                ThrowIo(errno, "open", path);
            }
        }
    }

    /// <summary>flock(2), blocking unless <see cref="LockOperations.LOCK_NB"/> is given.</summary>
    internal static void Flock(SafeFileHandle fd, LockOperations operation, string path) =>
        RetryOnEintr(() => FlockRaw(fd, operation), "flock", path);

    /// <summary>fsync(2).</summary>
    internal static void Fsync(SafeFileHandle fd, string path) =>
        RetryOnEintr(() => FsyncRaw(fd), "fsync", path);

    /// <summary>read(2) on a descriptor this process does not own (stdin); 0 at end of file.</summary>
    internal static int ReadDescriptor(int fd, Span<byte> buffer)
    {
        while (true)
        {
            var result = ReadRaw(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);
            if (result >= 0)
            {
                return (int)result;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != (int)Errno.EINTR)
            {
                ThrowIo(errno, "read", $"fd {fd}");
            }
        }
    }

    /// <summary>write(2) until all of <paramref name="buffer"/> is written, at the descriptor's own offset.</summary>
    internal static void WriteDescriptor(int fd, ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var result = WriteRaw(fd, in MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);
            if (result >= 0)
            {
                buffer = buffer[(int)result..];
                continue;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != (int)Errno.EINTR)
            {
                ThrowIo(errno, "write", $"fd {fd}");
            }
        }
    }

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadRaw(int fd, ref byte buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteRaw(int fd, ref readonly byte buffer, nuint count);
}
