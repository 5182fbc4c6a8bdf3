// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;

namespace Cocoon;

/// <summary>
/// getrandom(2) (<c>include/uapi/linux/random.h</c>): the kernel's CSPRNG without a file descriptor.
/// The NativeAOT agent has no OpenSSL, so <c>RandomNumberGenerator</c> cannot run there; random
/// tokens come from here instead.
/// </summary>
internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "getrandom", SetLastError = true)]
    private static unsafe partial nint SysGetRandom(byte* buffer, nuint length, uint flags);

    /// <summary>Fills <paramref name="buffer"/> with random bytes, blocking only until the kernel's pool is first initialised.</summary>
    /// <exception cref="CocoonException">When getrandom fails (through the one errno table).</exception>
    internal static unsafe void GetRandom(Span<byte> buffer)
    {
        // SAFETY: the span is pinned for each call, and every call writes at most the bytes left in it.
        fixed (byte* start = buffer)
        {
            var filled = 0;
            while (filled < buffer.Length)
            {
                var at = (nint)(start + filled);
                var left = (nuint)(buffer.Length - filled);
                filled += (int)Call((At: at, Left: left), static s => SysGetRandom((byte*)s.At, s.Left, 0)).ThrowIfFailed("getrandom");
            }
        }
    }
}
