// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Runtime.Versioning;
using Cocoon.Agent.Init;
using Cocoon.Agent.Processes;
using Cocoon.Agent.Rpc;
using Cocoon.Protocol;

[assembly: SupportedOSPlatform("linux")]

namespace Cocoon.Agent;

/// <summary>
/// cocoon-agent: PID 1 of every box, or a plain server for tests.
/// <code>
///  cocoon-agent                          as PID 1: move the root to a tmpfs and start again (below)
///  cocoon-agent --switched-root          as PID 1: init the guest, serve gRPC on vsock port 1024
///  cocoon-agent --listen-unix PATH       serve the same services on a UNIX socket (no mounts, no modules)
///  cocoon-agent --exec-as UID:GID -- PATH ARGV...   internal: drop privileges and exec
/// </code>
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var start = Stopwatch.GetTimestamp();
        if (args.Length > 0 && args[0] == ProcessLauncher.ExecAsArgument)
        {
            return ProcessLauncher.ExecAs(args);
        }

        // Before the first socket (the setting is read once), and after the exec-as branch, whose
        // environment is the user's process's.
        UseInlineSocketCompletions();

        var isInit = Interop.GetPid() == 1;
        string? unixPath = null;
        var detailedErrors = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--listen-unix" when i + 1 < args.Length:
                    unixPath = args[++i];
                    break;
                case "--detailed-errors":
                    detailedErrors = true;
                    break;
                default:
                    // The kernel passes unknown command-line words to init as arguments: ignore them as init.
                    if (!isInit)
                    {
                        StandardError.WriteLine($"cocoon-agent: unknown argument '{args[i]}'. Usage: cocoon-agent [--listen-unix PATH] [--detailed-errors]");
                        return 2;
                    }

                    break;
            }
        }

        if (!isInit && unixPath is null)
        {
            StandardError.WriteLine("cocoon-agent: not PID 1; give --listen-unix PATH to serve on a UNIX socket.");
            return 2;
        }

        if (!isInit)
        {
            return AgentServer.Run(new AgentServerOptions(unixPath!, IsInit: false, new BootConfig(), detailedErrors, start, null));
        }

        BoxLog.Enabled = true;
        AppDomain.CurrentDomain.UnhandledException += (_, e) => CrashAsInit(e.ExceptionObject as Exception);
        try
        {
            // The first start runs from the initramfs: move to a tmpfs root and start again from there.
            var switched = args.Contains(RootSwitch.SwitchedArgument);
            var switchFailure = switched ? null : RootSwitch.SwitchAndReexecute();
            var (config, kernelToInitUs, mountsUs, failures) = GuestInit.Prepare(start, devMounted: switched);
            if (switchFailure is not null)
            {
                failures.Add(("switch root", switchFailure));
            }

            AgentServer.Run(new AgentServerOptions(null, IsInit: true, config, detailedErrors, start, new InitFacts(kernelToInitUs, mountsUs, failures)));
            CrashAsInit(new InvalidOperationException("The agent's server stopped."));
        }
        catch (Exception ex)
        {
            CrashAsInit(ex);
        }

        return 1;
    }

    /// <summary>
    /// Socket completions run on .NET's epoll thread instead of being queued to the thread pool, so
    /// a relayed read wakes one thread, not two: under TCG the agent used about half the guest CPU
    /// per relayed MiB and a third less per forwarded connection (agent utime+stime in the guest,
    /// socket-forward both ways). Continuations after an await on a socket must therefore never
    /// block on another socket's progress; the agent's are asynchronous or brief.
    /// </summary>
    private static void UseInlineSocketCompletions() =>
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

    /// <summary>PID 1 must never exit (the kernel panics): report on the console and power off instead.</summary>
    private static void CrashAsInit(Exception? exception)
    {
        try
        {
            StandardError.WriteLine($"cocoon-agent: fatal: {exception}");
            StandardError.WriteLine("cocoon-agent: powering off");
        }
        finally
        {
            PowerControl.PowerOffNow(TimeSpan.Zero);
        }
    }
}
