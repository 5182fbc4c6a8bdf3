// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// A running box: runs commands in it through its guest agent. A box made by
/// <see cref="CocoonRuntime.CreateBoxAsync"/> is stopped and removed on dispose.
/// </summary>
public sealed class Box : IAsyncDisposable
{
    private readonly CocoonRuntime _runtime;
    private readonly bool _owned;
    private readonly IGuestAgent _agent;
    private BoxConfig? _config;
    private int _disposed;

    internal Box(CocoonRuntime runtime, string name, uint cid, bool owned, IGuestAgent agent)
    {
        _runtime = runtime;
        Name = name;
        Cid = cid;
        _owned = owned;
        _agent = agent;
    }

    /// <summary>The box name.</summary>
    public string Name { get; }

    /// <summary>The guest's vsock CID.</summary>
    public uint Cid { get; }

    /// <summary>The box's configuration, read once: it does not change while the box exists.</summary>
    private BoxConfig Config => _config ??= _runtime.Boxes.Get(Name).Config;

    /// <summary>The guest agent client, for calls beyond exec.</summary>
    public IGuestAgent Agent => _agent;

    /// <summary>
    /// Starts a command in the guest; read both output streams and await <see cref="IExecSession.Exit"/>.
    /// A command in the box's built-in environment (no <see cref="ExecRequest.Container"/>) gets the box's
    /// <see cref="BoxConfig.Env"/> under the request's own variables; one in a container gets the container's.
    /// </summary>
    /// <param name="request">The command and its settings.</param>
    /// <param name="cancellationToken">Cancels the start of the command.</param>
    public Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (string.IsNullOrEmpty(request.Container) && Config.Env is { Count: > 0 } boxEnv)
        {
            // Sent with each request, never in the boot configuration: the kernel command line is on the host's process list.
            var env = new Dictionary<string, string>(boxEnv, StringComparer.Ordinal);
            foreach (var (key, value) in request.Environment ?? new Dictionary<string, string>())
            {
                env[key] = value;
            }

            request = request with { Environment = env };
        }

