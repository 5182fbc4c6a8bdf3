// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Cocoon.Cli;

/// <summary>Integer options whose parse error names the flag and the value, not a .NET type.</summary>
internal static class NumberOption
{
    /// <summary>An optional whole-number option: <c>--cpus 'x' is not a whole number</c> on bad input.</summary>
    public static Option<int?> Create(string name, string description, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        CustomParser = result =>
        {
            var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            var flag = (result.Parent as OptionResult)?.IdentifierToken?.Value ?? name;
            result.AddError($"{flag} '{token}' is not a whole number");
            return null;
        },
    };
}
