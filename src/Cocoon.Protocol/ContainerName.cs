// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol.Internal;

namespace Cocoon.Protocol;

/// <summary>
/// The one rule for a container's name in a box, checked by the agent when it creates a container, by the
/// supervisor before it records a socket forward and by the data-stream header parser: 1-64 of a-z, 0-9,
/// '_', '.', '-', starting with a letter or digit. Names become crun ids, cgroup and directory names, so
/// the rule keeps out '/', '..' and anything a shell or a path would read differently.
/// </summary>
public static class ContainerName
{
    /// <summary>The longest name in characters.</summary>
    public const int MaxLength = 64;

    /// <summary>Whether <paramref name="name"/> follows the rule.</summary>
    /// <param name="name">The name to check (may be untrusted).</param>
    /// <returns>True for 1-64 of a-z, 0-9, '_', '.', '-' starting with a letter or digit.</returns>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || !(char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0])))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The one message for a name that breaks the rule, naming it (control characters shown as '?') and the rule.</summary>
    /// <param name="name">The refused name.</param>
    /// <returns>"container name '...' is not valid: use ...".</returns>
    public static string Invalid(string? name) =>
        $"container name '{PrintableText.Of(name ?? string.Empty)}' is not valid: use 1-{MaxLength} of a-z, 0-9, '_', '.', '-', starting with a letter or digit";

    /// <summary>Throws InvalidArgument with <see cref="Invalid"/>'s message when <paramref name="name"/> breaks the rule.</summary>
    /// <param name="name">The name to check.</param>
    /// <exception cref="CocoonException">InvalidArgument when the name is not valid.</exception>
    public static void EnsureValid(string? name)
    {
        if (!IsValid(name))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, Invalid(name));
        }
    }
}
