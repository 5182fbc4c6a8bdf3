// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Configuration;

/// <summary>
/// The box name rule: a DNS label. 1–63 characters of lowercase <c>a-z</c>, <c>0-9</c> and
/// <c>-</c>, starting with a letter and not ending with <c>-</c>. Names become directory names, so
/// the rule also keeps <c>/</c>, <c>.</c> and <c>..</c> out of paths.
/// </summary>
internal static class BoxName
{
    /// <summary>The longest name.</summary>
    public const int MaxLength = 63;

    /// <summary>The rule in words, for messages.</summary>
    public const string Rule =
        "names are 1-63 characters of lowercase letters, digits and '-', start with a letter and do not end with '-'";

    /// <summary>Whether <paramref name="name"/> obeys the rule.</summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name[0] is < 'a' or > 'z' || name[^1] == '-')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws InvalidArgument naming <paramref name="name"/> and the rule when it is not valid.</summary>
    public static string Validate(string? name, string field = "box name")
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} is required: {Rule}");
        }

        if (!IsValid(name))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} '{name}' is invalid: {Rule}");
        }

        return name;
    }
}
