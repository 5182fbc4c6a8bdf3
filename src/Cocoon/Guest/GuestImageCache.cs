// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Guest;

/// <summary>A built initramfs on disk.</summary>
/// <param name="Path">The cpio archive.</param>
/// <param name="Hash">The SHA-256 of its inputs (see <see cref="InitramfsBuilder.ComputeHash"/>).</param>
/// <param name="FromCache">Whether it was already there.</param>
internal sealed record GuestImage(string Path, string Hash, bool FromCache);

/// <summary>
/// Keeps built initramfs archives in <c>&lt;state root&gt;/cache/guest/&lt;hash&gt;.cpio</c>. An archive is
/// written to a unique temporary file in the same directory and renamed into place, so readers never
/// see a partial archive and concurrent builders of the same image are harmless (the last rename wins
/// and the contents are identical).
/// </summary>
internal sealed class GuestImageCache
{
    private readonly ILogger _logger;

    public GuestImageCache(string stateRoot, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateRoot);
        Directory = Path.Combine(Path.GetFullPath(stateRoot), "cache", "guest");
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The cache directory.</summary>
    public string Directory { get; }

    /// <summary>Returns the cached archive for <paramref name="builder"/>'s inputs, building it first if needed.</summary>
    public GuestImage GetOrBuild(InitramfsBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var hash = builder.ComputeHash();
        var path = Path.Combine(Directory, hash + ".cpio");
        if (File.Exists(path))
        {
            GuestLog.InitramfsCacheHit(_logger, path);
            return new GuestImage(path, hash, FromCache: true);
        }

        System.IO.Directory.CreateDirectory(Directory);
        var temp = Path.Combine(Directory, $".{hash}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var size = builder.Build(temp);
            File.Move(temp, path, overwrite: true);
            GuestLog.InitramfsBuilt(_logger, path, size, stopwatch.ElapsedMilliseconds);
        }
        finally
        {
            File.Delete(temp);
        }

        return new GuestImage(path, hash, FromCache: false);
    }
}
