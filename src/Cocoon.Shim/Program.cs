// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net.Sockets;
using Cocoon.Shim.Protocol;
using Cocoon.Shim.Ttrpc;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;

namespace Cocoon.Shim;

/// <summary>
/// <c>containerd-shim-cocoon-v1</c>, runtime type <c>io.containerd.cocoon.v1</c>. containerd runs it
/// as <c>start</c> (in the bundle directory, with <c>TTRPC_ADDRESS</c> set) and reads the socket
/// address it prints; <c>start</c> spawns the long-lived server (<c>serve</c>) in a session of its own,
/// waits until it listens, and writes <c>address</c> and <c>shim.pid</c> in the bundle. A task of a pod
/// whose <c>io.kubernetes.cri.sandbox-id</c> names a running sandbox's shim gets that shim's address.
/// <c>delete</c> cleans up after a shim that died and prints a DeleteResponse.
/// </summary>
internal static class Program
{
    private const string TtrpcAddressVariable = "TTRPC_ADDRESS";

    public static async Task<int> Main(string[] args)
    {
        ShimArguments parsed;
        try
        {
            parsed = ShimArguments.Parse(args);
        }
        catch (CocoonException e)
        {
            await Console.Error.WriteLineAsync($"containerd-shim-cocoon-v1: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        try
        {
            return parsed.Command switch
            {
                ShimCommand.Start => await StartAsync(parsed).ConfigureAwait(false),
                ShimCommand.Delete => await DeleteAsync(parsed).ConfigureAwait(false),
                _ => await ServeAsync(parsed).ConfigureAwait(false),
            };
        }
        catch (Exception e) when (e is CocoonException or IOException or SocketException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"containerd-shim-cocoon-v1 {parsed.Command.ToString().ToLowerInvariant()}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static async Task<int> StartAsync(ShimArguments args)
    {
        // A container of a pod joins its sandbox's shim when that one runs.
        var sandbox = OciBundle.PeekSandboxId(args.Bundle);
        if (sandbox is not null && sandbox != args.Id)
        {
            var sandboxAddress = ShimAddress.For(args.Address, args.Namespace, sandbox);
            if (await AnswersAsync(sandboxAddress).ConfigureAwait(false))
            {
                await File.WriteAllTextAsync(Path.Combine(args.Bundle, "address"), sandboxAddress).ConfigureAwait(false);
                Console.Out.Write(sandboxAddress);
                return 0;
            }
        }

        var address = ShimAddress.For(args.Address, args.Namespace, args.Id);
        if (await AnswersAsync(address).ConfigureAwait(false))
        {
            throw new CocoonException(CocoonErrorCode.AlreadyExists, $"a shim already serves task '{args.Id}' at {address}");
        }

        var self = Environment.ProcessPath ?? throw new CocoonException(CocoonErrorCode.Internal, "cannot tell where this executable is");
        var start = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = args.Bundle,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])[self, "-namespace", args.Namespace, "-id", args.Id, "-address", args.Address, "-bundle", args.Bundle, .. args.Debug ? ["-debug"] : Array.Empty<string>(), "serve"])
        {
            start.ArgumentList.Add(arg);
        }

        using var server = Process.Start(start) ?? throw new CocoonException(CocoonErrorCode.Internal, "could not start the shim server");
        server.StandardInput.Close();

        // :: It listens once the socket answers; if it exits first, its stderr says why.
        var path = ShimAddress.PathOf(address);
        while (!await AnswersAsync(address).ConfigureAwait(false))
        {
            if (server.HasExited)
            {
                var why = await server.StandardError.ReadToEndAsync().ConfigureAwait(false);
                throw new CocoonException(CocoonErrorCode.Internal, $"the shim server exited with {server.ExitCode} before listening on {path}: {why.Trim()}");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }

        await File.WriteAllTextAsync(Path.Combine(args.Bundle, "address"), address).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(args.Bundle, "shim.pid"), server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
        Console.Out.Write(address);
        return 0;
    }

    private static async Task<int> ServeAsync(ShimArguments args)
    {
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new ShimLoggerProvider(OpenLog(args.Bundle), args.Debug ? LogLevel.Debug : LogLevel.Information)));
        var logger = loggerFactory.CreateLogger("Cocoon.Shim");
        var path = ShimAddress.PathOf(ShimAddress.For(args.Address, args.Namespace, args.Id));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Delete(path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        listener.Listen();

        using var shutdown = new CancellationTokenSource();
        await using var events = new EventPublisher(Environment.GetEnvironmentVariable(TtrpcAddressVariable), args.Namespace, logger);
        var runtime = new CocoonRuntime(new CocoonRuntimeOptions { CocoonPath = FindCocoon(), LoggerFactory = loggerFactory });
        var tasks = new TaskService(runtime, args.Namespace, events, logger, shutdown);
        try
        {
            await new TtrpcServer(tasks.Methods(), logger).ServeAsync(listener, shutdown.Token).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(path);
            await tasks.CleanUpAllAsync().ConfigureAwait(false);
        }

        return 0;
    }

    private static async Task<int> DeleteAsync(ShimArguments args)
    {
        // The shim died: its box (if any) and the rootfs mount are all that is left.
        var runtime = new CocoonRuntime(new CocoonRuntimeOptions { CocoonPath = FindCocoon() });
        var box = ShimAddress.BoxName(args.Namespace, args.Id);
        if (runtime.ListBoxes().Any(b => b.Name == box))
        {
            await runtime.RemoveAsync(box, force: true).ConfigureAwait(false);
        }

        var rootfs = Path.Combine(args.Bundle, "rootfs");
        if (RootfsMount.IsMountPoint(rootfs))
        {
            RootfsMount.Unmount(rootfs, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        }

        PodShare.Open(args.Bundle).Dispose(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        using var stdout = Console.OpenStandardOutput();
        new DeleteResponse { ExitStatus = 128 + 9, ExitedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) }.WriteTo(stdout);
        return 0;
    }

    /// <summary>The <c>cocoon</c> next to this executable (through a symlink on PATH, to where it really lies); null to let the SDK look.</summary>
    private static string? FindCocoon()
    {
        if (Environment.ProcessPath is not { } self)
        {
            return null;
        }

        var real = File.ResolveLinkTarget(self, returnFinalTarget: true)?.FullName ?? self;
        var cocoon = Path.Combine(Path.GetDirectoryName(real)!, "cocoon");
        return File.Exists(cocoon) ? cocoon : null;
    }

    /// <summary>containerd's <c>log</c> FIFO in the bundle, opened read-write so opening never waits; else nowhere.</summary>
    private static TextWriter OpenLog(string bundle)
    {
        var fifo = Path.Combine(bundle, "log");
        if (File.Exists(fifo) && (File.GetAttributes(fifo) & FileAttributes.Device) == 0)
        {
            try
            {
                return new StreamWriter(new FileStream(fifo, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1));
            }
            catch (IOException)
            {
                // No log then.
            }
        }

        return TextWriter.Null;
    }

    private static async Task<bool> AnswersAsync(string address)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(ShimAddress.PathOf(address))).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
