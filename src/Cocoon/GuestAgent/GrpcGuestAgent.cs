// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using Cocoon.Protocol.Agent.V1;
using Cocoon.Vsock.Streams;
using Grpc.Core;
using Grpc.Net.Client;

namespace Cocoon.GuestAgent;

/// <summary>How a connection to the guest agent broke.</summary>
internal enum ConnectionLoss
{
    /// <summary>The agent's end closed the connection: the box stopped.</summary>
    Closed,

    /// <summary>The connection is there but the agent stopped answering (a keep-alive ping timed out).</summary>
    Unresponsive,
}

/// <summary><see cref="IGuestAgent"/> over Grpc.Net.Client, with the connection supplied by a delegate.</summary>
internal sealed class GrpcGuestAgent : IGuestAgent, IContainerAgent, ISocketForwardAgent
{
    private readonly GrpcChannel _channel;
    private readonly Protocol.Agent.V1.Agent.AgentClient _agent;
    private readonly Protocol.Agent.V1.Process.ProcessClient _process;
    private readonly string? _box;
    private readonly string _endpoint;
    private readonly Func<StreamRequest, CancellationToken, Task<Socket>>? _openStream;
    private readonly Protocol.Agent.V1.SocketForwards.SocketForwardsClient _socketForwards;
    private readonly Protocol.Agent.V1.Containers.ContainersClient _containers;

