// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Cocoon.Vsock.Device.Interop.Abi;

namespace Cocoon.Vsock.Device.Interop;

/// <summary>read/write/readv/writev/close (unistd.h, sys/uio.h).</summary>
internal static unsafe partial class Interop
{
    /// <summary>The kernel's limit on iovecs per readv/writev (UIO_MAXIOV).</summary>
    internal const int IovMax = 1024;

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int CloseRaw(int fd);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    private static partial nint SysRead(SafeHandle fd, byte* buf, nuint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    private static partial nint SysWrite(SafeHandle fd, byte* buf, nuint count);

    [LibraryImport(Libc, EntryPoint = "readv", SetLastError = true)]
    private static partial nint SysReadv(SafeHandle fd, IoVec* iov, int iovcnt);

    [LibraryImport(Libc, EntryPoint = "writev", SetLastError = true)]
    private static partial nint SysWritev(SafeHandle fd, IoVec* iov, int iovcnt);

    /// <summary>read(2) into <paramref name="buffer"/>.</summary>
    internal static IoResult Read(SafeHandle fd, Span<byte> buffer)
    {
        // SAFETY: the span is pinned for the call and its length bounds the kernel's write.
        fixed (byte* p = buffer)
        {
            nint r;
            do
            {
                r = SysRead(fd, p, (nuint)buffer.Length);
            }
            while (IoResult.Interrupted(r));
            return IoResult.FromRaw(r);
        }
    }

    /// <summary>write(2) from <paramref name="buffer"/>.</summary>
    internal static IoResult Write(SafeHandle fd, ReadOnlySpan<byte> buffer)
    {
        // SAFETY: the span is pinned for the call and its length bounds the kernel's read.
        fixed (byte* p = buffer)
        {
            nint r;
            do
            {
                r = SysWrite(fd, p, (nuint)buffer.Length);
            }
            while (IoResult.Interrupted(r));
            return IoResult.FromRaw(r);
        }
    }

    /// <summary>readv(2); every iovec must describe memory the caller has bounds-checked.</summary>
    internal static IoResult Readv(SafeHandle fd, ReadOnlySpan<IoVec> iov)
    {
        // SAFETY: callers build iovecs only from GuestMemory-checked segments or pinned buffers.
        fixed (IoVec* p = iov)
        {
            nint r;
            do
            {
                r = SysReadv(fd, p, iov.Length);
            }
            while (IoResult.Interrupted(r));
            return IoResult.FromRaw(r);
        }
    }

    /// <summary>writev(2); every iovec must describe memory the caller has bounds-checked.</summary>
    internal static IoResult Writev(SafeHandle fd, ReadOnlySpan<IoVec> iov)
    {
        // SAFETY: callers build iovecs only from GuestMemory-checked segments or pinned buffers.
        fixed (IoVec* p = iov)
        {
            nint r;
            do
            {
                r = SysWritev(fd, p, iov.Length);
            }
            while (IoResult.Interrupted(r));
            return IoResult.FromRaw(r);
        }
    }

    /// <summary>Signals an eventfd (adds 1); a full counter (EAGAIN) is already signalled.</summary>
    internal static void SignalEventFd(SafeHandle fd)
    {
        ulong one = 1;
        _ = Write(fd, new ReadOnlySpan<byte>(&one, sizeof(ulong)));
    }

    /// <summary>Consumes an eventfd's counter; the value carries no meaning.</summary>
    internal static void DrainEventFd(SafeHandle fd)
    {
        ulong value;
        _ = Read(fd, new Span<byte>(&value, sizeof(ulong)));
    }
}
