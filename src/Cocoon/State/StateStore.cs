// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.State;

/// <summary>
/// Crash-safe JSON state files shared between processes.
/// </summary>
/// <remarks>
/// Every read-modify-write goes through <see cref="Update{T, TResult}"/>:
/// <code>
///   1. open   &lt;file&gt;.lock (O_CREAT|O_CLOEXEC)      one lock file per state file, never deleted
///   2. flock  LOCK_EX (blocking)                  serialises writers of every process
///   3. read   &lt;file&gt; (missing → whenMissing())
///   4. mutate the typed model (caller)
///   5. write  &lt;file&gt;.&lt;pid&gt;.&lt;random&gt;.tmp, fsync    same directory, so rename stays atomic
///   6. rename tmp → &lt;file&gt;, fsync the directory   the new name is durable
///   7. close the lock fd (releases the flock)
/// </code>
/// A crash before step 6 leaves the old file intact (and maybe a stray temp file, removed by the
/// next update); after step 6 the new file is complete. Readers never lock: rename is atomic, so
/// <see cref="Read{T}"/> sees either the old or the new file, never a torn one.
/// Lock order, when one update nests in another: boxes registry lock, then a box's lock, then the
/// CID table's lock. Every file-system failure surfaces as a <see cref="CocoonException"/> coded by
/// the one errno table (<c>Interop.ErrorCodeOf</c>): a full disk is ResourceExhausted, a state
/// directory we may not write is InvalidState, and so on.
/// </remarks>
internal static class StateStore
{
    private const string TempSuffix = ".tmp";
    private const string LockSuffix = ".lock";

    /// <summary>Reads a state file without locking; null when it does not exist.</summary>
    /// <exception cref="CocoonException">The file is not valid JSON for <typeparamref name="T"/>.</exception>
    public static T? Read<T>(string path, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        var bytes = Interop.CheckFile(
            () =>
            {
                try
                {
                    return File.ReadAllBytes(path);
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
                {
                    return null;
                }
            },
            $"read '{path}'");
        return bytes is null ? null : Deserialize(path, bytes, typeInfo);
    }

    /// <summary>
    /// Locks <paramref name="path"/> against every other updater, reads it, lets
    /// <paramref name="mutate"/> change it and atomically writes the result back.
    /// </summary>
    /// <param name="path">The state file. Its directory must exist.</param>
    /// <param name="typeInfo">The source-generated JSON contract.</param>
    /// <param name="whenMissing">Makes the value when the file does not exist (or throws).</param>
    /// <param name="mutate">Changes the value in place or returns a replacement; its result is returned.</param>
    /// <returns>What <paramref name="mutate"/> returned as its result.</returns>
    public static TResult Update<T, TResult>(
        string path,
        JsonTypeInfo<T> typeInfo,
        Func<T> whenMissing,
        Func<T, (T Value, TResult Result)> mutate)
        where T : class
    {
        using var fileLock = Lock(path);
        var current = Read(path, typeInfo) ?? whenMissing();
        var (next, result) = mutate(current);
        WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(next, typeInfo));
        return result;
    }

    /// <summary>Takes the exclusive lock that guards <paramref name="path"/>; dispose to release it.</summary>
    public static StateLock Lock(string path)
    {
        var lockPath = path + LockSuffix;
        var handle = Interop.OpenFile(lockPath, Interop.OpenFlags.O_RDWR | Interop.OpenFlags.O_CREAT, Convert.ToInt32("600", 8));
        try
        {
            Interop.Flock(handle, Interop.LockOperations.LOCK_EX, lockPath);
            return new StateLock(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Takes the exclusive lock that guards <paramref name="path"/>, waiting (cancellably) while
    /// another process holds it; dispose to release it.
    /// </summary>
    public static async Task<StateLock> LockAsync(string path, CancellationToken cancellationToken)
    {
        var lockPath = path + LockSuffix;
        var handle = Interop.OpenFile(lockPath, Interop.OpenFlags.O_RDWR | Interop.OpenFlags.O_CREAT, Convert.ToInt32("600", 8));
        try
        {
            while (!Interop.TryFlock(handle, Interop.LockOperations.LOCK_EX, lockPath))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }

            return new StateLock(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="contents"/> through a fsynced temp file
    /// and a rename, then fsyncs the directory. The caller holds the file's lock.
    /// </summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> contents)
    {
        var directory = Path.GetDirectoryName(path)!;
        var temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}{TempSuffix}";
        try
        {
            RemoveStaleTempFiles(path);
            try
            {
                // Owner-only from creation on (DESIGN §3 rule 6); the rename keeps the mode.
                var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var stream = new FileStream(temp, create))
                {
                    stream.Write(contents);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temp, path, overwrite: true);
            }
            catch
            {
                File.Delete(temp);
                throw;
            }
        }
        catch (Exception e) when (Interop.ErrnoOf(e) is { } errno)
        {
            throw Interop.ExceptionFor(errno, $"write '{path}'", e);
        }

        FsyncDirectory(directory);
    }

    /// <summary>Makes a directory's entries (a create, rename or delete in it) durable.</summary>
    public static void FsyncDirectory(string directory)
    {
        using var handle = Interop.OpenFile(directory, Interop.OpenFlags.O_RDONLY | Interop.OpenFlags.O_DIRECTORY);
        Interop.Fsync(handle, directory);
    }

    /// <summary>Whether <paramref name="fileName"/> is a temp or lock file of this store.</summary>
    public static bool IsHousekeepingFile(string fileName) =>
        fileName.EndsWith(TempSuffix, StringComparison.Ordinal) || fileName.EndsWith(LockSuffix, StringComparison.Ordinal);

    private static T Deserialize<T>(string path, byte[] bytes, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(bytes, typeInfo)
                ?? throw new JsonException("the document is 'null'");
        }
        catch (JsonException e)
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidState,
                $"state file '{path}' is corrupt ({e.Message}); move it aside or remove it to recover",
                e);
        }
    }

    // A temp file exists only while its writer holds the lock, which we now hold: any left over is
    // from a writer that crashed.
    private static void RemoveStaleTempFiles(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        var prefix = Path.GetFileName(path) + ".";
        foreach (var file in Directory.EnumerateFiles(directory, prefix + "*" + TempSuffix))
        {
            File.Delete(file);
        }
    }
}

/// <summary>An exclusive flock on a state file's lock file; disposing releases it.</summary>
internal sealed class StateLock : IDisposable
{
    private readonly SafeFileHandle _handle;

    internal StateLock(SafeFileHandle handle) => _handle = handle;

    /// <summary>Closes the lock file, which releases the lock.</summary>
    public void Dispose() => _handle.Dispose();
}
