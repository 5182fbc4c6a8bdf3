// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>AF_VSOCK addresses (<c>include/uapi/linux/vm_sockets.h</c>).</summary>
internal static partial class Interop
{
    /// <summary>The size of <see cref="SockaddrVm"/>, passed as every addrlen.</summary>
    internal static unsafe int SockaddrVmSize => sizeof(SockaddrVm);

    /// <summary>Creates an AF_VSOCK stream socket, close-on-exec; the caller wraps it at once.</summary>
    internal static int CreateVsockSocket(bool nonBlocking) =>
        CreateSocket(AF_VSOCK, SOCK_STREAM | (nonBlocking ? SOCK_NONBLOCK : 0), "socket(AF_VSOCK, SOCK_STREAM)");

    /// <summary>bind(2) to a vsock address.</summary>
    internal static unsafe void BindVsock(SafeHandle fd, SockaddrVm address, string context) =>
        Call((Fd: fd, Address: address), static s => SysBind(s.Fd, &s.Address, SockaddrVmSize)).ThrowIfFailed(context);

    /// <summary>connect(2) to a vsock address (blocking sockets: returns once connected or refused).</summary>
    internal static unsafe void ConnectVsock(SafeHandle fd, SockaddrVm address, string context) =>
        Call((Fd: fd, Address: address), static s => SysConnect(s.Fd, &s.Address, SockaddrVmSize)).ThrowIfFailed(context);

    /// <summary>getsockname(2) of a vsock socket: the port the kernel chose for port "any".</summary>
    internal static unsafe SockaddrVm GetVsockName(SafeHandle fd, string context)
    {
        SockaddrVm address = default;
        int length = SockaddrVmSize;

        // SAFETY: address and length are locals of this frame; length tells the kernel the size of address.
        Call((Fd: fd, Address: (nint)(&address), Length: (nint)(&length)), static s => SysGetSockName(s.Fd, (void*)s.Address, (int*)s.Length)).ThrowIfFailed(context);
        return address;
    }

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
}
