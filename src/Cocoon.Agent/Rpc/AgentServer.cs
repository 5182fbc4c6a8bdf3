// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Cocoon.Agent.Containers;
using Cocoon.Agent.Forwarding;
using Cocoon.Agent.Init;
using Cocoon.Agent.Network;
using Cocoon.Agent.Processes;
using Cocoon.Protocol;
using Cocoon.Vsock;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.Rpc;

/// <summary>Facts from the init steps that ran before the server.</summary>
internal sealed record InitFacts(ulong KernelToInitUs, ulong MountsUs, List<(string Step, Exception Error)> Failures);

/// <summary>How to run the server: on a UNIX socket (tests) or on vsock port 1024 (init).</summary>
internal sealed record AgentServerOptions(string? UnixPath, bool IsInit, BootConfig BootConfig, bool DetailedErrors, long StartTimestamp, InitFacts? Init);

/// <summary>
/// Wires the agent together and serves it: the services bound to a <see cref="GrpcDispatcher"/>,
/// Kestrel's HTTP/2 (no TLS) on vsock port 1024 or a UNIX socket. No generic host and no DI
/// container: the few objects are built here, in order.
/// </summary>
internal static class AgentServer
{
    /// <summary>Largest request message; stdin arrives in chunks of at most 64 KiB.</summary>
    private const int MaxRequestMessageLength = 1024 * 1024;

    /// <summary>How long a dial's connect may take inside the box.</summary>
    private static readonly TimeSpan DialTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a forwarded connection waits for the host's accept stream before it is closed.</summary>
    private static readonly TimeSpan ForwardAcceptTimeout = TimeSpan.FromSeconds(30);

