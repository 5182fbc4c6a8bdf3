// Copyright (c) Cocoon contributors. Licensed under the MIT License.

extern alias cli;

using cli::Cocoon.Cli;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.Cli.Infrastructure;

/// <summary>Runs the CLI in-process over a fresh state root, capturing its output.</summary>
public abstract class CliHarness : IDisposable
{
    /// <summary>The state root of this test.</summary>
    protected TempStateRoot Root { get; } = new();

    /// <inheritdoc/>
    public void Dispose()
    {
        Root.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A context writing to <paramref name="stdout"/> and <paramref name="stderr"/> over <see cref="Root"/>.</summary>
    internal CliContext Context(TextWriter stdout, TextWriter stderr) => new(stdout, stderr, Root.Path);

    /// <summary>Runs <c>cocoon ARGS</c>.</summary>
    protected (int Exit, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = CocoonCli.Run(args, Context(stdout, stderr));
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>True when no box directory exists (nothing was created).</summary>
    protected bool NoBoxes() =>
        !Directory.Exists(Path.Combine(Root.Path, "boxes")) || !Directory.EnumerateFileSystemEntries(Path.Combine(Root.Path, "boxes")).Any();
}
