// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.GuestAgent;

namespace Cocoon;

/// <summary>
/// A container running in a box (<see cref="Box.RunContainerAsync"/>). Disposing it removes the
/// container (killing it first when it still runs); the box stays.
/// </summary>
public sealed class Container : IAsyncDisposable
{
    private readonly IContainerAgent _agent;
    private readonly Box _box;
    private int _disposed;

    internal Container(Box box, IContainerAgent agent, string name, IExecSession? session)
    {
        _box = box;
        _agent = agent;
        Name = name;
        Session = session;
    }

    /// <summary>The container's name in its box.</summary>
    public string Name { get; }

    /// <summary>The box it runs in.</summary>
    public string BoxName => _box.Name;

    /// <summary>
    /// The attached main process: read <see cref="IExecSession.Stdout"/> and <see cref="IExecSession.Stderr"/>,
    /// write stdin, await <see cref="IExecSession.Exit"/>; null for a detached container.
    /// </summary>
    public IExecSession? Session { get; }

    /// <summary>Waits until the container's main process exited.</summary>
    /// <param name="cancellationToken">Cancels the wait (not the container).</param>
    /// <returns>How it ended; <see cref="ExecExit.ShellExitCode"/> is <c>docker run</c>'s exit status.</returns>
    public Task<ExecExit> WaitAsync(CancellationToken cancellationToken = default) =>
        Session is { } session ? session.Exit.WaitAsync(cancellationToken) : _agent.WaitContainerAsync(Name, cancellationToken);

    /// <summary>Sends a signal to the container's main process; 9 (SIGKILL) kills every process in it.</summary>
    /// <param name="signal">The signal number, 1–64; 15 (SIGTERM) by default.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the signal was sent.</returns>
    public Task KillAsync(int signal = 15, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(signal, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, 64);
        return _agent.SignalContainerAsync(Name, signal, all: false, cancellationToken);
    }

    /// <summary>Sends a signal to every process in the container (its cgroup), not only the main one.</summary>
    /// <param name="signal">The signal number, 1–64.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the signal was sent.</returns>
    public Task SignalAllAsync(int signal, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(signal, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, 64);
        return _agent.SignalContainerAsync(Name, signal, all: true, cancellationToken);
    }

    /// <summary>The running container's cgroup v2 counters: processes, CPU time, memory.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The counters as the guest kernel reports them.</returns>
    /// <exception cref="CocoonException">InvalidState when the container does not run.</exception>
    public Task<ContainerStats> GetStatsAsync(CancellationToken cancellationToken = default) =>
        _agent.ContainerStatsAsync(Name, cancellationToken);

    /// <summary>Starts a command in the running container (as <c>docker exec</c>).</summary>
    /// <param name="request">The command; its <see cref="ExecRequest.Container"/> is set to this container.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running session.</returns>
    public Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _box.ExecAsync(request with { Container = Name }, cancellationToken);
    }

    /// <summary>Runs a command in the container to completion and returns its output and exit status.</summary>
    /// <param name="argv">Program and arguments (looked up on the container's PATH).</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The output and exit.</returns>
    public Task<BoxRunResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken = default) =>
        _box.RunAsync(new ExecRequest(argv) { Container = Name }, cancellationToken);

    /// <summary>The container's output log (stdout and stderr as written), from the start; with <paramref name="follow"/> until it exits.</summary>
    /// <param name="follow">Keep reading until the container exits.</param>
    /// <param name="cancellationToken">Ends the reading.</param>
    /// <returns>The log's bytes, chunk by chunk.</returns>
    public IAsyncEnumerable<ReadOnlyMemory<byte>> GetLogsAsync(bool follow = false, CancellationToken cancellationToken = default) =>
        _agent.ContainerLogsAsync(Name, follow, cancellationToken);

    /// <summary>Removes the container (killing it when it runs), the socket forwards into and out of it, and ends its session.</summary>
    /// <returns>A task that completes when it is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _agent.RemoveContainerAsync(Name, CancellationToken.None).ConfigureAwait(false);
            await _box.RemoveContainerSocketForwardsAsync(Name).ConfigureAwait(false);
        }
        finally
        {
            if (Session is not null)
            {
                await Session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
