// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>Terminal modes and size (<c>termios.h</c>). Standard streams are passed as borrowed handles.</summary>
internal static partial class Interop
{
    /// <summary>struct termios is 60 bytes on x86-64 glibc; it is only ever saved and restored whole.</summary>
    private const int TermiosSize = 64;
    private const int TCSANOW = 0;

    [LibraryImport(Libc, EntryPoint = "tcgetattr", SetLastError = true)]
    private static partial int SysTcGetAttr(SafeHandle fd, Span<byte> termios);

    [LibraryImport(Libc, EntryPoint = "tcsetattr", SetLastError = true)]
    private static partial int SysTcSetAttr(SafeHandle fd, int optionalActions, ReadOnlySpan<byte> termios);

    [LibraryImport(Libc, EntryPoint = "cfmakeraw")]
    private static partial void SysCfMakeRaw(Span<byte> termios);

    /// <summary>
    /// Puts the terminal on <paramref name="fd"/> in raw mode (no echo, no line editing, no signal
    /// keys: ^C reaches the guest as a byte) and returns its previous settings, or null when
    /// <paramref name="fd"/> is not a terminal.
    /// </summary>
    internal static byte[]? TryEnterRawMode(SafeHandle fd)
    {
        var saved = new byte[TermiosSize];
        if (SysTcGetAttr(fd, saved) != 0)
        {
            return null;
        }

        var raw = (byte[])saved.Clone();
        SysCfMakeRaw(raw);
        return SysTcSetAttr(fd, TCSANOW, raw) == 0 ? saved : null;
    }

    /// <summary>Puts back settings from <see cref="TryEnterRawMode"/>.</summary>
    internal static void RestoreTerminal(SafeHandle fd, byte[] saved) => _ = SysTcSetAttr(fd, TCSANOW, saved);

    /// <summary>The terminal size on <paramref name="fd"/>; null when it is not a terminal.</summary>
    internal static (ushort Rows, ushort Columns)? TryGetWindowSize(SafeHandle fd)
    {
        var size = default(WinSize);
        return Ioctl(fd, TIOCGWINSZ, ref size).Ok && size.ws_row > 0 && size.ws_col > 0
            ? (size.ws_row, size.ws_col)
            : null;
    }
}
