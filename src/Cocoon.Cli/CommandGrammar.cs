// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.CommandLine.Parsing;

namespace Cocoon.Cli;

/// <summary>
/// A verb that ends in a guest command, such as <c>exec BOX COMMAND...</c> or
/// <c>run [IMAGE] [COMMAND...]</c>. As in Docker, its options are read only up to its leading
/// words (<see cref="LeadingWords"/>: the box, the image); every word after them, options included,
/// belongs to the guest command. <c>--</c> also ends the options.
/// </summary>
/// <param name="name">The verb.</param>
/// <param name="description">Its help text.</param>
/// <param name="leadingWords">How many positional words precede the guest command.</param>
internal sealed class TrailingCommand(string name, string description, int leadingWords) : Command(name, description)
{
    /// <summary>How many positional words precede the guest command.</summary>
    public int LeadingWords { get; } = leadingWords;
}

/// <summary>
/// Rewrites a <see cref="TrailingCommand"/>'s arguments into an unambiguous form before
/// System.CommandLine sees them, and refuses unknown options there, before anything is created.
/// </summary>
/// <remarks>
/// <code>
///   cocoon exec -it -e A=1 web ls -w 1 /     →   exec -i -t -e=A=1 web -- ls -w 1 /
///   cocoon run --rm -- echo -n x             →   run --rm -- echo -n x
///   cocoon run --rm alpine echo -n x         →   run --rm alpine -- echo -n x
/// </code>
/// Options come out one per token, a value attached with <c>=</c> (so a value that starts with
/// <c>-</c> is never read as an option), and a <c>--</c> follows the leading words, after which
/// System.CommandLine reads every token as an argument; a <c>--</c> the user put right after the
/// leading words (kubectl's <c>exec POD -- CMD</c>) is dropped. Other verbs pass through unchanged.
/// </remarks>
internal static class CommandGrammar
{
    private const string DoubleDash = "--";

    /// <summary>The arguments in the form described above.</summary>
    /// <exception cref="CocoonException">An unknown option, or an option without its value (InvalidArgument).</exception>
    public static IReadOnlyList<string> Normalize(Command root, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0 || root.Subcommands.FirstOrDefault(c => c.Name == args[0] || c.Aliases.Contains(args[0])) is not TrailingCommand verb)
        {
            return args;
        }

        var options = verb.Options.Concat(root.Options.Where(o => o.Recursive)).ToList();
        var output = new List<string>(args.Count + 1) { args[0] };
        var leading = 0;
        for (var i = 1; i < args.Count; i++)
        {
            var token = args[i];
            if (token == DoubleDash)
            {
                output.AddRange(args.Skip(i));
                return output;
            }

            if (token.Length < 2 || token[0] != '-')
            {
                output.Add(token);
                if (++leading == verb.LeadingWords)
                {
                    // kubectl's habit, `exec BOX -- CMD`, still works: a -- right after BOX only separates.
                    output.Add(DoubleDash);
                    output.AddRange(args.Skip(i + 1 < args.Count && args[i + 1] == DoubleDash ? i + 2 : i + 1));
                    return output;
                }

                continue;
            }

            i = token.StartsWith(DoubleDash, StringComparison.Ordinal)
                ? ReadLongOption(verb, options, args, i, output)
                : ReadShortOptions(verb, options, args, i, output);
        }

        return output;
    }

    /// <summary>
    /// Splits the parsed arguments of <c>run</c>, whose leading word is optional: the words the user
    /// gave before <c>--</c> (the IMAGE, or none) and the guest command after it.
    /// </summary>
    public static (IReadOnlyList<string> Leading, IReadOnlyList<string> Command) SplitWords(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var tokens = parseResult.Tokens;
        var doubleDash = -1;
        for (var i = 0; i < tokens.Count && doubleDash < 0; i++)
        {
            doubleDash = tokens[i].Type == TokenType.DoubleDash ? i : -1;
        }

        var leading = new List<string>();
        var command = new List<string>();
        foreach (var word in parseResult.CommandResult.Tokens)
        {
            var position = IndexOfReference(tokens, word);
            (doubleDash >= 0 && position > doubleDash ? command : leading).Add(word.Value);
        }

        return (leading, command);
    }

    private static int ReadLongOption(Command verb, List<Option> options, IReadOnlyList<string> args, int i, List<string> output)
    {
        var token = args[i];
        var equals = token.IndexOf('=', StringComparison.Ordinal);
        var alias = equals < 0 ? token : token[..equals];
        var option = Find(options, alias) ?? throw Unknown(verb, alias);
        return Emit(verb, option, alias, equals < 0 ? null : token[(equals + 1)..], args, i, output);
    }

    private static int ReadShortOptions(Command verb, List<Option> options, IReadOnlyList<string> args, int i, List<string> output)
    {
        var token = args[i];
        if (Find(options, token) is { } whole)
        {
            return Emit(verb, whole, token, null, args, i, output);
        }

        // A bundle such as -it, or a value attached to a short option: -w/tmp, -e=A=1.
        for (var j = 1; j < token.Length; j++)
        {
            var alias = "-" + token[j];
            var option = Find(options, alias) ?? throw Unknown(verb, j == 1 ? token : alias);
            if (!IsFlag(option))
            {
                var attached = token[(j + 1)..];
                attached = attached.StartsWith('=') ? attached[1..] : attached;
                return Emit(verb, option, alias, attached.Length > 0 ? attached : null, args, i, output);
            }

            output.Add(alias);
        }

        return i;
    }

    private static int Emit(Command verb, Option option, string alias, string? value, IReadOnlyList<string> args, int i, List<string> output)
    {
        if (IsFlag(option))
        {
            output.Add(value is null ? alias : $"{alias}={value}");
            return i;
        }

        if (value is null)
        {
            if (i + 1 >= args.Count)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"option '{alias}' of 'cocoon {verb.Name}' needs a value; see 'cocoon {verb.Name} --help'");
            }

            value = args[++i];
        }

        output.Add($"{alias}={value}");
        return i;
    }

    private static Option? Find(List<Option> options, string alias) =>
        options.FirstOrDefault(o => o.Name == alias || o.Aliases.Contains(alias));

    private static bool IsFlag(Option option) => option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool);

    private static CocoonException Unknown(Command verb, string token) =>
        new(CocoonErrorCode.InvalidArgument, $"unknown option '{token}' for 'cocoon {verb.Name}'; see 'cocoon {verb.Name} --help' (put the command after -- if it is the command's)");

    private static int IndexOfReference(IReadOnlyList<Token> tokens, Token token)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (ReferenceEquals(tokens[i], token))
            {
                return i;
            }
        }

        return -1;
    }
}