    /// <summary>A client whose connection comes from <paramref name="connect"/>.</summary>
    /// <param name="connect">Opens a byte stream to the agent.</param>
    /// <param name="endpoint">Where <paramref name="connect"/> leads, for messages, for example <c>socket '/run/agent.sock'</c>.</param>
    /// <param name="box">The box's name, for messages about a lost connection; null when unknown.</param>
    /// <param name="openStream">
    /// Opens a data stream to the agent (port 1025, header sent, ok read); when given, plain execs
    /// carry their stdio on data streams rather than in gRPC messages.
    /// </param>
    public GrpcGuestAgent(Func<CancellationToken, ValueTask<Stream>> connect, string endpoint, string? box = null, Func<StreamRequest, CancellationToken, Task<Socket>>? openStream = null)
    {
        _box = box;
        _endpoint = endpoint;
        _openStream = openStream;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) => await connect(cancellationToken).ConfigureAwait(false),
            // One connection multiplexes every call; execs are streams on it.
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        // The host part is never resolved: ConnectCallback decides where bytes go.
        _channel = GrpcChannel.ForAddress("http://cocoon-agent", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 1024 * 1024,
        });
        _agent = new Protocol.Agent.V1.Agent.AgentClient(_channel);
        _process = new Protocol.Agent.V1.Process.ProcessClient(_channel);
        _socketForwards = new Protocol.Agent.V1.SocketForwards.SocketForwardsClient(_channel);
        _containers = new Protocol.Agent.V1.Containers.ContainersClient(_channel);
    }

    public async Task<string> BindSocketForwardAsync(string forwardId, string? linkPath, CancellationToken cancellationToken)
    {
        var request = new BindSocketForwardRequest { ForwardId = forwardId, LinkPath = linkPath ?? string.Empty };
        var reply = await Call(() => _socketForwards.BindAsync(request, cancellationToken: cancellationToken).ResponseAsync, "SocketForwards.Bind", _box).ConfigureAwait(false);
        return reply.ListenerPath;
    }

    public async Task<string> BindContainerSocketForwardAsync(string forwardId, string container, string destination, CancellationToken cancellationToken)
    {
        var request = new BindSocketForwardRequest { ForwardId = forwardId, Container = container, Destination = destination };
        var reply = await Call(() => _socketForwards.BindAsync(request, cancellationToken: cancellationToken).ResponseAsync, "SocketForwards.Bind", _box).ConfigureAwait(false);
        return reply.ListenerPath;
    }

    public async Task<bool> UnbindSocketForwardAsync(string forwardId, CancellationToken cancellationToken)
    {
        var request = new UnbindSocketForwardRequest { ForwardId = forwardId };
        var reply = await Call(() => _socketForwards.UnbindAsync(request, cancellationToken: cancellationToken).ResponseAsync, "SocketForwards.Unbind", _box).ConfigureAwait(false);
        return reply.Removed;
    }

    public async IAsyncEnumerable<AnnouncedConnection> WatchSocketForwardAcceptsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = _socketForwards.WatchAccepts(new WatchAcceptsRequest(), cancellationToken: cancellationToken);
        while (await Call(() => call.ResponseStream.MoveNext(cancellationToken), "SocketForwards.WatchAccepts", _box).ConfigureAwait(false))
        {
            // The first message (empty) says the watch is in place.
            yield return new AnnouncedConnection(call.ResponseStream.Current.ForwardId, call.ResponseStream.Current.Token);
        }
    }

    public async Task<GuestInfo> GetInfoAsync(CancellationToken cancellationToken = default)
    {
        var reply = await Call(() => _agent.GetInfoAsync(new GetInfoRequest(), cancellationToken: cancellationToken).ResponseAsync, "GetInfo", _box).ConfigureAwait(false);
        var t = reply.BootTimings ?? new BootTimings();
        return new GuestInfo(
            reply.AgentVersion,
            reply.KernelRelease,
            reply.Hostname,
            reply.IsInit,
            TimeSpan.FromMicroseconds(t.KernelToInitUs),
            TimeSpan.FromMicroseconds(t.MountsUs),
            TimeSpan.FromMicroseconds(t.ModulesUs),
            TimeSpan.FromMicroseconds(t.InitToServingUs),
            (int)t.ModulesLoaded)
        {
            VolumeErrors = [.. reply.VolumeErrors],
        };
    }

    public async Task<GuestInfo> WaitForReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new CocoonException(
                    CocoonErrorCode.Timeout,
                    $"The guest agent at {_endpoint} did not answer within {timeout.TotalSeconds:0.#} s. Last error: {last?.Message ?? "none (no attempt finished in time)"}. See the box's console log.",
                    last);
            }

            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(remaining < TimeSpan.FromSeconds(2) ? remaining : TimeSpan.FromSeconds(2));
            try
            {
                return await GetInfoAsync(attempt.Token).ConfigureAwait(false);
            }
            catch (CocoonException ex) when (!cancellationToken.IsCancellationRequested && ex.Code is CocoonErrorCode.Unavailable or CocoonErrorCode.Timeout)
            {
                last = ex;
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                last = ex;
            }
            catch (CocoonException) when (cancellationToken.IsCancellationRequested)
            {
                // Cancelled while an attempt was failing: the cancellation is the news, not the attempt.
                cancellationToken.ThrowIfCancellationRequested();
            }

            // The guest is booting: a short pause keeps the retry cheap without delaying readiness much.
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }
    }

    public Task ShutdownAsync(TimeSpan? gracePeriod = null, CancellationToken cancellationToken = default)
    {
        var request = new ShutdownRequest();
        if (gracePeriod is { } grace)
        {
            request.GracePeriodMs = (uint)Math.Clamp(grace.TotalMilliseconds, 0, uint.MaxValue);
        }

        return Call(() => _agent.ShutdownAsync(request, cancellationToken: cancellationToken).ResponseAsync, "Shutdown", _box);
    }

    public Task SetTimeAsync(DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        var nanos = (time.UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
        return Call(() => _agent.SetTimeAsync(new SetTimeRequest { UnixTimeNs = nanos }, cancellationToken: cancellationToken).ResponseAsync, "SetTime", _box);
    }

    public async Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Argv.Count == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "The exec request has no program: Argv is empty.");
        }

        var start = new ExecStart
        {
            Tty = request.Tty,
            Stdin = request.Stdin,
            LogOutput = request.LogOutput,
            StdioStreams = _openStream is not null && !request.Tty && !request.LogOutput,
            WorkingDir = request.WorkingDirectory ?? string.Empty,
            User = request.User ?? string.Empty,
            Container = request.Container ?? string.Empty,
        };
        start.Argv.AddRange(request.Argv);
        if (request.Environment is not null)
        {
            foreach (var (key, value) in request.Environment)
            {
                start.Env[key] = value;
            }
        }

        if (request.WindowSize is { } size)
        {
            start.WindowSize = new WindowSize { Rows = (uint)size.Rows, Columns = (uint)size.Columns };
        }

        return await StartSessionAsync(_process.Exec(cancellationToken: CancellationToken.None), new ExecClientMessage { Start = start }, "Exec", request.Stdin, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IExecSession?> RunContainerAsync(ContainerSpec spec, CancellationToken cancellationToken)
    {
        var session = await StartSessionAsync(_containers.Run(cancellationToken: CancellationToken.None), new ExecClientMessage { ContainerStart = spec }, "Containers.Run", spec.Stdin, cancellationToken).ConfigureAwait(false);
        if (!spec.Detach)
        {
            return session;
        }

        // A detached run's call ends after `started`: there is no session to keep.
        await session.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    public async Task<IReadOnlyList<ContainerInfo>> ListContainersAsync(CancellationToken cancellationToken)
    {
        var reply = await Call(() => _containers.ListAsync(new ListContainersRequest(), cancellationToken: cancellationToken).ResponseAsync, "Containers.List", _box).ConfigureAwait(false);
        return reply.Containers;
    }

    public Task SignalContainerAsync(string name, int signal, bool all, CancellationToken cancellationToken) =>
        Call(() => _containers.SignalAsync(new SignalContainerRequest { Name = name, Signal = signal, All = all }, cancellationToken: cancellationToken).ResponseAsync, "Containers.Signal", _box);

    public async Task<Cocoon.ContainerStats> ContainerStatsAsync(string name, CancellationToken cancellationToken)
    {
        // Plain counters: nothing in them names anything on the host.
        var s = await Call(() => _containers.StatsAsync(new ContainerStatsRequest { Name = name }, cancellationToken: cancellationToken).ResponseAsync, "Containers.Stats", _box).ConfigureAwait(false);
        return new Cocoon.ContainerStats
        {
            PidsCurrent = s.PidsCurrent,
            PidsMax = s.PidsMax,
            CpuUsageUsec = s.CpuUsageUsec,
            CpuUserUsec = s.CpuUserUsec,
            CpuSystemUsec = s.CpuSystemUsec,
            CpuNrPeriods = s.CpuNrPeriods,
            CpuNrThrottled = s.CpuNrThrottled,
            CpuThrottledUsec = s.CpuThrottledUsec,
            MemoryCurrent = s.MemoryCurrent,
            MemoryMax = s.MemoryMax,
            MemorySwapCurrent = s.MemorySwapCurrent,
            MemorySwapMax = s.MemorySwapMax,
            MemoryPeak = s.MemoryPeak,
            MemoryAnon = s.MemoryAnon,
            MemoryFile = s.MemoryFile,
            MemoryKernelStack = s.MemoryKernelStack,
            MemorySlab = s.MemorySlab,
            MemorySock = s.MemorySock,
            MemoryShmem = s.MemoryShmem,
            MemoryFileMapped = s.MemoryFileMapped,
            MemoryPgfault = s.MemoryPgfault,
            MemoryPgmajfault = s.MemoryPgmajfault,
            MemoryEventsOom = s.MemoryEventsOom,
            MemoryEventsOomKill = s.MemoryEventsOomKill,
        };
    }

    public async Task<Cocoon.ExecExit> WaitContainerAsync(string name, CancellationToken cancellationToken)
    {
        var exit = await Call(() => _containers.WaitAsync(new WaitContainerRequest { Name = name }, cancellationToken: cancellationToken).ResponseAsync, "Containers.Wait", _box).ConfigureAwait(false);
        return ToExit(exit);
    }

    public Task RemoveContainerAsync(string name, CancellationToken cancellationToken) =>
        Call(() => _containers.RemoveAsync(new RemoveContainerRequest { Name = name }, cancellationToken: cancellationToken).ResponseAsync, "Containers.Remove", _box);

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ContainerLogsAsync(string name, bool follow, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var call = _containers.Logs(new ContainerLogsRequest { Name = name, Follow = follow }, cancellationToken: cancellationToken);
        while (await Call(() => call.ResponseStream.MoveNext(cancellationToken), "Containers.Logs", _box).ConfigureAwait(false))
        {
            yield return call.ResponseStream.Current.Data.Memory;
        }
    }

    /// <summary>The wire's exit status as the SDK's.</summary>
    internal static Cocoon.ExecExit ToExit(Protocol.Agent.V1.ExecExit exit) =>
        exit.StatusCase == Protocol.Agent.V1.ExecExit.StatusOneofCase.Signal
            ? new Cocoon.ExecExit(null, exit.Signal) { OomKilled = exit.OomKilled }
            : new Cocoon.ExecExit(exit.Code, null);

    /// <summary>Sends the first message of an Exec-shaped call and waits for `started`.</summary>
    private async Task<IExecSession> StartSessionAsync(
        AsyncDuplexStreamingCall<ExecClientMessage, ExecServerMessage> call, ExecClientMessage first, string operation, bool stdin, CancellationToken cancellationToken)
    {
        (Socket Stdio, Socket Stderr)? streams = null;
        try
        {
            await Call(() => call.RequestStream.WriteAsync(first, cancellationToken), operation, _box).ConfigureAwait(false);
            var started = await Call(() => call.ResponseStream.MoveNext(cancellationToken), operation, _box).ConfigureAwait(false);
            if (started && call.ResponseStream.Current.KindCase == ExecServerMessage.KindOneofCase.Streams)
            {
                streams = await OpenStdioStreamsAsync(call.ResponseStream.Current.Streams, cancellationToken).ConfigureAwait(false);
                started = await Call(() => call.ResponseStream.MoveNext(cancellationToken), operation, _box).ConfigureAwait(false);
            }

            if (!started || call.ResponseStream.Current.KindCase != ExecServerMessage.KindOneofCase.Started)
            {
                throw new CocoonException(CocoonErrorCode.Internal, "The guest agent did not confirm the process start.");
            }

            return new GrpcExecSession(call, call.ResponseStream.Current.Started.Pid, _box, streams, stdin);
        }
        catch
        {
            streams?.Stdio.Dispose();
            streams?.Stderr.Dispose();
            call.Dispose();
            throw;
        }
    }

    /// <summary>Opens the two data streams the agent announced for an exec's stdio (stdout and stdin, stderr).</summary>
    private async Task<(Socket Stdio, Socket Stderr)> OpenStdioStreamsAsync(ExecStreams tokens, CancellationToken cancellationToken)
    {
        // The tokens come from the guest: they only ever go back to it, in an accept header, once checked.
        if (_openStream is null || !StreamHeader.IsToken(tokens.StdioToken) || !StreamHeader.IsToken(tokens.StderrToken))
        {
            throw new CocoonException(CocoonErrorCode.Internal, "The guest agent answered the exec with stdio streams this client did not ask for or cannot open.");
        }

        var stdio = _openStream(new AcceptRequest(tokens.StdioToken), cancellationToken);
        var stderr = _openStream(new AcceptRequest(tokens.StderrToken), cancellationToken);
        try
        {
            await Task.WhenAll(stdio, stderr).ConfigureAwait(false);
            return (stdio.Result, stderr.Result);
        }
        catch
        {
            foreach (var open in new[] { stdio, stderr })
            {
                if (open.IsCompletedSuccessfully)
                {
                    open.Result.Dispose();
                }
            }

            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Runs a call, mapping transport failures to <see cref="CocoonException"/> (the one place on the host).</summary>
    internal static async Task<T> Call<T>(Func<Task<T>> call, string operation, string? box)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw ToCocoonException(ex, operation, box);
        }
    }

    internal static async Task Call(Func<Task> call, string operation, string? box)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw ToCocoonException(ex, operation, box);
        }
    }

    /// <summary>
    /// The one mapping of a failed call: a cancelled call is an <see cref="OperationCanceledException"/>
    /// (the caller's token or a disposed channel ended it), a broken connection one human message
    /// per <see cref="ConnectionLoss"/> (the transport's own text stays in the inner exception),
    /// anything else a <see cref="CocoonException"/> with the agent's message.
    /// </summary>
    internal static Exception ToCocoonException(RpcException ex, string operation, string? box = null)
    {
        if (ex.StatusCode == StatusCode.Cancelled)
        {
            return new OperationCanceledException($"The {operation} call was cancelled.", ex);
        }

        // A failure in ConnectCallback (for example the hybrid vsock refusal) arrives as Unavailable with the inner CocoonException.
        for (var inner = ex.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is CocoonException cocoon)
            {
                return new CocoonException(cocoon.Code, cocoon.Message, ex);
            }
        }

        if (ClassifyLoss(ex) is { } loss)
        {
            return new CocoonException(CocoonErrorCode.Unavailable, DescribeLoss(loss, operation, box), ex);
        }

        var code = ex.StatusCode switch
        {
            StatusCode.InvalidArgument or StatusCode.OutOfRange => CocoonErrorCode.InvalidArgument,
            StatusCode.NotFound => CocoonErrorCode.NotFound,
            StatusCode.AlreadyExists => CocoonErrorCode.AlreadyExists,
            StatusCode.FailedPrecondition => CocoonErrorCode.InvalidState,
            StatusCode.DeadlineExceeded => CocoonErrorCode.Timeout,
            StatusCode.Unimplemented => CocoonErrorCode.Unsupported,
            StatusCode.ResourceExhausted => CocoonErrorCode.ResourceExhausted,
            StatusCode.Unavailable => CocoonErrorCode.Unavailable,
            _ => CocoonErrorCode.Internal,
        };
        var message = ex.StatusCode is StatusCode.Unavailable
            ? $"The guest agent is not reachable ({operation}): {ex.Status.Detail}"
            : ex.Status.Detail;
        return new CocoonException(code, message, ex);
    }

    /// <summary>How the connection to the agent broke, when that is what failed the call.</summary>
    internal static ConnectionLoss? ClassifyLoss(RpcException ex)
    {
        if (ex.StatusCode is not (StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown))
        {
            return null;
        }

        var transport = false;
        for (var inner = ex.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                // The agent's end closed: the guest powered off, QEMU died or the device ended.
                case HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded }:
                case SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown }:
                    return ConnectionLoss.Closed;
                case HttpRequestException or HttpProtocolException or IOException:
                    transport = true;
                    break;
            }
        }

        // Anything else the transport reports (a keep-alive ping nobody answered, a protocol error):
        // the connection is open but the agent does not answer.
        return transport ? ConnectionLoss.Unresponsive : null;
    }

    /// <summary>The one message per <see cref="ConnectionLoss"/>: "box 'web' stopped while the command ran".</summary>
    internal static string DescribeLoss(ConnectionLoss loss, string operation, string? box)
    {
        var who = box is null ? "the box" : $"box '{box}'";
        var when = operation == "Exec" ? "while the command ran" : $"during {operation}";
        return loss == ConnectionLoss.Closed
            ? $"{who} stopped {when}"
            : $"{who} stopped answering {when}: its guest agent did not respond in time; see 'cocoon logs --console{(box is null ? "" : " " + box)}'";
    }

}