        return _agent.ExecAsync(request, cancellationToken);
    }

    /// <summary>Starts <paramref name="argv"/> in the guest without stdin or a terminal.</summary>
    /// <param name="argv">Program and arguments (looked up on the guest's PATH).</param>
    /// <param name="cancellationToken">Cancels the start of the command.</param>
    public Task<IExecSession> ExecAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken = default) =>
        ExecAsync(new ExecRequest(argv), cancellationToken);

    /// <summary>Runs a command to completion and returns its output as text and its exit status.</summary>
    /// <param name="argv">Program and arguments.</param>
    /// <param name="cancellationToken">Cancels the run (the guest process is killed).</param>
    public Task<BoxRunResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken = default) =>
        RunAsync(new ExecRequest(argv), cancellationToken);

    /// <summary>Runs a command to completion and returns its output as text and its exit status.</summary>
    /// <param name="request">The command and its settings (stdin is closed).</param>
    /// <param name="cancellationToken">Cancels the run (the guest process is killed).</param>
    public async Task<BoxRunResult> RunAsync(ExecRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var session = await ExecAsync(request with { Stdin = false }, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            using var kill = cancellationToken.Register(() => _ = session.SignalAsync(9, CancellationToken.None));
            var stdout = new MemoryStream();
            var stderr = new MemoryStream();
            await Task.WhenAll(
                session.Stdout.CopyToAsync(stdout, cancellationToken),
                session.Stderr.CopyToAsync(stderr, cancellationToken)).ConfigureAwait(false);
            var exit = await session.Exit.WaitAsync(cancellationToken).ConfigureAwait(false);
            return new BoxRunResult(
                System.Text.Encoding.UTF8.GetString(stdout.GetBuffer(), 0, (int)stdout.Length),
                System.Text.Encoding.UTF8.GetString(stderr.GetBuffer(), 0, (int)stderr.Length),
                exit);
        }
    }

    /// <summary>
    /// Runs a container of the box's image (docs/architecture.md §2.8): the image's config merged with
    /// <paramref name="options"/> as <c>docker run</c> merges them, an overlay over the image's
    /// read-only root, the default profile, the box's network namespace, and the box's uds mounts
    /// (<see cref="BoxConfig.SocketMounts"/>) besides its own.
    /// </summary>
    /// <param name="options">The image and <c>docker run</c>'s options.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running container; read its <see cref="Container.Session"/> unless detached.</returns>
    /// <exception cref="CocoonException">
    /// InvalidArgument (bad options, nothing to run, an image other than the box's), NotFound (the image
    /// is not stored, or the executable is missing in it), AlreadyExists (the name is taken).
    /// </exception>
    public async Task<Container> RunContainerAsync(ContainerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var agent = _agent as GuestAgent.IContainerAgent
            ?? throw new CocoonException(CocoonErrorCode.Unsupported, "This box's agent client cannot run containers.");
        var config = Config;

        // The box's uds mounts are every container's; the container's own mount of a destination wins, as a
        // docker run --mount over a compose default would.
        if (config.SocketMounts.Count > 0)
        {
            options = options with
            {
                SocketMounts = [.. config.SocketMounts.Where(m => !options.SocketMounts.Any(o => o.Destination == m.Destination)), .. options.SocketMounts],
            };
        }

        var spec = Containers.ContainerPlan.Create(_runtime, config, options);

        // The supervisor records and binds each socket mount's forward before the agent creates the container.
        // A failed start removes only the forwards it added, not every forward of spec.Name as
        // RemoveContainerSocketForwardsAsync does for a container that is gone: the supervisor hands back an
        // existing forward for the same mount and name, which may serve a running container of that name
        // (the start then fails with AlreadyExists) or one added through the control API for this container
        // before it was created.
        HashSet<string> existing = options.SocketMounts.Count == 0 ? [] : (await ListSocketForwardsAsync(cancellationToken).ConfigureAwait(false)).Select(f => f.Id).ToHashSet();
        var added = new List<string>();
        try
        {
            foreach (var mount in options.SocketMounts)
            {
                var id = (await AddSocketForwardAsync(SocketForwardDirection.In, mount.Source, mount.Destination, spec.Name, cancellationToken).ConfigureAwait(false)).Id;
                if (!existing.Contains(id))
                {
                    added.Add(id);
                }
            }

            var session = await agent.RunContainerAsync(spec, cancellationToken).ConfigureAwait(false);
            return new Container(this, agent, spec.Name, session);
        }
        catch
        {
            // The start's own failure is what to report.
            await RemoveSocketForwardsQuietlyAsync(added).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The box's containers, running and exited, in creation order.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Their status.</returns>
    public async Task<IReadOnlyList<ContainerStatus>> ListContainersAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_agent is not GuestAgent.IContainerAgent agent)
        {
            return [];
        }

        var containers = await agent.ListContainersAsync(cancellationToken).ConfigureAwait(false);
        return [.. containers.Select(c => new ContainerStatus(
            c.Name,
            c.Image,
            [.. c.Argv],
            DateTimeOffset.FromUnixTimeMilliseconds(c.CreatedUnixMs),
            c.Exit is null ? null : GuestAgent.GrpcGuestAgent.ToExit(c.Exit)))];
    }

    /// <summary>A container's output log (stdout and stderr as written), from the start; with <paramref name="follow"/> until it exits.</summary>
    /// <param name="container">The container's name (<see cref="ListContainersAsync"/>).</param>
    /// <param name="follow">Keep reading until the container exits.</param>
    /// <param name="cancellationToken">Ends the reading.</param>
    /// <returns>The log's bytes, chunk by chunk.</returns>
    /// <exception cref="CocoonException">NotFound when the box has no container of that name.</exception>
    public IAsyncEnumerable<ReadOnlyMemory<byte>> GetContainerLogsAsync(string container, bool follow = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(container);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var agent = _agent as GuestAgent.IContainerAgent
            ?? throw new CocoonException(CocoonErrorCode.Unsupported, "This box's agent client cannot read container logs.");
        return agent.ContainerLogsAsync(container, follow, cancellationToken);
    }

    /// <summary>
    /// Dials <paramref name="network"/> to <paramref name="port"/> inside the box over a data stream
    /// (vsock port 1025). Nothing has to be published beforehand.
    /// </summary>
    /// <param name="network"><c>tcp</c> or <c>udp</c> (a UDP stream carries length-prefixed datagrams).</param>
    /// <param name="port">The port in the box, 1–65535.</param>
    /// <param name="address">An IPv4 or IPv6 address inside the box; null for 127.0.0.1.</param>
    /// <param name="container">The container whose network namespace to dial from; null for the box's own.</param>
    /// <param name="cancellationToken">Cancels the dial.</param>
    /// <returns>The connection; <see cref="BoxStream.CompleteWrites"/> half-closes it.</returns>
    /// <exception cref="Vsock.Streams.StreamException">
    /// Its <c>Status</c> tells refused, unreachable, timeout, bad-network, bad-port, bad-address,
    /// unknown-container and box-not-running apart; <see cref="CocoonException.Code"/> is the coarse kind.
    /// </exception>
    public async Task<BoxStream> DialAsync(string network, int port, string? address = null, string? container = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var request = new Vsock.Streams.DialRequest(Forwarding.StreamDialer.ParseNetwork(network), port, address, container);
        var socket = await Dialer.DialAsync(request, cancellationToken).ConfigureAwait(false);
        return new BoxStream(socket);
    }

    /// <summary>
    /// Listens on the host (127.0.0.1 and ::1 unless told otherwise) and dials the box afresh for every
    /// connection (or, for UDP, every peer), until the returned handle is disposed.
    /// </summary>
    /// <param name="options">Ports, network, addresses; see <see cref="PortForwardOptions"/>.</param>
    /// <returns>The running forward, with the bound local endpoints.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming a bad port, network or address; AlreadyExists naming a local port in use.</exception>
    public Task<PortForward> ForwardPortAsync(PortForwardOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var dialer = Dialer;
        return Task.FromResult(PortForward.Start(dialer.DialAsync, options));
    }

    /// <summary>
    /// Listens on the UNIX socket <paramref name="hostPath"/> (owner-only) and connects each of its
    /// connections to the socket <paramref name="boxPath"/> in the box, until the returned handle is
    /// disposed, which also removes the host socket. A stale socket at <paramref name="hostPath"/> is
    /// replaced; a live one or any other file is refused.
    /// </summary>
    /// <param name="hostPath">An absolute socket path on the host; its directory must exist.</param>
    /// <param name="boxPath">An absolute socket path in the box.</param>
    /// <param name="container">The container whose socket it is; null for the box's own.</param>
    /// <param name="connectionFailed">Called when one connection could not be forwarded (nothing listens in the box, ...).</param>
    /// <returns>The running forward.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming a bad path; AlreadyExists when the host path is in use or not a socket.</exception>
    public Task<SocketForward> ForwardSocketAsync(string hostPath, string boxPath, string? container = null, Action<CocoonException>? connectionFailed = null)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return Task.FromResult(SocketForward.Start(Dialer.OpenAsync, hostPath, boxPath, container, connectionFailed));
    }

    /// <summary>
    /// Adds a socket forward that the box's supervisor keeps until it is removed or the box stops
    /// (<c>pod.socketForward.add</c>): <see cref="SocketForwardDirection.Out"/> serves the box socket
    /// <paramref name="boxPath"/> at <paramref name="hostPath"/>; <see cref="SocketForwardDirection.In"/>
    /// makes the host socket <paramref name="hostPath"/> reachable at <paramref name="boxPath"/> in the box.
    /// </summary>
    /// <param name="direction">Out of or into the box.</param>
    /// <param name="hostPath">An absolute socket path on the host.</param>
    /// <param name="boxPath">An absolute socket path in the box, or in <paramref name="container"/>.</param>
    /// <param name="container">
    /// The container whose socket it is; null for the box's own. Into a running container, the
    /// forward's listener is bind-mounted at <paramref name="boxPath"/> in it at once (nothing restarts);
    /// into a container not created yet, when it is created with that path in its socket mounts.
    /// </param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The forward, with its id for <see cref="RemoveSocketForwardAsync"/>.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming a bad or busy path; InvalidState when the box is not running.</exception>
    public async Task<SocketForwardInfo> AddSocketForwardAsync(SocketForwardDirection direction, string hostPath, string boxPath, string? container = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        Protocol.UnixSocketPath.EnsureValid(hostPath, "host socket path");
        Protocol.UnixSocketPath.EnsureValid(boxPath, "box socket path");
        var result = await Supervisor.ControlClient.CallAsync(
            _runtime.Paths.ControlSocket(Name),
            Supervisor.SocketForwardMethods.Add,
            writer =>
            {
                writer.WriteString("direction", direction == SocketForwardDirection.In ? "in" : "out");
                writer.WriteString("hostPath", hostPath);
                writer.WriteString("path", boxPath);
                if (container is not null)
                {
                    writer.WriteString("container", container);
                }
            },
            cancellationToken).ConfigureAwait(false);
        return Supervisor.SocketForwardMethods.Read(result);
    }

    /// <summary>Removes a forward <see cref="AddSocketForwardAsync"/> made (<c>pod.socketForward.remove</c>).</summary>
    /// <param name="id">The forward's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes once the forward's listener is closed.</returns>
    /// <exception cref="CocoonException">InvalidArgument when no forward has that id.</exception>
    public Task RemoveSocketForwardAsync(string id, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return Supervisor.ControlClient.CallAsync(_runtime.Paths.ControlSocket(Name), Supervisor.SocketForwardMethods.Remove, writer => writer.WriteString("id", id), cancellationToken);
    }

    /// <summary>
    /// Removes the supervisor's forwards into and out of <paramref name="container"/>, which is gone: all
    /// of them, including those added through the control API. A failed <see cref="RunContainerAsync"/>
    /// removes only the ones it added instead, since the container's name may belong to a running one.
    /// </summary>
    internal async Task RemoveContainerSocketForwardsAsync(string container)
    {
        IReadOnlyList<SocketForwardInfo> forwards;
        try
        {
            forwards = await ListSocketForwardsAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is CocoonException or ObjectDisposedException)
        {
            // The box, its supervisor and with them its forwards are gone.
            return;
        }

        await RemoveSocketForwardsQuietlyAsync(forwards.Where(f => f.Container == container).Select(f => f.Id)).ConfigureAwait(false);
    }

    /// <summary>Removes each forward of <paramref name="ids"/>, skipping any that is gone already or whose box is going away.</summary>
    private async Task RemoveSocketForwardsQuietlyAsync(IEnumerable<string> ids)
    {
        foreach (var id in ids)
        {
            try
            {
                await RemoveSocketForwardAsync(id, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is CocoonException or ObjectDisposedException)
            {
                // Removed already, or the box and its supervisor are gone, and its forwards with them.
            }
        }
    }

    /// <summary>The forwards the box's supervisor keeps (<c>pod.socketForward.list</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The forwards, ordered by host path.</returns>
    public async Task<IReadOnlyList<SocketForwardInfo>> ListSocketForwardsAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var result = await Supervisor.ControlClient.CallAsync(_runtime.Paths.ControlSocket(Name), Supervisor.SocketForwardMethods.List, null, cancellationToken).ConfigureAwait(false);
        return [.. result.GetProperty("forwards").EnumerateArray().Select(Supervisor.SocketForwardMethods.Read)];
    }

    /// <summary>
    /// Copies the host file or directory <paramref name="hostPath"/> to <paramref name="boxPath"/> in the
    /// box, as <c>docker cp</c> does: into <paramref name="boxPath"/> when it is a directory, else as it
    /// (its directory must exist); a <paramref name="hostPath"/> ending in <c>/.</c> copies a directory's
    /// contents. Owners, modes, times and symbolic links are kept; links are never followed.
    /// </summary>
    /// <param name="hostPath">The host file or directory.</param>
    /// <param name="boxPath">An absolute path in the box, or in <paramref name="container"/>'s file system.</param>
    /// <param name="container">A running container of the box whose view of the path to use (as <c>docker cp</c>); null for the box's own.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>A task that completes once everything is unpacked in the box.</returns>
    /// <exception cref="Vsock.Streams.StreamException">not-found (the source, or the destination's directory), bad-path, unknown-container, box-not-running.</exception>
    public Task CopyToAsync(string hostPath, string boxPath, string? container = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hostPath);
        ArgumentNullException.ThrowIfNull(boxPath);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return Files.BoxCopy.ToBoxAsync(Dialer, hostPath, boxPath, container, cancellationToken);
    }

    /// <summary>Unpacks the tar stream <paramref name="archive"/> into the existing box directory <paramref name="boxDirectory"/>.</summary>
    /// <param name="archive">A tar stream (read to its end).</param>
    /// <param name="boxDirectory">An absolute path of a directory in the box, or in <paramref name="container"/>'s file system.</param>
    /// <param name="container">A running container of the box whose view of the path to use; null for the box's own.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>A task that completes once everything is unpacked in the box.</returns>
    /// <exception cref="Vsock.Streams.StreamException">not-found or bad-path (not a directory, a hostile entry), unknown-container, box-not-running.</exception>
    public Task CopyToAsync(Stream archive, string boxDirectory, string? container = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(boxDirectory);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return Files.BoxCopy.ToBoxAsync(Dialer, archive, boxDirectory, container, cancellationToken);
    }

    /// <summary>
    /// Copies <paramref name="boxPath"/> (a file or directory in the box) to the host path
    /// <paramref name="hostPath"/> with the rules of <see cref="CopyToAsync(string, string, string, CancellationToken)"/>.
    /// Set-user-ID and set-group-ID bits from the box are dropped.
    /// </summary>
    /// <param name="boxPath">An absolute path in the box, or in <paramref name="container"/>'s file system; ending in <c>/.</c> copies a directory's contents.</param>
    /// <param name="hostPath">The host destination.</param>
    /// <param name="container">A running container of the box whose view of the path to use; null for the box's own.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>A task that completes once everything is written on the host.</returns>
    /// <exception cref="Vsock.Streams.StreamException">not-found (the source, or the destination's directory), bad-path, unknown-container, box-not-running.</exception>
    public Task CopyFromAsync(string boxPath, string hostPath, string? container = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(boxPath);
        ArgumentNullException.ThrowIfNull(hostPath);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return Files.BoxCopy.FromBoxAsync(Dialer, boxPath, hostPath, container, cancellationToken);
    }

    /// <summary>Writes a tar stream of <paramref name="boxPath"/> (a file or directory in the box) to <paramref name="archive"/>.</summary>
    /// <param name="boxPath">An absolute path in the box, or in <paramref name="container"/>'s file system.</param>
    /// <param name="archive">Where the tar stream goes; left open.</param>
    /// <param name="container">A running container of the box whose view of the path to use; null for the box's own.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <returns>A task that completes once the whole archive is written.</returns>
    /// <exception cref="Vsock.Streams.StreamException">not-found, bad-path, unknown-container, box-not-running.</exception>
    public Task CopyFromAsync(string boxPath, Stream archive, string? container = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(boxPath);
        ArgumentNullException.ThrowIfNull(archive);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return Files.BoxCopy.FromBoxAsync(Dialer, boxPath, archive, container, cancellationToken);
    }

    private Forwarding.StreamDialer Dialer => new(Name, _runtime.Paths.VsockSocket(Name));

    /// <summary>Stops the box (guest power-off, then the supervisor is terminated after <paramref name="timeout"/>).</summary>
    /// <param name="timeout">Grace period; null for 10 s.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public Task StopAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        _runtime.StopAsync(Name, timeout ?? TimeSpan.FromSeconds(10), cancellationToken);

    /// <summary>Closes the agent connection; a box this handle created is also stopped and removed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _agent.DisposeAsync().ConfigureAwait(false);
        if (_owned)
        {
            await _runtime.RemoveAsync(Name, force: true, CancellationToken.None).ConfigureAwait(false);
        }
    }
}

/// <summary>What <see cref="Box.RunAsync(IReadOnlyList{string}, CancellationToken)"/> returns.</summary>
/// <param name="Stdout">Standard output, UTF-8 decoded.</param>
/// <param name="Stderr">Standard error, UTF-8 decoded.</param>
/// <param name="Exit">How the command ended.</param>
public sealed record BoxRunResult(string Stdout, string Stderr, ExecExit Exit)
{
    /// <summary>The exit code, or 128 + signal like a shell.</summary>
    public int ExitCode => Exit.ShellExitCode;
}
