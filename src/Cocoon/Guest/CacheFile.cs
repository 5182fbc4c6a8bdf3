// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.Guest;

/// <summary>
/// Puts a file into a cache directory that several processes fill at once (<c>cache/guest</c>, with
/// no lock): the writer writes a hidden temporary file next to the target, named after the target and
/// the writer's pid, then renames it into place. A reader never sees a partial file, and two writers
/// of the same target are harmless: the last rename wins, and their contents are the same.
/// <para>
/// A writer killed mid-write leaves its temporary file behind (an initramfs is some 25 MiB, a kernel
/// 50 MiB). The next publish into the directory removes the ones whose writer no longer runs and
/// that have not changed for <see cref="OrphanAge"/>; the age spares a live writer in another pid
/// namespace sharing the directory.
/// </para>
/// </summary>
internal static class CacheFile
{
    /// <summary>How long a dead writer's temporary file stays before a publish removes it.</summary>
    public static readonly TimeSpan OrphanAge = TimeSpan.FromMinutes(10);

    private const string TemporarySuffix = ".tmp";

    /// <summary>
    /// Runs <paramref name="write"/> with a temporary path in the target's directory and, when it
    /// returns true, renames that file to <paramref name="target"/>. The temporary file is gone when
    /// this returns or throws.
    /// </summary>
    /// <returns>Whether the target was published (false when <paramref name="write"/> declined).</returns>
    public static bool Publish(string target, Func<string, bool> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentNullException.ThrowIfNull(write);
        var directory = Path.GetDirectoryName(Path.GetFullPath(target))!;
        Directory.CreateDirectory(directory);
        RemoveOrphans(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}{TemporarySuffix}");
        try
        {
            if (!write(temporary))
            {
                return false;
            }

            File.Move(temporary, target, overwrite: true);
            return true;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Removes the temporary files in <paramref name="directory"/> whose writer is gone (see the class remarks).</summary>
    internal static void RemoveOrphans(string directory)
    {
        var cutoff = DateTime.UtcNow - OrphanAge;
        foreach (var path in Directory.EnumerateFiles(directory, "." + "*" + TemporarySuffix))
        {
            if (WriterPid(Path.GetFileName(path)) is not { } pid || Directory.Exists($"/proc/{pid}") || File.GetLastWriteTimeUtc(path) > cutoff)
            {
                continue;
            }

            try
            {
                File.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another publish removed it first, or it is not ours to remove: it is only space.
            }
        }
    }

    /// <summary>The writer's pid in a temporary file's name (<c>.NAME.PID.GUID.tmp</c>; NAME may hold dots); null for any other name.</summary>
    internal static int? WriterPid(string fileName)
    {
        var parts = fileName.Split('.');
        return parts.Length >= 5 && parts[0].Length == 0 && parts[^1] == TemporarySuffix[1..] && parts[^2].Length == 32
            && int.TryParse(parts[^3], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0
            ? pid
            : null;
    }
}
