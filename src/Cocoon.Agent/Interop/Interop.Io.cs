// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent;

internal static partial class Interop
{
    internal const int O_RDONLY = 0;
    internal const int O_WRONLY = 1;
    internal const int O_RDWR = 2;
    internal const int O_NOCTTY = 0x100;
    internal const int O_CLOEXEC = 0x80000;
    internal const int F_GETFD = 1;

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(Libc, EntryPoint = "pipe2", SetLastError = true)]
    internal static partial int Pipe2(Span<int> fds, int flags);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(SafeFileHandle fd, ref byte buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(SafeFileHandle fd, ref byte buffer, nuint count);

    [LibraryImport(Libc, EntryPoint = "dup2", SetLastError = true)]
    internal static partial int Dup2(int oldfd, int newfd);

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int cmd);

    /// <summary>Opens <paramref name="path"/> close-on-exec.</summary>
    internal static SafeFileHandle OpenFile(string path, int flags) =>
        new((nint)CheckIo(() => Open(path, flags | O_CLOEXEC, 0), $"open '{path}'"), ownsHandle: true);

    /// <summary>Creates a close-on-exec pipe: (read end, write end).</summary>
    internal static (SafeFileHandle Read, SafeFileHandle Write) CreatePipe()
    {
        var fds = new int[2];
        CheckIo(() => Pipe2(fds, O_CLOEXEC), "pipe2");
        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>Reads once; returns 0 at end of file (and on EIO, which a pty master reports once the slave is gone).</summary>
    internal static int ReadSome(SafeFileHandle fd, Span<byte> buffer)
    {
        ref var start = ref MemoryMarshal.GetReference(buffer);
        while (true)
        {
            var result = Read(fd, ref start, (nuint)buffer.Length);
            if (result >= 0)
            {
                return (int)result;
            }

            var errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno == Errno.EIO)
            {
                return 0;
            }

            if (errno != Errno.EINTR)
            {
                ThrowForErrno(errno, "read");
            }
        }
    }

    /// <summary>Writes all of <paramref name="buffer"/>; false when the reader is gone (EPIPE, EIO).</summary>
    internal static bool WriteAll(SafeFileHandle fd, ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var result = Write(fd, ref MemoryMarshal.GetReference(buffer), (nuint)buffer.Length);
            if (result >= 0)
            {
                buffer = buffer[(int)result..];
                continue;
            }

            var errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno is Errno.EPIPE or Errno.EIO or Errno.EBADF)
            {
                return false;
            }

            if (errno != Errno.EINTR)
            {
                ThrowForErrno(errno, "write");
            }
        }

        return true;
    }
}