    public static int Run(AgentServerOptions options)
    {
        using var loggerFactory = ConsoleLineLoggerProvider.CreateFactory(options.BootConfig.LogLevel);
        var logger = loggerFactory.CreateLogger("Cocoon.Agent");
        using var stop = new ManualResetEventSlim();
        var state = new AgentState(options.IsInit, options.BootConfig);
        var power = new PowerControl(state, stop.Set, loggerFactory.CreateLogger<PowerControl>());
        var launcher = new ProcessLauncher(new ChildReaper());
        using var forwards = new SocketForwards(
            options.UnixPath is null ? SocketForwards.DefaultDirectory : SocketForwardsTestDirectory(),
            ForwardAcceptTimeout,
            loggerFactory.CreateLogger<SocketForwards>());
        var crun = new CrunBinary(readOnlyCopy: options.IsInit, error => AgentLog.CrunCopyFailed(logger, error));
        var containers = new BoxContainers(options.BootConfig.Volumes ?? [], forwards.BoundListener, crun);
        var stdio = new StdioStreams();
        var disks = new DiskMounts();

        var dispatcher = new GrpcDispatcher(MaxRequestMessageLength, options.DetailedErrors, logger);
        Protocol.Agent.V1.Agent.BindService(dispatcher, new AgentService(state, power));
        Protocol.Agent.V1.Process.BindService(dispatcher, new ProcessService(launcher, containers, stdio, loggerFactory.CreateLogger<ProcessService>()));
        Protocol.Agent.V1.Containers.BindService(dispatcher, new ContainerService(containers, disks, launcher, loggerFactory.CreateLogger<ContainerService>()));
        Protocol.Agent.V1.SocketForwards.BindService(dispatcher, new SocketForwardService(forwards, containers));

        ulong modulesUs = 0;
        uint modulesLoaded = 0;
        if (options.Init is { } init)
        {
            foreach (var (step, error) in init.Failures)
            {
                AgentLog.BootStepFailed(logger, step, error);
            }

            // Before listening: vsock itself is one of the modules.
            (modulesUs, modulesLoaded) = GuestInit.Configure(options.BootConfig, logger);
            state.VolumeErrors = GuestInit.MountVolumes(options.BootConfig, logger);
        }

        using var server = CreateKestrel(options, loggerFactory);
        server.StartAsync(dispatcher, CancellationToken.None).GetAwaiter().GetResult();
        using var streams = StartStreams(options, forwards, containers, stdio, loggerFactory.CreateLogger<StreamServer>());

        // Serving first: the host's first calls need no disk, and a container waits for them.
        disks.Start(options.BootConfig, logger);
        state.Timings = new BootTimingsSnapshot(
            options.Init?.KernelToInitUs ?? 0,
            options.Init?.MountsUs ?? 0,
            modulesUs,
            GuestInit.ElapsedUs(options.StartTimestamp),
            modulesLoaded);
        AgentLog.Serving(logger, options.UnixPath ?? $"vsock port {AgentPorts.Control}");
        var t = state.Timings;
        AgentLog.BootTimings(logger, t.KernelToInitUs, t.MountsUs, t.ModulesLoaded, t.ModulesUs, t.InitToServingUs);

        // As init the agent only ends by powering off; as a test server SIGTERM or SIGINT stops it.
        using var terminate = options.IsInit ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = options.IsInit ? null : PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        stop.Wait();
        server.StopAsync(CancellationToken.None).Wait(TimeSpan.FromSeconds(5));
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Set();
        }
    }

    /// <summary>
    /// The data streams (docs/architecture.md §2.3) on vsock port 1025, or in --listen-unix mode on
    /// <c>PATH_1025</c>, the name a hybrid vsock device gives a port's socket.
    /// </summary>
    private static StreamServer StartStreams(AgentServerOptions options, SocketForwards forwards, BoxContainers containers, StdioStreams stdio, ILogger logger)
    {
        VsockListener listener;
        string where;
        if (options.UnixPath is { } path)
        {
            where = StreamsUnixPath(path);
            File.Delete(where);
            listener = VsockListener.BindUnix(where);
        }
        else
        {
            listener = VsockListener.Bind(new VsockEndPoint(VsockCids.Any, AgentPorts.Streams));
            where = $"vsock port {AgentPorts.Streams}";
        }

        NetworkLog.Serving(logger, where);
        return new StreamServer(listener, new Dialer(containers, DialTimeout), forwards, containers, logger, stdio);
    }

    /// <summary>
    /// Where --listen-unix puts the socket forwards' listeners (/run/socketfwd as init): a short path
    /// of its own under the temp directory, as a listener name is 69 bytes of a 107-byte limit.
    /// </summary>
    public static string SocketForwardsTestDirectory() =>
        Path.Combine(Path.GetTempPath(), "cocoon-fwd-" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Where --listen-unix PATH serves the data streams.</summary>
    public static string StreamsUnixPath(string unixPath) => unixPath + "_" + AgentPorts.Streams.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static KestrelServer CreateKestrel(AgentServerOptions options, ILoggerFactory loggerFactory)
    {
        var kestrel = new KestrelServerOptions { AddServerHeader = false, ApplicationServices = NoServices.Instance };
        // A box runs many concurrent execs over one connection, and an exec's streams may be idle or
        // carry any amount for as long as the process runs.
        kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
        kestrel.Limits.MaxRequestBodySize = null;
        kestrel.Limits.MinRequestBodyDataRate = null;
        kestrel.Limits.MinResponseDataRate = null;
        System.Net.EndPoint endPoint = options.UnixPath is { } path
            ? new AgentUnixEndPoint(path)
            : new VsockEndPoint(VsockCids.Any, AgentPorts.Control);
        kestrel.Listen(endPoint, listen => listen.Protocols = HttpProtocols.Http2);
        return new KestrelServer(Options.Create(kestrel), new AgentTransportFactory(loggerFactory), loggerFactory);
    }

    /// <summary>Kestrel asks its options for services only for HTTPS and diagnostics, which the agent does not use.</summary>
    private sealed class NoServices : IServiceProvider
    {
        public static readonly NoServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
