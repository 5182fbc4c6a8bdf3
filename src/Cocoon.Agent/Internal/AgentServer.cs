// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Services;
using Cocoon.Vsock;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Cocoon.Agent.Internal;

/// <summary>Facts from the init steps that ran before the server.</summary>
internal sealed record InitFacts(ulong KernelToInitUs, ulong MountsUs, List<(string Step, Exception Error)> Failures);

/// <summary>How to run the server: on a UNIX socket (tests) or on vsock port 1024 (init).</summary>
internal sealed record AgentServerOptions(string? UnixPath, bool IsInit, BootConfig BootConfig, bool DetailedErrors, long StartTimestamp, InitFacts? Init);

/// <summary>Builds the AOT-friendly Kestrel host (HTTP/2 without TLS) and serves the agent's services.</summary>
internal static class AgentServer
{
    public static WebApplication Build(AgentServerOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Logging.SetMinimumLevel(ParseLevel(options.BootConfig.LogLevel));
        // Kestrel's own chatter stays quiet unless asked for.
        builder.Logging.AddFilter("Microsoft", options.BootConfig.LogLevel is null ? LogLevel.Error : ParseLevel(options.BootConfig.LogLevel));

        builder.Services.AddSingleton<IConnectionListenerFactory, AgentTransportFactory>();
        builder.Services.AddSingleton(new AgentState(options.IsInit, options.BootConfig));
        builder.Services.AddSingleton<ChildReaper>();
        builder.Services.AddSingleton<ProcessLauncher>();
        builder.Services.AddSingleton<PowerControl>();
        builder.Services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<ErrorInterceptor>();
            grpc.EnableDetailedErrors = options.DetailedErrors;
            grpc.MaxReceiveMessageSize = 1024 * 1024;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            System.Net.EndPoint endPoint = options.UnixPath is { } path
                ? new AgentUnixEndPoint(path)
                : new VsockEndPoint(VsockCids.Any, AgentPorts.Control);
            kestrel.Listen(endPoint, listen => listen.Protocols = HttpProtocols.Http2);
            // A box runs many concurrent execs over one connection.
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
        });

        var app = builder.Build();
        app.MapGrpcService<AgentService>();
        app.MapGrpcService<ProcessService>();
        return app;
    }

    public static int Run(AgentServerOptions options)
    {
        using var app = Build(options);
        var state = app.Services.GetRequiredService<AgentState>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Cocoon.Agent");
        _ = app.Services.GetRequiredService<ChildReaper>();
        ulong modulesUs = 0;
        uint modulesLoaded = 0;
        if (options.Init is { } init)
        {
            foreach (var (step, error) in init.Failures)
            {
                AgentLog.BootStepFailed(logger, step, error);
            }

            (modulesUs, modulesLoaded) = GuestInit.Configure(options.BootConfig, logger);
        }

        app.Start();
        state.Timings = new BootTimingsSnapshot(
            options.Init?.KernelToInitUs ?? 0,
            options.Init?.MountsUs ?? 0,
            modulesUs,
            GuestInit.ElapsedUs(options.StartTimestamp),
            modulesLoaded);
        AgentLog.Serving(logger, options.UnixPath ?? $"vsock port {AgentPorts.Control}");
        var t = state.Timings;
        AgentLog.BootTimings(logger, t.KernelToInitUs, t.MountsUs, t.ModulesLoaded, t.ModulesUs, t.InitToServingUs);
        app.WaitForShutdown();
        return 0;
    }

    private static LogLevel ParseLevel(string? level) =>
        Enum.TryParse<LogLevel>(level, ignoreCase: true, out var parsed) ? parsed : LogLevel.Warning;
}
