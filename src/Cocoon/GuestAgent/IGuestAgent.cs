// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// The host's view of a box's guest agent (docs/architecture.md §1). Implementations speak gRPC over a stream
/// the caller provides; the generated client is never exposed. Failures surface as
/// <see cref="CocoonException"/>.
/// </summary>
public interface IGuestAgent : IAsyncDisposable
{
    /// <summary>Asks the agent for its version, kernel, hostname and boot timings.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The facts.</returns>
    Task<GuestInfo> GetInfoAsync(CancellationToken cancellationToken = default);

    /// <summary>Retries <see cref="GetInfoAsync"/> until the agent answers (the VM is booting) or <paramref name="timeout"/> passes.</summary>
    /// <param name="timeout">How long to keep trying.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The agent's facts from the first answer.</returns>
    /// <exception cref="CocoonException">Timeout, naming the last connection error.</exception>
    Task<GuestInfo> WaitForReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks the guest to power off: its processes get SIGTERM, then SIGKILL once they all exited or
    /// <paramref name="gracePeriod"/> passed. Returns once the agent acknowledged, before that.
    /// </summary>
    /// <param name="gracePeriod">Between SIGTERM and SIGKILL; null for the agent's default (0.5 s).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes with the acknowledgement.</returns>
    Task ShutdownAsync(TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default);

    /// <summary>Sets the guest's wall clock.</summary>
    /// <param name="time">The time to set, usually <see cref="DateTimeOffset.UtcNow"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the clock is set.</returns>
    Task SetTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default);

    /// <summary>Starts a process in the guest and returns once it runs.</summary>
    /// <param name="request">What to run.</param>
    /// <param name="cancellationToken">Cancels the start; once started, cancel through the session (disposing it kills the process).</param>
    /// <returns>The running session.</returns>
    /// <exception cref="CocoonException">NotFound for a missing executable or working directory, InvalidArgument for a bad request.</exception>
    Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default);
}

/// <summary>
/// A process running in the guest. Read <see cref="Stdout"/> and <see cref="Stderr"/> (both, or the
/// output backs up and the process blocks), write stdin, then await <see cref="Exit"/>. Disposing
/// before the exit kills the process.
/// </summary>
public interface IExecSession : IAsyncDisposable
{
    /// <summary>The process id in the guest.</summary>
    int Pid { get; }

    /// <summary>The process's stdout (for TTY sessions: the terminal's output). Ends when the process closes it.</summary>
    Stream Stdout { get; }

    /// <summary>The process's stderr; always empty for TTY sessions.</summary>
    Stream Stderr { get; }

    /// <summary>Completes when the process has exited and all output was delivered to the streams.</summary>
    Task<ExecExit> Exit { get; }

    /// <summary>Sends bytes to the process's stdin (needs <see cref="ExecRequest.Stdin"/> or <see cref="ExecRequest.Tty"/>).</summary>
    /// <param name="data">The bytes; split into 64 KiB messages.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the bytes are handed to the transport.</returns>
    Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Closes stdin: the process reads end of file (a TTY gets ^D).</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the close is sent.</returns>
    Task CloseStdinAsync(CancellationToken cancellationToken = default);

    /// <summary>Sends a signal (for example 15 for SIGTERM) to the process.</summary>
    /// <param name="signal">The signal number, 1–64.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the request is sent.</returns>
    Task SignalAsync(int signal, CancellationToken cancellationToken = default);

    /// <summary>Changes the terminal size of a TTY session.</summary>
    /// <param name="size">The new size.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the request is sent.</returns>
    Task ResizeAsync(TerminalSize size, CancellationToken cancellationToken = default);
}
