// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
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

    internal const int AF_UNIX = 1;
    internal const int SOCK_STREAM = 1;
    internal const int SOCK_CLOEXEC = 0x80000;

    [LibraryImport(Libc, EntryPoint = "socketpair", SetLastError = true)]
    internal static partial int SocketPair(int domain, int type, int protocol, Span<int> fds);

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

    /// <summary>
    /// Creates a close-on-exec stream socket pair for one stdio stream of a child: the agent's end
    /// as a <see cref="Socket"/> (async I/O on .NET's epoll engine, no thread per stream) and the
    /// child's end to dup onto 0, 1 or 2.
    /// </summary>
    internal static (Socket Agent, SafeFileHandle Child) CreateStdioSocketPair()
    {
        var fds = new int[2];
        CheckIo(() => SocketPair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
        var child = new SafeFileHandle(fds[1], ownsHandle: true);
        try
        {
            return (new Socket(new SafeSocketHandle(fds[0], ownsHandle: true)), child);
        }
        catch
        {
            child.Dispose();
            throw;
        }
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
