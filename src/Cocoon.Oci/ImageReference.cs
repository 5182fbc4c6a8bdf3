// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.RegularExpressions;

namespace Cocoon.Oci;

/// <summary>
/// An image reference, normalised as Docker does: <c>busybox</c> is
/// <c>docker.io/library/busybox:latest</c>, <c>host:5000/a/b:t</c> names a registry because its first
/// component holds a dot or a colon or is <c>localhost</c>, and <c>@sha256:…</c> pins a digest.
/// </summary>
/// <remarks>
/// The grammar is the distribution project's reference grammar: a name of lowercase path components
/// (<c>[a-z0-9]+</c> joined by <c>.</c>, <c>_</c>, <c>__</c> or dashes) after an optional registry
/// host, then an optional <c>:tag</c> (<c>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}</c>) and an optional
/// <c>@sha256:&lt;64 hex&gt;</c>. A reference with neither tag nor digest gets the tag <c>latest</c>.
/// </remarks>
public sealed partial record ImageReference
{
    /// <summary>The registry of unqualified names.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>The tag a reference without tag or digest gets.</summary>
    public const string DefaultTag = "latest";

    private const int MaxNameLength = 255;

    private ImageReference(string registry, string repository, string? tag, string? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry host, with its port if any (<c>docker.io</c>, <c>localhost:5000</c>).</summary>
    public string Registry { get; }

    /// <summary>The repository inside the registry (<c>library/busybox</c>).</summary>
    public string Repository { get; }

    /// <summary>The tag; null when the reference names only a digest.</summary>
    public string? Tag { get; }

    /// <summary>The pinned manifest digest (<c>sha256:…</c>), or null.</summary>
    public string? Digest { get; }

    /// <summary>The registry and repository: <c>docker.io/library/busybox</c>.</summary>
    public string Name => Registry + "/" + Repository;

    /// <summary>What to ask the registry's manifest endpoint for: the digest when pinned, else the tag.</summary>
    public string ManifestReference => Digest ?? Tag!;

    /// <summary>The host name requests go to (<c>registry-1.docker.io</c> for Docker Hub).</summary>
    internal string ApiHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    /// <summary>Parses a reference; throws a <see cref="CocoonException"/> naming it when it is malformed.</summary>
    /// <param name="reference">What the user wrote, e.g. <c>busybox</c> or <c>localhost:5000/app:1.0</c>.</param>
    /// <exception cref="CocoonException">InvalidArgument: the reference is malformed.</exception>
    public static ImageReference Parse(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return TryParse(reference, out var parsed, out var error)
            ? parsed
            : throw new CocoonException(CocoonErrorCode.InvalidArgument, $"invalid image reference '{reference}': {error}");
    }

    /// <summary>Parses a reference without throwing.</summary>
    /// <param name="reference">The reference text.</param>
    /// <param name="parsed">The normalised reference, when valid.</param>
    /// <param name="error">Why it is invalid, when not.</param>
    /// <returns>Whether <paramref name="reference"/> is valid.</returns>
    public static bool TryParse(
        string reference,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ImageReference? parsed,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        parsed = null;
        if (string.IsNullOrEmpty(reference))
        {
            error = "it is empty; give a name such as 'busybox' or 'localhost:5000/app:1.0'";
            return false;
        }

        var rest = reference;
        string? digest = null;
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!OciDigest.IsValid(digest))
            {
                error = $"'{digest}' is not a digest of the form sha256:<64 lowercase hex digits>";
                return false;
            }
        }

        string? tag = null;
        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"tag '{tag}' is invalid: up to 128 of A-Z a-z 0-9 _ . - not starting with . or -";
                return false;
            }
        }

        if (rest.Length == 0)
        {
            error = "the repository name is missing";
            return false;
        }

        var (registry, repository) = SplitRegistry(rest);
        if (repository.Length == 0)
        {
            error = "the repository name is missing";
            return false;
        }

        if (!RegistryPattern().IsMatch(registry))
        {
            error = $"registry '{registry}' is not a host name or address with an optional port";
            return false;
        }

        if (!RepositoryPattern().IsMatch(repository))
        {
            error = repository.Any(char.IsAsciiLetterUpper)
                ? $"repository '{repository}' must be lowercase"
                : $"repository '{repository}' is invalid: components of a-z 0-9 separated by '/', joined inside by '.', '_', '__' or '-'";
            return false;
        }

        if (registry.Length + 1 + repository.Length > MaxNameLength)
        {
            error = $"the name is longer than {MaxNameLength} characters";
            return false;
        }

        parsed = new ImageReference(registry, repository, tag ?? (digest is null ? DefaultTag : null), digest);
        error = null;
        return true;
    }

    /// <summary>The same repository with a tag (and no digest).</summary>
    internal ImageReference WithTag(string tag) => new(Registry, Repository, tag, null);

    /// <summary>The same repository pinned to <paramref name="digest"/> (and no tag).</summary>
    internal ImageReference WithDigest(string digest) => new(Registry, Repository, null, digest);

    /// <summary>The normalised text: <c>docker.io/library/busybox:latest</c>, with <c>@digest</c> when pinned.</summary>
    public override string ToString() =>
        Name + (Tag is null ? string.Empty : ":" + Tag) + (Digest is null ? string.Empty : "@" + Digest);

    // Docker's rule: the first component names a registry only if it holds '.' or ':' or is
    // "localhost" (or is written in upper case, which no repository may be); otherwise the whole
    // name is a Docker Hub repository, and a one-component Hub name lives under library/.
    private static (string Registry, string Repository) SplitRegistry(string name)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            var first = name[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) ||
                first == "localhost" || first.Any(char.IsAsciiLetterUpper))
            {
                var registry = first == "index.docker.io" ? DockerHub : first;
                var repository = name[(slash + 1)..];
                return (registry, registry == DockerHub && !repository.Contains('/', StringComparison.Ordinal) ? "library/" + repository : repository);
            }
        }

        return (DockerHub, slash < 0 ? "library/" + name : name);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(?:(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?$")]
    private static partial Regex RegistryPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();
}
