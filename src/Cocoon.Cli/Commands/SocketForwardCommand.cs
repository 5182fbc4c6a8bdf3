// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon socket-forward BOX [--container C] HOST_PATH:BOX_PATH...</c>: serves UNIX sockets of the box
/// on the host (owner-only), each connection a new connect stream into the box; runs until Ctrl-C or
/// until the box stops, and removes its host sockets when it ends. As exec, a box that runs containers
/// is reached in its first running container unless --container names another.
/// </summary>
internal static class SocketForwardCommand
{
    private static readonly Argument<string> NameArgument = new("BOX") { Description = "The running box." };
    private static readonly ContainerTarget Target = new("The container whose sockets to reach");

    private static readonly Argument<string[]> PathsArgument = new("PATH")
    {
        Description = "HOST_PATH:BOX_PATH, a host socket to listen on and the socket in the box it reaches, both absolute: /tmp/db.sock:/run/postgresql/.s.PGSQL.5432.",
        Arity = ArgumentArity.OneOrMore,
    };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("socket-forward", "Serve UNIX sockets of a box on the host (each connection connects in the box).")
        {
            NameArgument, PathsArgument,
        };
        Target.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(NameArgument);
            var pairs = parseResult.GetRequiredValue(PathsArgument).Select(Parse).ToList();

            using var signals = new SignalCancellation(cancellationToken);
            await using var box = context.Runtime.GetBox(name);
            var container = await Target.ResolveAsync(parseResult, context, box, signals.Token);
            var forwards = new List<SocketForward>();
            try
            {
                foreach (var (hostPath, boxPath) in pairs)
                {
                    forwards.Add(await box.ForwardSocketAsync(
                        hostPath, boxPath, container, ex => context.Error.WriteLine($"error: forwarding {hostPath} -> {boxPath}: {ex.Message}")));
                    context.Out.WriteLine(container is null ? $"Forwarding from {hostPath} -> {boxPath}" : $"Forwarding from {hostPath} -> {boxPath} in container {container}");
                }

                context.Out.Flush();
                return await PortForwardCommand.WaitAsync(context, name, "socket forwarding", signals.Token);
            }
            finally
            {
                foreach (var forward in forwards)
                {
                    await forward.DisposeAsync();
                }
            }
        });
        return command;
    }

    /// <summary>Splits <c>HOST_PATH:BOX_PATH</c> at the first ':' followed by '/' and checks both before anything is opened (<see cref="PublishedSocket.Parse"/>).</summary>
    internal static (string HostPath, string BoxPath) Parse(string value)
    {
        var forward = PublishedSocket.Parse(value, "socket forward");
        return (forward.HostPath, forward.BoxPath);
    }
}
