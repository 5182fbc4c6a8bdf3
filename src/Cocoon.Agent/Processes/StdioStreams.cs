// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net.Sockets;
using Cocoon.Agent.Forwarding;

namespace Cocoon.Agent.Processes;

/// <summary>
/// The data streams a plain exec's stdio rides on (ExecStart.stdio_streams): the exec announces two
/// accept tokens, the host opens an <c>accept</c> stream for each, and the stream server hands the
/// connections here. The process then gets them as its stdio, so its bytes go straight to the
/// host's socket with no copy in the agent.
/// </summary>
internal sealed class StdioStreams
{
    /// <summary>How long an exec waits for the host to open its streams.</summary>
    public static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, TaskCompletionSource<Socket>> _pending = new(StringComparer.Ordinal);

    /// <summary>A new pending stream; its token goes to the host.</summary>
    public string Announce()
    {
        var token = SocketForwards.NewToken();
        _pending[token] = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        return token;
    }

    /// <summary>Whether an exec waits for the stream of <paramref name="token"/>.</summary>
    public bool IsPending(string token) => _pending.ContainsKey(token);

    /// <summary>Hands <paramref name="connection"/> to the exec that announced <paramref name="token"/>; false (the connection untouched) when none waits for it.</summary>
    public bool TryAttach(string token, Socket connection) =>
        _pending.TryRemove(token, out var waiter) && waiter.TrySetResult(connection);

    /// <summary>Waits for the stream of <paramref name="token"/>; the token is withdrawn however this ends.</summary>
    /// <exception cref="CocoonException">Timeout when the host did not open it within <see cref="AttachTimeout"/>.</exception>
    public async Task<Socket> WaitAsync(string token, CancellationToken cancellationToken)
    {
        if (!_pending.TryGetValue(token, out var waiter))
        {
            throw new InvalidOperationException("The token was not announced.");
        }

        try
        {
            return await waiter.Task.WaitAsync(AttachTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            if (!_pending.TryRemove(token, out _))
            {
                // The stream server handed the connection over just now: it is ours to close.
                (await waiter.Task.ConfigureAwait(false)).Dispose();
            }

            throw ex is TimeoutException
                ? new CocoonException(CocoonErrorCode.Timeout, $"The client did not open the exec's stdio streams within {AttachTimeout.TotalSeconds:0} s.", ex)
                : ex;
        }
    }

    /// <summary>Announces a stdout (and stdin) and a stderr stream, lets <paramref name="announce"/> tell the host, and waits for both.</summary>
    /// <returns>The connections; the caller owns them.</returns>
    public async Task<(Socket Stdio, Socket Stderr)> AttachAsync(Func<string, string, Task> announce, CancellationToken cancellationToken)
    {
        var stdioToken = Announce();
        var stderrToken = Announce();
        var stdio = WaitAsync(stdioToken, cancellationToken);
        var stderr = WaitAsync(stderrToken, cancellationToken);
        try
        {
            await announce(stdioToken, stderrToken).ConfigureAwait(false);
            await Task.WhenAll(stdio, stderr).ConfigureAwait(false);
            return (stdio.Result, stderr.Result);
        }
        catch
        {
            // Withdraw both and close what arrived.
            Withdraw(stdioToken);
            Withdraw(stderrToken);
            await CloseWhenAttachedAsync(stdio).ConfigureAwait(false);
            await CloseWhenAttachedAsync(stderr).ConfigureAwait(false);
            throw;
        }
    }

    private void Withdraw(string token)
    {
        if (_pending.TryRemove(token, out var waiter))
        {
            waiter.TrySetCanceled();
        }
    }

    private static async Task CloseWhenAttachedAsync(Task<Socket> attach)
    {
        try
        {
            (await attach.ConfigureAwait(false)).Dispose();
        }
        catch (Exception ex) when (ex is CocoonException or OperationCanceledException or InvalidOperationException)
        {
        }
    }
}
