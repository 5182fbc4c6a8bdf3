// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Shim;

/// <summary>What the shim does when containerd runs it.</summary>
internal enum ShimCommand
{
    /// <summary>Start (or find) the shim for a task and print its ttrpc address.</summary>
    Start,

    /// <summary>Clean up after a shim that died: remove its box, print a DeleteResponse.</summary>
    Delete,

    /// <summary>The daemon <see cref="Start"/> spawns: serve the Task service until Shutdown.</summary>
    Serve,
}

/// <summary>
/// The command line containerd gives a shim (Go-style flags, then the command):
/// <c>-namespace NS -address CONTAINERD_SOCK -publish-binary CONTAINERD -id ID [-bundle DIR] [-debug] start|delete</c>.
/// </summary>
internal sealed record ShimArguments(ShimCommand Command, string Namespace, string Id, string Address, string Bundle, bool Debug)
{
    /// <summary>Parses <paramref name="args"/>; the bundle defaults to the working directory (containerd runs us there).</summary>
    /// <exception cref="CocoonException">InvalidArgument naming the flag that is missing or unknown.</exception>
    public static ShimArguments Parse(IReadOnlyList<string> args)
    {
        string? ns = null, id = null, address = null, bundle = null, command = null;
        var debug = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
            {
                command = command is null ? arg : throw Bad($"more than one command ('{command}', '{arg}')");
                continue;
            }

            var name = arg.TrimStart('-');
            string? inline = null;
            if (name.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }

            if (name is "debug" or "v")
            {
                debug = inline is null or "true";
                continue;
            }

            var value = inline ?? (i + 1 < args.Count ? args[++i] : throw Bad($"flag -{name} needs a value"));
            switch (name)
            {
                case "namespace": ns = value; break;
                case "id": id = value; break;
                case "address": address = value; break;
                case "bundle": bundle = value; break;
                case "publish-binary" or "socket": break;
                default: throw Bad($"unknown flag -{name}");
            }
        }

        var parsed = command switch
        {
            "start" => ShimCommand.Start,
            "delete" => ShimCommand.Delete,
            "serve" => ShimCommand.Serve,
            null => throw Bad("no command: containerd runs the shim with 'start' or 'delete'"),
            _ => throw Bad($"unknown command '{command}': use start or delete"),
        };
        return new ShimArguments(
            parsed,
            string.IsNullOrEmpty(ns) ? throw Bad("flag -namespace is required") : ns,
            string.IsNullOrEmpty(id) ? throw Bad("flag -id is required") : id,
            address ?? "",
            string.IsNullOrEmpty(bundle) ? Environment.CurrentDirectory : bundle,
            debug);
    }

    private static CocoonException Bad(string message) => new(CocoonErrorCode.InvalidArgument, message);
}
