// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.Agent.Processes;

/// <summary>
/// The terminal of a program that relays its own terminal to a new one, as crun does for a
/// container's terminal (<c>crun run</c> or <c>crun exec --tty</c> without a console socket): it copies
/// the size of its stdin terminal to the new one once, at start, and handles no SIGWINCH after. So a
/// later resize is also applied to that inner terminal: the one pty master the relay holds, taken
/// with pidfd_getfd (the agent, as PID 1, may ptrace its children).
/// </summary>
/// <remarks>
/// The outer terminal is resized first: a relay that has not copied the size yet copies the new one,
/// and one that has is reached here, so no resize falls between the two.
/// </remarks>
internal static class RelayedTerminal
{
    /// <summary>Sets the size of the pty master that <paramref name="relayPid"/> holds; false when it holds none (yet) or is gone.</summary>
    public static bool Resize(int relayPid, ushort rows, ushort columns)
    {
        SafeFdHandle pidfd;
        try
        {
            pidfd = Interop.PidfdOpen(relayPid);
        }
        catch (CocoonException)
        {
            // ESRCH: the relay exited; its terminal went with it.
            return false;
        }

        using (pidfd)
        {
            IEnumerable<string> descriptors;
            try
            {
                descriptors = Directory.GetFileSystemEntries($"/proc/{relayPid.ToString(CultureInfo.InvariantCulture)}/fd");
            }
            catch (DirectoryNotFoundException)
            {
                return false;
            }

            foreach (var entry in descriptors)
            {
                // 0-2 are the outer terminal's slave. A descriptor of a process that reused the pid is
                // never taken: pidfd_getfd goes to the process the pidfd was opened on.
                if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) || fd <= 2)
                {
                    continue;
                }

                using var copy = Interop.PidfdGetfd(pidfd, fd);
                if (copy is not null && Interop.IsPtyMaster(copy))
                {
                    Interop.SetWindowSize(copy, rows, columns);
                    return true;
                }
            }
        }

        return false;
    }
}
