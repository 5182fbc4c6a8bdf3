// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

internal static partial class Interop
{
    /// <summary>struct termios is 60 bytes on x86-64 glibc; it is only ever saved and restored whole.</summary>
    private const int TermiosSize = 64;
    private const int TCSANOW = 0;
    private const uint TIOCGWINSZ = 0x5413;

    /// <summary>
    /// Puts the terminal on <paramref name="fd"/> in raw mode (no echo, no line editing, no signal
    /// keys: ^C reaches the guest as a byte) and returns its previous settings, or null when
    /// <paramref name="fd"/> is not a terminal.
    /// </summary>
    internal static byte[]? TryEnterRawMode(int fd)
    {
        var saved = new byte[TermiosSize];
        if (TcGetAttr(fd, saved) != 0)
        {
            return null;
        }

        var raw = (byte[])saved.Clone();
        CfMakeRaw(raw);
        return TcSetAttr(fd, TCSANOW, raw) == 0 ? saved : null;
    }

    /// <summary>Puts back settings from <see cref="TryEnterRawMode"/>.</summary>
    internal static void RestoreTerminal(int fd, byte[] saved) => _ = TcSetAttr(fd, TCSANOW, saved);

    /// <summary>The terminal size on <paramref name="fd"/>; null when it is not a terminal.</summary>
    internal static (ushort Rows, ushort Columns)? TryGetWindowSize(int fd)
    {
        Span<ushort> size = stackalloc ushort[4]; // struct winsize: rows, columns, x and y pixels
        return IoctlWinSize(fd, TIOCGWINSZ, ref MemoryMarshal.GetReference(size)) == 0 && size[0] > 0 && size[1] > 0
            ? (size[0], size[1])
            : null;
    }

    [LibraryImport(Libc, EntryPoint = "tcgetattr", SetLastError = true)]
    private static partial int TcGetAttr(int fd, Span<byte> termios);

    [LibraryImport(Libc, EntryPoint = "tcsetattr", SetLastError = true)]
    private static partial int TcSetAttr(int fd, int optionalActions, ReadOnlySpan<byte> termios);

    [LibraryImport(Libc, EntryPoint = "cfmakeraw")]
    private static partial void CfMakeRaw(Span<byte> termios);

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlWinSize(int fd, nuint request, ref ushort winsize);
}
