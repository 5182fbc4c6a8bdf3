// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cocoon;

/// <summary>Pseudo-terminals (<c>stdlib.h</c> posix_openpt and friends).</summary>
internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "posix_openpt", SetLastError = true)]
    private static partial int SysPosixOpenPt(OpenFlags flags);

    [LibraryImport(Libc, EntryPoint = "grantpt", SetLastError = true)]
    private static partial int SysGrantPt(SafeHandle fd);

    [LibraryImport(Libc, EntryPoint = "unlockpt", SetLastError = true)]
    private static partial int SysUnlockPt(SafeHandle fd);

    /// <summary>ptsname_r(3): returns 0 or an errno value.</summary>
    [LibraryImport(Libc, EntryPoint = "ptsname_r")]
    private static partial int SysPtsNameR(SafeHandle fd, Span<byte> buffer, nuint length);

    /// <summary>Opens a new pseudo-terminal master and returns it with the slave's path.</summary>
    internal static (SafeFileHandle Master, string SlavePath) OpenPty()
    {
        var fd = Call(static () => SysPosixOpenPt(OpenFlags.O_RDWR | OpenFlags.O_NOCTTY | OpenFlags.O_CLOEXEC))
            .ThrowIfFailed("posix_openpt (is devpts mounted on /dev/pts?)");
        var master = new SafeFileHandle((nint)fd, ownsHandle: true);
        try
        {
            Call(master, static fd => SysGrantPt(fd)).ThrowIfFailed("grantpt");
            Call(master, static fd => SysUnlockPt(fd)).ThrowIfFailed("unlockpt");
            var buffer = new byte[128];
            CheckResult(SysPtsNameR(master, buffer, (nuint)buffer.Length), "ptsname_r");
            var length = Array.IndexOf(buffer, (byte)0);
            return (master, Encoding.UTF8.GetString(buffer, 0, length < 0 ? buffer.Length : length));
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="fd"/> is a pseudo-terminal master (TIOCGPTN answers only on masters).</summary>
    internal static bool IsPtyMaster(SafeHandle fd)
    {
        uint number = 0;
        return Ioctl(fd, TIOCGPTN, ref number).Ok;
    }

    /// <summary>The window size of a pty, as (rows, columns).</summary>
    internal static (ushort Rows, ushort Columns) GetWindowSize(SafeHandle terminal)
    {
        var size = default(WinSize);
        Ioctl(terminal, TIOCGWINSZ, ref size).ThrowIfFailed("ioctl(TIOCGWINSZ)");
        return (size.ws_row, size.ws_col);
    }

    /// <summary>Sets the window size of a pty (the guest side of <c>exec --tty</c>).</summary>
    internal static void SetWindowSize(SafeHandle master, ushort rows, ushort columns)
    {
        var size = new WinSize { ws_row = rows, ws_col = columns };
        Ioctl(master, TIOCSWINSZ, ref size).ThrowIfFailed("ioctl(TIOCSWINSZ)");
    }
}
