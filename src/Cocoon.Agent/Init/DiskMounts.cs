// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.Protocol;

namespace Cocoon.Agent.Init;

/// <summary>
/// The box's disks (<see cref="BootConfig.Disks"/>), made ready on a thread of their own once the
/// agent serves (<see cref="GuestInit.MountDisks"/>), at the lowest priority: the host's first calls
/// need none of them, so their modules and mounts run while the host gets to its first container.
/// A container waits.
/// </summary>
internal sealed class DiskMounts
{
    private readonly TaskCompletionSource<IReadOnlyList<string>> _mounted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ILogger? _logger;

    /// <summary>Starts loading the disk modules and mounting the disks of <paramref name="config"/>; at once done when it has none.</summary>
    public void Start(BootConfig config, ILogger logger)
    {
        if ((config.Disks ?? []).Count == 0 && (config.DiskModules ?? []).Count == 0)
        {
            _mounted.TrySetResult([]);
            return;
        }

        _logger = logger;
        var start = Stopwatch.GetTimestamp();
        new Thread(() =>
        {
            try
            {
                // Behind the agent's own threads: the host's first calls, which need no disk, are
                // answered at once rather than after the modules and mounts. Not SCHED_IDLE: a
                // busy process in the box would starve it, and a container waits for it.
                _ = Interop.SetCurrentThreadNice(Interop.LowestPriority);
                var failures = GuestInit.MountDisks(config, logger);
                AgentLog.DisksReady(logger, GuestInit.ElapsedUs(start));
                _mounted.TrySetResult(failures);
            }
            catch (Exception ex)
            {
                _mounted.TrySetResult([ex.Message]);
            }
        })
        {
            IsBackground = true,
            Name = "cocoon-disks",
        }.Start();
    }

    /// <summary>Waits until the disks are mounted.</summary>
    /// <exception cref="CocoonException">InvalidState naming each step that failed (the console log has the details).</exception>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var waited = !_mounted.Task.IsCompleted;
        var start = Stopwatch.GetTimestamp();
        var failures = await _mounted.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (waited && _logger is { } logger)
        {
            AgentLog.DisksWaited(logger, GuestInit.ElapsedUs(start));
        }

        if (failures.Count > 0)
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidState,
                $"The box's disks could not be made ready, so no container can run in it: {string.Join("; ", failures)}.");
        }
    }
}
