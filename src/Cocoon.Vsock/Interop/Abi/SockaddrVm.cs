// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon.Vsock;

internal static partial class Interop
{
    /// <summary><c>struct sockaddr_vm</c> from <c>include/uapi/linux/vm_sockets.h</c>: 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Size = 16)]
    internal struct SockaddrVm
    {
        public ushort svm_family;
        public ushort svm_reserved1;
        public uint svm_port;
        public uint svm_cid;
        public byte svm_flags;
        // svm_zero[3] is the remaining padding (Size = 16).
    }

    /// <summary><c>struct pollfd</c> from <c>include/uapi/asm-generic/poll.h</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int fd;
        public short events;
        public short revents;
    }
}
