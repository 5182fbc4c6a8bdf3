// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Cocoon.Cli;

/// <summary>Integer options whose parse error names the flag and the value, not a .NET type.</summary>
internal static class NumberOption
{
    /// <summary>An optional whole-number option: <c>--cpus 'x' is not a whole number</c> on bad input.</summary>
    public static Option<int?> Create(string name, string description, params string[] aliases) => Create<int>(name, description, aliases);

    /// <summary>An optional whole-number option of type <typeparamref name="T"/>.</summary>
    public static Option<T?> Create<T>(string name, string description, params string[] aliases)
        where T : struct, IBinaryInteger<T> => new(name, aliases)
        {
            Description = description,
            CustomParser = result => result.Tokens.Count > 0 && Parse<T>(result, result.Tokens[^1].Value, name) is { } value ? value : null,
        };

    /// <summary>A repeatable whole-number option of type <typeparamref name="T"/>.</summary>
    public static Option<T[]> CreateList<T>(string name, string description, params string[] aliases)
        where T : struct, IBinaryInteger<T> => new(name, aliases)
        {
            Description = description,
            CustomParser = result => [.. result.Tokens.Select(token => Parse<T>(result, token.Value, name) ?? default)],
        };

    private static T? Parse<T>(ArgumentResult result, string token, string name)
        where T : struct, IBinaryInteger<T>
    {
        if (T.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        var flag = (result.Parent as OptionResult)?.IdentifierToken?.Value ?? name;
        result.AddError($"{flag} '{token}' is not a whole number");
        return null;
    }
}
