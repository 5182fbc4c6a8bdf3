// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using Cocoon.Protocol;
using Cocoon.Vsock.Device;

namespace Cocoon.Cli.Commands;

/// <summary>
/// <c>cocoon vsock-device --socket PATH --uds PATH --guest-cid N [--allow-port P]...</c>: runs the
/// vhost-user-vsock device standalone (for a VMM started by hand) until SIGINT/SIGTERM or until
/// the front-end disconnects; logs go to stderr.
/// </summary>
internal static class VsockDeviceCommand
{
    private static readonly Option<string> SocketOption = new("--socket") { Description = "The vhost-user socket the device listens on (the VMM connects).", Required = true, HelpName = "PATH" };
    private static readonly Option<string> UdsOption = new("--uds") { Description = "The hybrid vsock socket for host-to-guest connections (CONNECT <port>).", Required = true, HelpName = "PATH" };
    private static readonly Option<ulong?> GuestCidOption = CreateGuestCidOption();
    private static readonly Option<uint[]> AllowPortOption = NumberOption.CreateList<uint>("--allow-port", "A guest-to-host port the guest may reach at <uds>_<port> (repeatable).");

    /// <summary>--guest-cid, refused by the parser outside the guests' range, so the error names the flag.</summary>
    private static Option<ulong?> CreateGuestCidOption()
    {
        var option = NumberOption.Create<ulong>("--guest-cid", "The guest's context id, 3 .. 4294967294.");
        option.Validators.Add(result =>
        {
            // The token itself: a value that is no number at all is the parser's error already.
            if (result.Tokens.Count > 0 && ulong.TryParse(result.Tokens[^1].Value, System.Globalization.CultureInfo.InvariantCulture, out var cid)
                && !VsockCids.IsGuest(cid))
            {
                result.AddError($"--guest-cid {cid} is reserved or out of range; use 3 .. 4294967294 (0-2 are the hypervisor, loopback and host)");
            }
        });
        return option;
    }

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        GuestCidOption.Required = true;
        GuestCidOption.HelpName = "N";
        AllowPortOption.HelpName = "PORT";
        var command = new Command("vsock-device", "Run the vhost-user-vsock device until Ctrl-C or the VMM disconnects.")
        {
            SocketOption,
            UdsOption,
            GuestCidOption,
            AllowPortOption,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(SocketOption) is { } socket && string.Equals(socket, result.GetValue(UdsOption), StringComparison.Ordinal))
            {
                result.AddError($"--uds must differ from --socket ('{socket}' is both): the VMM connects to --socket, host programs to --uds");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new VsockDeviceOptions
            {
                SocketPath = parseResult.GetRequiredValue(SocketOption),
                UdsPath = parseResult.GetRequiredValue(UdsOption),
                GuestCid = parseResult.GetValue(GuestCidOption) ?? 0,
                AllowedHostPorts = parseResult.GetValue(AllowPortOption) ?? [],
            };
            using var loggerFactory = context.CreateLoggerFactory(toStandardError: true);
            using var signals = new SignalCancellation(cancellationToken);
            // The device's own log line says where it listens: "vsock device listening on ...".
            await using var device = VsockDevice.Start(options, loggerFactory);
            try
            {
                var exit = await device.Completion.WaitAsync(signals.Token);
                context.Error.WriteLine($"vsock-device: stopped ({exit.Reason}{(exit.Detail is null ? "" : ": " + exit.Detail)})");
                return exit.Reason == VsockDeviceExitReason.Failed ? (int)ExitCode.Internal : 0;
            }
            catch (OperationCanceledException) when (signals.Token.IsCancellationRequested)
            {
                context.Error.WriteLine("vsock-device: signal received, stopping");
                return 0;
            }
        });
        return command;
    }
}
