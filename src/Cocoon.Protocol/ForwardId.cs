// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Security.Cryptography;
using System.Text;

namespace Cocoon.Protocol;

/// <summary>
/// The id of a socket forward into a box (docs/architecture.md §3 rule 2): the lowercase hex SHA-256 of
/// <c>container_id + ":" + destination</c>, so the same destination in two containers differs. A
/// box-level forward has an empty container id. The agent's listener is
/// <c>/run/socketfwd/&lt;forward_id&gt;.sock</c>.
/// </summary>
public static class ForwardId
{
    /// <summary>Hex digits in an id.</summary>
    public const int Length = 64;

    /// <summary>Computes the id of <paramref name="destination"/> in <paramref name="containerId"/>.</summary>
    /// <param name="containerId">The container's id; empty or null for the box itself.</param>
    /// <param name="destination">The socket path where clients connect.</param>
    /// <returns>64 lowercase hex digits.</returns>
    public static string Compute(string? containerId, string destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((containerId ?? string.Empty) + ":" + destination)));
    }

    /// <summary>Whether <paramref name="id"/> has the shape of a forward id (64 lowercase hex digits).</summary>
    /// <param name="id">The text to check (untrusted).</param>
    /// <returns>True for 64 of 0-9 and a-f.</returns>
    public static bool IsValid(string? id)
    {
        if (id is null || id.Length != Length)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }
}
