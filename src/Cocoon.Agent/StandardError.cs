// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent;

/// <summary>
/// Lines on the agent's stderr (the box's console), written with write(2) on descriptor 2.
/// </summary>
/// <remarks>
/// Not <see cref="T:System.Console"/>: on a terminal (the guest's console is one) its first write
/// sets up .NET's terminal handling, which installs a SIGCHLD handler, and as PID 1 that handler
/// reaps every child with <c>waitpid(-1, WNOHANG)</c>. It then races <see cref="Processes.ChildReaper"/>:
/// whichever reaps a child first gets its status, and an exec whose status it lost never ends.
/// <c>BannedSymbols.txt</c> keeps Console (and <c>System.Diagnostics.Process</c>, which registers
/// the same handler) out of the agent.
/// </remarks>
internal static class StandardError
{
    private static readonly SafeFileHandle Descriptor = new(2, ownsHandle: false);
    private static readonly Lock WriteLock = new();

    /// <summary>Writes <paramref name="line"/> and a newline; a failed write is dropped (there is nowhere to report it).</summary>
    public static void WriteLine(string line) => Write(Encoding.UTF8.GetBytes(line + "\n"));

    /// <summary>Writes <paramref name="bytes"/> as they are; a failed write is dropped.</summary>
    public static void Write(ReadOnlySpan<byte> bytes)
    {
        lock (WriteLock)
        {
            _ = Interop.WriteAll(Descriptor, bytes);
        }
    }
}
