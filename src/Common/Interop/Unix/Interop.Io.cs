// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>read/write/readv/writev/close (<c>unistd.h</c>, <c>sys/uio.h</c>).</summary>
internal static partial class Interop
{
    /// <summary>The kernel's limit on iovecs per readv/writev (UIO_MAXIOV).</summary>
    internal const int IovMax = 1024;

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int CloseRaw(int fd);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint SysRead(SafeHandle fd, byte* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint SysWrite(SafeHandle fd, byte* buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "readv", SetLastError = true)]
    private static unsafe partial nint SysReadv(SafeHandle fd, IoVec* iov, int iovcnt);

    [LibraryImport(Libc, EntryPoint = "writev", SetLastError = true)]
    private static unsafe partial nint SysWritev(SafeHandle fd, IoVec* iov, int iovcnt);

    /// <summary>read(2) into <paramref name="buffer"/>; a value of 0 is end of file.</summary>
    internal static unsafe IoResult Read(SafeHandle fd, Span<byte> buffer)
    {
        // SAFETY: the span is pinned for the call and its length bounds the kernel's write.
        fixed (byte* p = buffer)
        {
            return Call((Fd: fd, Buffer: (nint)p, Length: (nuint)buffer.Length), static s => SysRead(s.Fd, (byte*)s.Buffer, s.Length));
        }
    }

    /// <summary>write(2) from <paramref name="buffer"/>; may write less than all of it.</summary>
    internal static unsafe IoResult Write(SafeHandle fd, ReadOnlySpan<byte> buffer)
    {
        // SAFETY: the span is pinned for the call and its length bounds the kernel's read.
        fixed (byte* p = buffer)
        {
            return Call((Fd: fd, Buffer: (nint)p, Length: (nuint)buffer.Length), static s => SysWrite(s.Fd, (byte*)s.Buffer, s.Length));
        }
    }

    /// <summary>write(2) until all of <paramref name="buffer"/> is written; the first failure stops it.</summary>
    /// <returns>The byte count, or the failure.</returns>
    internal static IoResult WriteAll(SafeHandle fd, ReadOnlySpan<byte> buffer)
    {
        var total = buffer.Length;
        while (!buffer.IsEmpty)
        {
            var result = Write(fd, buffer);
            if (!result.Ok)
            {
                return result;
            }

            buffer = buffer[(int)result.Value..];
        }

        return IoResult.Success(total);
    }

    /// <summary>readv(2); every iovec must describe memory the caller has bounds-checked.</summary>
    internal static unsafe IoResult Readv(SafeHandle fd, ReadOnlySpan<IoVec> iov)
    {
        // SAFETY: the iovec array is pinned for the call and its length is passed as iovcnt; the
        // memory each iovec names is the caller's promise (GuestMemory-checked or pinned).
        fixed (IoVec* p = iov)
        {
            return Call((Fd: fd, Iov: (nint)p, Count: iov.Length), static s => SysReadv(s.Fd, (IoVec*)s.Iov, s.Count));
        }
    }

    /// <summary>writev(2); every iovec must describe memory the caller has bounds-checked.</summary>
    internal static unsafe IoResult Writev(SafeHandle fd, ReadOnlySpan<IoVec> iov)
    {
        // SAFETY: as for Readv: the array is pinned and counted; its entries are the caller's promise.
        fixed (IoVec* p = iov)
        {
            return Call((Fd: fd, Iov: (nint)p, Count: iov.Length), static s => SysWritev(s.Fd, (IoVec*)s.Iov, s.Count));
        }
    }

    /// <summary><c>struct iovec</c> from <c>include/uapi/linux/uio.h</c> (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }
}
