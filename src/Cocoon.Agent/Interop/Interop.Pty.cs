// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent;

internal static partial class Interop
{
    /// <summary>TIOCSWINSZ from <c>include/uapi/asm-generic/ioctls.h</c>.</summary>
    internal const uint TIOCSWINSZ = 0x5414;

    [LibraryImport(Libc, EntryPoint = "posix_openpt", SetLastError = true)]
    internal static partial int PosixOpenPt(int flags);

    [LibraryImport(Libc, EntryPoint = "grantpt", SetLastError = true)]
    internal static partial int GrantPt(SafeFileHandle fd);

    [LibraryImport(Libc, EntryPoint = "unlockpt", SetLastError = true)]
    internal static partial int UnlockPt(SafeFileHandle fd);

    /// <summary>ptsname_r(3): returns 0 or an errno value.</summary>
    [LibraryImport(Libc, EntryPoint = "ptsname_r")]
    internal static partial int PtsNameR(SafeFileHandle fd, Span<byte> buffer, nuint length);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlWinSize(SafeFileHandle fd, nuint request, in WinSize size);

    /// <summary>Opens a new pseudo-terminal master and returns it with the slave's path.</summary>
    internal static (SafeFileHandle Master, string SlavePath) OpenPty()
    {
        var master = new SafeFileHandle(
            (nint)CheckIo(() => PosixOpenPt(O_RDWR | O_NOCTTY | O_CLOEXEC), "posix_openpt (is devpts mounted on /dev/pts?)"),
            ownsHandle: true);
        try
        {
            CheckIo(() => GrantPt(master), "grantpt");
            CheckIo(() => UnlockPt(master), "unlockpt");
            var buffer = new byte[128];
            CheckResult(PtsNameR(master, buffer, (nuint)buffer.Length), "ptsname_r");
            var length = Array.IndexOf(buffer, (byte)0);
            return (master, Encoding.UTF8.GetString(buffer, 0, length < 0 ? buffer.Length : length));
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    internal static void SetWindowSize(SafeFileHandle master, ushort rows, ushort columns)
    {
        var size = new WinSize { ws_row = rows, ws_col = columns };
        CheckIo(() => IoctlWinSize(master, TIOCSWINSZ, size), "ioctl(TIOCSWINSZ)");
    }
}
