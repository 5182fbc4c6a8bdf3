// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias cli;

using System.CommandLine;
using cli::Cocoon.Cli;
using Cocoon.Tests.Cli.Infrastructure;

namespace Cocoon.Tests.Cli;

public sealed class CommandGrammarTests : CliHarness
{
    private ParseResult Parse(params string[] args)
    {
        var root = CocoonCli.BuildRoot(Context(TextWriter.Null, TextWriter.Null));
        return root.Parse(CommandGrammar.Normalize(root, args), new ParserConfiguration { ResponseFileTokenReplacer = null });
    }

    [Theory]
    [InlineData(new[] { "exec", "box", "echo", "-e", "a\tb" }, new[] { "echo", "-e", "a\tb" })]
    [InlineData(new[] { "exec", "box", "ls", "-w", "1", "/" }, new[] { "ls", "-w", "1", "/" })]
    [InlineData(new[] { "exec", "box", "echo", "--help" }, new[] { "echo", "--help" })]
    [InlineData(new[] { "exec", "-it", "box", "sh", "-c", "x -- y" }, new[] { "sh", "-c", "x -- y" })]
    [InlineData(new[] { "exec", "box", "--", "ls", "--", "-l" }, new[] { "ls", "--", "-l" })]
    [InlineData(new[] { "exec", "--", "box", "ls", "-l" }, new[] { "ls", "-l" })]
    [InlineData(new[] { "exec", "box", "cat", "@file" }, new[] { "cat", "@file" })]
    public void Normalize_ExecOptionsAfterBox_BelongToTheCommand(string[] args, string[] expected)
    {
        var result = Parse(args);

        Assert.Empty(result.Errors);
        Assert.Equal("box", result.GetValue<string>("BOX"));
        Assert.Equal(expected, result.GetValue<string[]>("COMMAND")!);
    }

    [Theory]
    [InlineData(new[] { "run", "--rm", "--", "echo", "-n", "x" }, new[] { "echo", "-n", "x" })]
    [InlineData(new[] { "run", "-e", "A=1", "--", "env", "-w", "--help" }, new[] { "env", "-w", "--help" })]
    public void Normalize_RunOptionsAfterDoubleDash_BelongToTheCommand(string[] args, string[] expected)
    {
        var result = Parse(args);
        Assert.Empty(result.Errors);

        var (leading, command) = CommandGrammar.SplitWords(result);

        Assert.Empty(leading);
        Assert.Equal(expected, command);
    }

    [Fact]
    public void Normalize_ExecOptionsBeforeBox_AreCocoons()
    {
        var result = Parse("exec", "-it", "-e", "A=1", "--env=B=2", "-w/tmp", "-u", "1000:1000", "web", "ls", "-w", "1");

        Assert.Empty(result.Errors);
        Assert.Equal(["web"], CommandGrammar.SplitWords(result).Leading);
        Assert.True(result.GetValue<bool>("--interactive"));
        Assert.True(result.GetValue<bool>("--tty"));
        Assert.Equal(["A=1", "B=2"], result.GetValue<string[]>("--env")!);
        Assert.Equal("/tmp", result.GetValue<string>("--workdir"));
        Assert.Equal("1000:1000", result.GetValue<string>("--user"));
    }

    [Fact]
    public void Normalize_ValueThatLooksLikeAnOption_IsTheValue()
    {
        var result = Parse("run", "--name", "-e", "--", "true");

        Assert.Equal("-e", result.GetValue<string>("--name"));
        Assert.Equal(["true"], CommandGrammar.SplitWords(result).Command);
    }

    [Fact]
    public void Normalize_RunImageWord_IsLeadingNotCommand()
    {
        var result = Parse("run", "--rm", "alpine", "echo", "-n", "x");

        var (leading, command) = CommandGrammar.SplitWords(result);

        Assert.Equal(["alpine"], leading);
        Assert.Equal(["echo", "-n", "x"], command);
    }

    [Theory]
    [InlineData("run", "--rm", "-P", "--", "echo", "hi")]
    [InlineData("run", "--bogus", "--", "true")]
    [InlineData("run", "-ix", "--", "true")]
    [InlineData("exec", "--privileged", "web", "true")]
    public void Run_UnknownOption_UsageErrorBeforeAnythingIsCreated(params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.StartsWith("error: unknown option '-", stderr, StringComparison.Ordinal);
        Assert.True(NoBoxes());
    }

    [Fact]
    public void Run_OptionWithoutValue_UsageErrorNamingIt()
    {
        var (exit, _, stderr) = Run("exec", "-w");

        Assert.Equal(2, exit);
        Assert.Contains("'-w'", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("exec", "--guest", "-c", "db", "web", "true")]
    [InlineData("cp", "--guest", "--container", "db", "web:/etc/hosts", "-")]
    [InlineData("socket-forward", "--guest", "-c", "db", "web", "/tmp/a.sock:/run/a.sock")]
    public void Run_GuestAndContainer_UsageErrorNamingBoth(params string[] args)
    {
        var (exit, _, stderr) = Run(args);

        Assert.Equal(2, exit);
        Assert.Contains("--guest and --container 'db' name two places", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ImageFromAnUnreachableRegistry_FailsNamingItAndLeavesNoBox()
    {
        var (exit, _, stderr) = Run("run", "--rm", "127.0.0.1:1/nothing:1", "echo", "-n", "x");

        Assert.Equal(125, exit);
        Assert.Contains("127.0.0.1:1", stderr, StringComparison.Ordinal);
        Assert.True(NoBoxes());
    }

    [Theory]
    [InlineData("-d", "-t")]
    [InlineData("-d", "-i")]
    public void Run_DetachWithATerminalOrStdin_UsageErrorBeforeAnything(string detach, string attach)
    {
        var (exit, _, stderr) = Run("run", detach, attach, "127.0.0.1:1/nothing:1", "true");

        Assert.Equal(2, exit);
        Assert.Contains("-d cannot be combined", stderr, StringComparison.Ordinal);
        Assert.True(NoBoxes());
    }

    [Theory]
    [InlineData("--box", "b")]
    [InlineData("--entrypoint", "/bin/sh")]
    public void Run_ImageOptionWithoutAnImage_UsageError(string option, string value)
    {
        var (exit, _, stderr) = Run("run", option, value, "--", "true");

        Assert.Equal(2, exit);
        Assert.Contains($"{option} applies to an image's container", stderr, StringComparison.Ordinal);
        Assert.True(NoBoxes());
    }

    [Fact]
    public void Run_NoCommand_UsageError()
    {
        var (exit, _, stderr) = Run("run", "--rm");

        Assert.Equal(2, exit);
        Assert.Contains("no image or command given", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Exec_HelpAfterBox_IsTheCommandsNotCocoons()
    {
        var (exit, stdout, stderr) = Run("exec", "ghost", "echo", "--help");

        Assert.Equal(125, exit);
        Assert.Empty(stdout);
        Assert.Contains("'ghost'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_NoArguments_PrintsHelp()
    {
        var (exit, stdout, _) = Run();

        Assert.Equal(0, exit);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
    }
}
