// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Security.Cryptography;

namespace Cocoon.Oci;

/// <summary>
/// Content digests as the OCI image spec writes them. Only <c>sha256</c> is accepted, with exactly
/// 64 lowercase hex digits, so a digest is also a safe file name in the content store.
/// </summary>
public static class OciDigest
{
    /// <summary>The algorithm prefix every accepted digest carries.</summary>
    public const string Sha256Prefix = "sha256:";

    /// <summary>Whether <paramref name="digest"/> is <c>sha256:</c> followed by 64 lowercase hex digits.</summary>
    /// <param name="digest">The text to check.</param>
    public static bool IsValid(string? digest) =>
        digest is { Length: 71 } && digest.StartsWith(Sha256Prefix, StringComparison.Ordinal) &&
        digest.AsSpan(Sha256Prefix.Length).ContainsAnyExcept("0123456789abcdef") is false;

    /// <summary>The digest of <paramref name="content"/>.</summary>
    /// <param name="content">The bytes.</param>
    public static string Compute(ReadOnlySpan<byte> content) => FromHash(SHA256.HashData(content));

    /// <summary>The hex part of a valid digest (the content store's file name).</summary>
    /// <param name="digest">A digest that passed <see cref="IsValid"/>.</param>
    public static string Hex(string digest) => digest[Sha256Prefix.Length..];

    /// <summary>A short form for display: the first 12 hex digits.</summary>
    /// <param name="digest">A valid digest.</param>
    public static string Short(string digest) => digest.Substring(Sha256Prefix.Length, 12);

    internal static string FromHash(ReadOnlySpan<byte> hash) => Sha256Prefix + Convert.ToHexStringLower(hash);

    /// <summary>Throws InvalidArgument naming <paramref name="what"/> unless <paramref name="digest"/> is valid.</summary>
    internal static string Require(string? digest, string what) =>
        IsValid(digest)
            ? digest!
            : throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                $"{what} has digest '{digest}', which is not sha256:<64 lowercase hex digits>; Cocoon accepts only sha256 content");
}
