// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Net;
using System.Net.Sockets;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon port-forward BOX [--container C] [--address ADDR]... [LOCAL:]REMOTE[/udp]...</c>, with
/// kubectl's semantics: listens on the host, dials the box afresh for each connection, runs until
/// Ctrl-C or until the box stops.
/// </summary>
internal static class PortForwardCommand
{
    private static readonly TimeSpan BoxCheckInterval = TimeSpan.FromSeconds(2);

    private static readonly Argument<string> NameArgument = new("BOX") { Description = "The running box." };

    private static readonly Argument<string[]> PortsArgument = new("PORT")
    {
        Description = "[LOCAL:]REMOTE[/udp]: 8080:80 forwards local 8080 to 80 in the box, 80 is 80:80, :80 picks a free local port.",
        Arity = ArgumentArity.OneOrMore,
    };

    private static readonly Option<string?> ContainerOption = new("--container", "-c") { Description = "Dial from this container's network namespace." };

    private static readonly Option<string[]> AddressOption = new("--address")
    {
        Description = "Local addresses to listen on (repeatable); 'localhost' is 127.0.0.1 and ::1. Default: localhost.",
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        var command = new Command("port-forward", "Forward local ports to ports in a box (each connection is a new dial).")
        {
            NameArgument, PortsArgument, ContainerOption, AddressOption,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var name = parseResult.GetRequiredValue(NameArgument);
            var mappings = parseResult.GetRequiredValue(PortsArgument).Select(PortForwardOptions.Parse).ToList();
            var addresses = ParseAddresses(parseResult.GetValue(AddressOption) ?? []);
            var container = parseResult.GetValue(ContainerOption);

            using var signals = new SignalCancellation(cancellationToken);
            await using var box = context.Runtime.GetBox(name);
            var forwards = new List<PortForward>();
            try
            {
                foreach (var mapping in mappings)
                {
                    var remote = mapping.Network == "udp" ? $"{mapping.RemotePort}/udp" : mapping.RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var forward = await box.ForwardPortAsync(mapping with
                    {
                        Container = container,
                        ListenAddresses = addresses,
                        ConnectionFailed = ex => context.Error.WriteLine($"error: forwarding {mapping.LocalPort} -> {remote}: {ex.Message}"),
                    });
                    forwards.Add(forward);
                    foreach (var endPoint in forward.LocalEndPoints)
                    {
                        context.Out.WriteLine($"Forwarding from {Format(endPoint)} -> {remote}");
                    }
                }

                context.Out.Flush();
                return await WaitAsync(context, name, "port forwarding", signals.Token);
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

    /// <summary>Runs a foreground forward until Ctrl-C (exit 0) or until the box stops (an error naming <paramref name="what"/>).</summary>
    internal static async Task<int> WaitAsync(CliContext context, string name, string what, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(BoxCheckInterval, cancellationToken);
                if (context.Runtime.GetBoxInfo(name).State != BoxState.Running)
                {
                    throw new CocoonException(CocoonErrorCode.InvalidState, $"box '{name}' stopped; {what} ended");
                }
            }
        }
        catch (OperationCanceledException)
        {
            return (int)ExitCode.Ok;
        }
    }

    private static List<IPAddress> ParseAddresses(string[] values)
    {
        if (values.Length == 0)
        {
            return [.. PortForwardOptions.DefaultListenAddresses];
        }

        var addresses = new List<IPAddress>();
        foreach (var value in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (value == "localhost")
            {
                addresses.AddRange(PortForwardOptions.DefaultListenAddresses);
            }
            else if (IPAddress.TryParse(value, out var address))
            {
                addresses.Add(address);
            }
            else
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"--address '{value}' is not an IP address or 'localhost'");
            }
        }

        return [.. addresses.Distinct()];
    }

    private static string Format(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";
}
