// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent;

/// <summary>The agent's log messages, with fixed event ids.</summary>
internal static partial class AgentLog
{
    [LoggerMessage(1, LogLevel.Information, "Serving on {EndPoint}")]
    public static partial void Serving(ILogger logger, string endPoint);

    [LoggerMessage(2, LogLevel.Debug, "Started process {Pid}: {Path}")]
    public static partial void ExecStarted(ILogger logger, int pid, string path);

    [LoggerMessage(3, LogLevel.Debug, "Process {Pid} exited: code {Code}, signal {Signal}")]
    public static partial void ExecExited(ILogger logger, int pid, int code, int signal);

    [LoggerMessage(4, LogLevel.Error, "Loading module {Path} failed")]
    public static partial void ModuleFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(5, LogLevel.Error, "Boot step '{Step}' failed")]
    public static partial void BootStepFailed(ILogger logger, string step, Exception exception);

    [LoggerMessage(6, LogLevel.Information, "Boot: kernel to init {KernelToInitUs} us, mounts {MountsUs} us, {ModulesLoaded} modules {ModulesUs} us, serving after {InitToServingUs} us")]
    public static partial void BootTimings(ILogger logger, ulong kernelToInitUs, ulong mountsUs, uint modulesLoaded, ulong modulesUs, ulong initToServingUs);

    [LoggerMessage(7, LogLevel.Warning, "Powering off")]
    public static partial void PoweringOff(ILogger logger);

    [LoggerMessage(8, LogLevel.Error, "{Method} failed")]
    public static partial void CallFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(9, LogLevel.Warning, "crun runs as installed, cloning itself at every start: its read-only copy could not be made")]
    public static partial void CrunCopyFailed(ILogger logger, Exception exception);

    [LoggerMessage(10, LogLevel.Information, "Disks: ready {ReadyUs} us after serving")]
    public static partial void DisksReady(ILogger logger, ulong readyUs);

    [LoggerMessage(11, LogLevel.Information, "Disks: a container waited {WaitedUs} us for them")]
    public static partial void DisksWaited(ILogger logger, ulong waitedUs);
}
