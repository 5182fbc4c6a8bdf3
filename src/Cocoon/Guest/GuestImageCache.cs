// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cocoon.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Guest;

/// <summary>A built initramfs on disk.</summary>
/// <param name="Path">The cpio archive.</param>
/// <param name="Hash">The SHA-256 of its inputs (see <see cref="InitramfsBuilder.ComputeHash"/>).</param>
/// <param name="FromCache">Whether it was already there.</param>
internal sealed record GuestImage(string Path, string Hash, bool FromCache);

/// <summary>What a recipe built last time: the image's hash, guest modules to load, and the host files it came from.</summary>
/// <param name="Hash">The image's input hash (its file name in the cache).</param>
/// <param name="Modules">Guest module paths in load order.</param>
/// <param name="Inputs">Every host file the recipe read, with its size and modification time then.</param>
internal sealed record ImageRecipe(string Hash, IReadOnlyList<string> Modules, IReadOnlyList<HostFileStamp> Inputs);

/// <summary>A host file's size and modification time (UTC ticks), the way build tools tell a file changed.</summary>
internal sealed record HostFileStamp(string Path, long Size, long ModifiedTicks)
{
    /// <summary>The file's stamp now; null when it does not exist.</summary>
    public static HostFileStamp? Of(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new HostFileStamp(path, info.Length, info.LastWriteTimeUtc.Ticks) : null;
    }
}

/// <summary>
/// Keeps built initramfs archives in <c>&lt;state root&gt;/cache/guest/&lt;hash&gt;.cpio</c>, each put
/// there through <see cref="CacheFile.Publish"/>: readers never see a partial archive and concurrent
/// builders of the same image are harmless.
/// <para>
/// Hashing every input costs a few hundred milliseconds on each box start (the agent alone is
/// ~12 MB), and finding the inputs runs <c>ldd</c> and <c>busybox --list-full</c>. A recipe — a
/// caller's named set of choices — therefore remembers in <c>recipe-&lt;key&gt;.json</c> which image
/// it produced and the size and mtime of every host file it read; while none of those changed the
/// image is reused without hashing (the same rule make and Go's build cache use). Any change, or a
/// missing image, sends the caller back to the content-hashed path.
/// </para>
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

        var stopwatch = Stopwatch.StartNew();
        var size = 0L;
        CacheFile.Publish(path, temporary =>
        {
            size = builder.Build(temporary);
            return true;
        });
        GuestLog.InitramfsBuilt(_logger, path, size, stopwatch.ElapsedMilliseconds);
        return new GuestImage(path, hash, FromCache: false);
    }

    /// <summary>A stable key for a recipe made of <paramref name="parts"/> (paths, versions, options).</summary>
    public static string RecipeKey(IEnumerable<string> parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts))))[..32];

    /// <summary>The image <paramref name="recipeKey"/> built last time, when it and every input it read are unchanged.</summary>
    public (GuestImage Image, ImageRecipe Recipe)? TryGetByRecipe(string recipeKey)
    {
        ImageRecipe? recipe;
        try
        {
            recipe = StateStore.Read(RecipePath(recipeKey), StateJsonContext.Default.ImageRecipe);
        }
        catch (CocoonException)
        {
            // A damaged index is only a missed shortcut: the caller rebuilds and rewrites it.
            return null;
        }

        if (recipe is null)
        {
            return null;
        }

        var path = Path.Combine(Directory, recipe.Hash + ".cpio");
        if (!File.Exists(path) || recipe.Inputs.Any(input => HostFileStamp.Of(input.Path) != input))
        {
            return null;
        }

        GuestLog.InitramfsCacheHit(_logger, path);
        return (new GuestImage(path, recipe.Hash, FromCache: true), recipe);
    }

    /// <summary>Remembers that <paramref name="recipeKey"/> produced <paramref name="image"/> from <paramref name="inputs"/>.</summary>
    public void RememberRecipe(string recipeKey, GuestImage image, IReadOnlyList<string> modules, IEnumerable<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(image);
        var stamps = inputs.Distinct(StringComparer.Ordinal).Select(HostFileStamp.Of).OfType<HostFileStamp>().ToList();
        var recipe = new ImageRecipe(image.Hash, modules, stamps);

        // Boxes starting together after an upgrade each remember the recipe; the write's temp-file
        // clean-up is safe only under the file's lock.
        var path = RecipePath(recipeKey);
        using var writing = StateStore.Lock(path);
        StateStore.WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(recipe, StateJsonContext.Default.ImageRecipe));
    }

    private string RecipePath(string recipeKey) => Path.Combine(Directory, $"recipe-{recipeKey}.json");
}
