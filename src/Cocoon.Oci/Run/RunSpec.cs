// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Oci.Run;

/// <summary>
/// Merges an image's config with the user's <c>run</c> options exactly as <c>docker run</c> does.
/// </summary>
/// <remarks>
/// <code>
///   entrypoint = --entrypoint given ? (it is "" ? [] : [it]) : image ENTRYPOINT
///   cmd        = arguments after the image, else --cmd, else (--entrypoint given ? [] : image CMD)
///   argv       = entrypoint + cmd        (empty: refused, there is nothing to run)
///   env        = image Env, then each -e: KEY=VALUE replaces or adds; KEY copies the host's value
///                (or, when the host has none, leaves the image's); PATH defaults to Docker's
///   workdir    = -w (absolute only), else image WorkingDir, else /
///   user       = -u, else image User, else 0 (root)
/// </code>
/// Giving both <c>--cmd</c> and arguments after the image is refused as ambiguous.
/// </remarks>
public static class RunSpec
{
    /// <summary>Docker's PATH for an image whose Env sets none.</summary>
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>Computes the container's process; throws InvalidArgument naming the flag for bad options.</summary>
    /// <param name="image">The image's config.</param>
    /// <param name="user">The user's options.</param>
    /// <param name="hostEnvironment">Looks up a host variable for <c>-e KEY</c>; null for the real environment.</param>
    public static ContainerProcess Merge(ImageConfig image, RunOverrides user, Func<string, string?>? hostEnvironment = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(user);
        hostEnvironment ??= Environment.GetEnvironmentVariable;
        if (user.Cmd.Count > 0 && user.Arguments.Count > 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "--cmd and a command after the image both replace the image's CMD; give only one of them");
        }

        IReadOnlyList<string> entrypoint = user.Entrypoint is null ? image.Entrypoint
            : user.Entrypoint.Length == 0 ? []
            : [user.Entrypoint];
        IReadOnlyList<string> cmd = user.Arguments.Count > 0 ? user.Arguments
            : user.Cmd.Count > 0 ? user.Cmd
            : user.Entrypoint is not null ? []
            : image.Cmd;
        var args = entrypoint.Concat(cmd).ToList();
        if (args.Count == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "the image has no ENTRYPOINT or CMD and none was given: name a command after the image, or use --entrypoint");
        }

        if (user.WorkingDir is { } workingDir && !workingDir.StartsWith('/'))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"-w '{workingDir}' is not an absolute path; give one such as /app");
        }

        return new ContainerProcess(
            args,
            MergeEnv(image.Env, user.Env, hostEnvironment),
            user.WorkingDir ?? image.WorkingDir ?? "/",
            user.User ?? image.User ?? "0");
    }

    private static List<string> MergeEnv(IReadOnlyList<string> image, IReadOnlyList<string> overrides, Func<string, string?> host)
    {
        var keys = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void Set(string key, string entry)
        {
            if (!values.ContainsKey(key))
            {
                keys.Add(key);
            }

            values[key] = entry;
        }

        foreach (var entry in image)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            Set(equals < 0 ? entry : entry[..equals], equals < 0 ? entry + "=" : entry);
        }

        if (!values.ContainsKey("PATH"))
        {
            Set("PATH", DefaultPath);
        }

        foreach (var entry in overrides)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals == 0 || entry.Length == 0)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"-e '{entry}' names no variable; give KEY=VALUE or KEY");
            }

            if (equals > 0)
            {
                Set(entry[..equals], entry);
            }
            else if (host(entry) is { } value)
            {
                Set(entry, entry + "=" + value);
            }
        }

        return keys.Select(k => values[k]).ToList();
    }
}
