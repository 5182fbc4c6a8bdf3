// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.ComponentModel;
using Cocoon.State;
using Cocoon.Supervisor;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon;

/// <summary>
/// Creates, starts, stops and removes boxes (microVMs), each run by a detached supervisor
/// process, and opens <see cref="Box"/> handles to run commands in them.
/// </summary>
public sealed class CocoonRuntime
{
    /// <summary>Names the cocoon executable the runtime starts supervisors with.</summary>
    public const string CocoonPathVariable = "COCOON_PATH";

    /// <summary>
    /// The hidden command of the <c>cocoon</c> executable that runs a box's supervisor
    /// (<c>cocoon supervise NAME</c>); <see cref="StartAsync"/> spawns it detached. Only that executable serves it.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public const string SupervisorCommand = BoxProcesses.SuperviseCommand;

    /// <summary>The file in a box directory whose lock (<c>start.lock</c>) serialises starts.</summary>
    private const string StartLockName = "start";

    private readonly CocoonRuntimeOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a runtime over a state directory.</summary>
    /// <param name="options">Settings; null for the defaults.</param>
    public CocoonRuntime(CocoonRuntimeOptions? options = null)
    {
        _options = options ?? new CocoonRuntimeOptions();
        Paths = _options.StateRoot is { } root ? new CocoonPaths(root) : CocoonPaths.FromEnvironment();
        Boxes = new BoxRepository(Paths);
        LoggerFactory = _options.LoggerFactory ?? NullLoggerFactory.Instance;
        _logger = LoggerFactory.CreateLogger<CocoonRuntime>();
        Images = new CocoonImages(this, [
            .. _options.InsecureRegistries,
            .. (Environment.GetEnvironmentVariable("COCOON_INSECURE_REGISTRIES") ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        ]);
    }

    /// <summary>The state directory.</summary>
    public string StateRoot => Paths.Root;

    /// <summary>The images: pull, load, list, remove.</summary>
    public CocoonImages Images { get; }

    internal CocoonPaths Paths { get; }

    internal BoxRepository Boxes { get; }

    internal ILoggerFactory LoggerFactory { get; }

    /// <summary>
    /// Creates a box, starts it and waits until its agent answers. Disposing the returned
    /// <see cref="Box"/> stops and removes it; on failure nothing is left behind.
    /// </summary>
    /// <param name="options">The box; a name is generated when none is set.</param>
    /// <param name="cancellationToken">Cancels the start (the box is then removed).</param>
    public async Task<Box> CreateBoxAsync(BoxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Name ??= GenerateName();
        var record = Boxes.Create(options.Build());
        try
        {
            var (_, agent) = await StartCoreAsync(record.Name, cancellationToken).ConfigureAwait(false);
            return new Box(this, record.Name, record.Cid, owned: true, agent);
        }
        catch
        {
            await RemoveAsync(record.Name, force: true, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Creates a box without starting it (as <c>docker create</c>): validated, its CID allocated and
    /// its state written. <see cref="StartAsync"/> boots it.
    /// </summary>
    /// <param name="options">The box; a name is generated when none is set.</param>
    /// <param name="cancellationToken">Unused today; creating does not wait on anything.</param>
    /// <returns>The box's name.</returns>
    public Task<string> CreateAsync(BoxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Name ??= GenerateName();
        return CreateAsync(options.Build(), cancellationToken);
    }

    /// <summary>
    /// Creates a box from a configuration already validated by <see cref="BoxOptions.Build()"/>, without
    /// starting it: its name claimed, its CID allocated and its state written. The box's own container
    /// (its image with <see cref="BoxConfig.Entrypoint"/>, <see cref="BoxConfig.Cmd"/> and
    /// <see cref="BoxConfig.Env"/>, which <see cref="StartAsync"/> runs) is checked first, as
    /// <see cref="ValidateContainer"/> does.
    /// </summary>
    /// <param name="config">The box.</param>
    /// <param name="cancellationToken">Unused today; creating does not wait on anything.</param>
    /// <returns>The box's name.</returns>
    /// <exception cref="CocoonException">
    /// AlreadyExists when a box has the name; ResourceExhausted when no CID is free; NotFound when the box's
    /// container needs an image that is not stored; InvalidArgument when its command cannot be made.
    /// </exception>
    public Task<string> CreateAsync(BoxConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        cancellationToken.ThrowIfCancellationRequested();
        CheckBoxContainer(config);
        return Task.FromResult(Boxes.Create(config).Name);
    }

    /// <summary>
    /// Checks a container against the stored image before any box exists, as <c>docker run</c> does:
    /// the image is stored, the options and its config merge into a command, and a Docker daemon is
    /// not started without the Docker profile. <see cref="Box.RunContainerAsync"/> checks the same.
    /// </summary>
    /// <param name="options">The container.</param>
    /// <param name="supportDocker">Whether the box it will run in gets the Docker profile (<see cref="BoxOptions.SupportDocker"/>).</param>
    /// <exception cref="CocoonException">NotFound when the image is not stored; InvalidArgument naming a bad option.</exception>
    public void ValidateContainer(ContainerOptions options, bool supportDocker)
    {
        var process = Containers.ContainerPlan.Merge(this, options);
        Containers.ContainerPlan.EnsureProfileFits(process, supportDocker, "a box");
    }

    /// <summary>The box's own container (<see cref="Containers.ContainerPlan.ForBox"/>), checked as <see cref="ValidateContainer"/> checks one; null when it has none.</summary>
    private ContainerOptions? CheckBoxContainer(BoxConfig config)
    {
        var container = Containers.ContainerPlan.ForBox(this, config);
        if (container is not null)
        {
            ValidateContainer(container, config.SupportDocker);
        }

        return container;
    }

    /// <summary>
    /// Runs box <paramref name="name"/>'s supervisor on this thread until the box stops: the body of
    /// <see cref="SupervisorCommand"/>, not for other callers (QEMU's parent-death signal is tied to
    /// this thread).
    /// </summary>
    /// <param name="name">The box.</param>
    /// <param name="loggerFactory">Where the supervisor logs (its <c>supervisor.log</c> is this process's stdout).</param>
    /// <returns>The process exit code.</returns>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int RunSupervisor(string name, ILoggerFactory loggerFactory) => BoxSupervisor.Run(Paths, name, loggerFactory);

    /// <summary>Opens a handle on an existing running box (disposing it neither stops nor removes the box).</summary>
    /// <param name="name">The box name.</param>
    public Box GetBox(string name)
    {
        var record = EnsureRunning(name);
        return new Box(this, record.Name, record.Cid, owned: false, GuestAgentClient.ConnectBox(record.Name, Paths.VsockSocket(record.Name)));
    }

    /// <summary>Describes one box (what <c>cocoon inspect</c> shows).</summary>
    /// <param name="name">The box name.</param>
    /// <returns>Its configuration and runtime facts; a box whose supervisor died is reported, and recorded, as stopped.</returns>
    public BoxInfo GetBoxInfo(string name) => ToInfo(Refresh(Boxes.Get(name)));

    /// <summary>Describes every box (what <c>cocoon ls</c> shows), ordered by name.</summary>
    /// <returns>The boxes.</returns>
    public IReadOnlyList<BoxInfo> ListBoxes() => [.. Boxes.List().Select(b => ToInfo(Refresh(b)))];

    /// <summary>
    /// The boxes whose state file cannot be read (torn or edited by hand), which
    /// <see cref="ListBoxes"/> leaves out; <see cref="RemoveAsync"/> with force removes them.
    /// </summary>
    /// <returns>Each such box with what is wrong, ordered by name.</returns>
    public IReadOnlyList<DamagedBox> ListDamagedBoxes()
    {
        var damaged = new List<(string Name, string Problem)>();
        Boxes.List(damaged);
        return [.. damaged.OrderBy(d => d.Name, StringComparer.Ordinal).Select(d => new DamagedBox(d.Name, d.Problem))];
    }

    /// <summary>
    /// Starts an existing box as <c>docker start</c> starts a container: boots it, waits until its agent
    /// answers and, for a box with an image, runs the box's own container detached, named after the box
    /// (its image with <see cref="BoxConfig.Entrypoint"/>, <see cref="BoxConfig.Cmd"/> and
    /// <see cref="BoxConfig.Env"/>; none when neither the config nor the image names a command).
    /// <see cref="StartBoxAsync"/> boots the box alone, for callers that run containers of their own.
    /// </summary>
    /// <param name="name">The box name.</param>
    /// <param name="cancellationToken">Cancels the start (the box is then stopped).</param>
    /// <exception cref="CocoonException">
    /// NotFound when the box's image is not stored, or its container's executable is not in it; InvalidArgument
    /// when the container's command cannot be made. The container is checked before the box boots; a container
    /// that fails to start leaves the box stopped.
    /// </exception>
    public async Task StartAsync(string name, CancellationToken cancellationToken = default)
    {
        var container = CheckBoxContainer(Boxes.Get(name).Config);
        var (record, agent) = await StartCoreAsync(name, cancellationToken).ConfigureAwait(false);
        if (container is null)
        {
            await agent.DisposeAsync().ConfigureAwait(false);
            return;
        }

        var box = new Box(this, record.Name, record.Cid, owned: false, agent);
        try
        {
            await using (box.ConfigureAwait(false))
            {
                // Detached: the returned handle only names it, and disposing it would remove the container.
                _ = await box.RunContainerAsync(container, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            // Nothing of the user's runs in the box: leave it stopped, as a container that cannot start stays.
            try
            {
                await StopAsync(name, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
            }
            catch (CocoonException e)
            {
                // The container's failure is what to report.
                RuntimeLog.ShutdownFailed(_logger, name, e.Message);
            }

            throw;
        }
    }

    /// <summary>
    /// Starts an existing box and returns a handle on it (disposing it neither stops nor removes the
    /// box) whose agent connection is the one that saw the agent answer, so the first exec does not
    /// pay for a second connection.
    /// </summary>
    /// <param name="name">The box name.</param>
    /// <param name="cancellationToken">Cancels the start (the box is then stopped).</param>
    public async Task<Box> StartBoxAsync(string name, CancellationToken cancellationToken = default)
    {
        var (record, agent) = await StartCoreAsync(name, cancellationToken).ConfigureAwait(false);
        return new Box(this, record.Name, record.Cid, owned: false, agent);
    }

    /// <summary>Spawns the supervisor and waits for the agent; returns the box and the answering connection (the caller disposes it).</summary>
    private async Task<(BoxRecord Record, IGuestAgent Agent)> StartCoreAsync(string name, CancellationToken cancellationToken)
    {
        // One start at a time per box, across processes: a second start waits for the first to
        // finish and then finds the box running (or free to start again if the first failed).
        using var starting = await StateStore.LockAsync(Path.Combine(Paths.BoxDirectory(Boxes.Get(name).Name), StartLockName), cancellationToken).ConfigureAwait(false);
        var record = Refresh(Boxes.Get(name));
        if (record.State == BoxState.Running)
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, $"box '{name}' is already running; stop it first (cocoon stop {name})");
        }

        Configuration.MemorySize.EnsureHostCanProvide(record.Config.MemoryMiB, name);
        foreach (var port in record.Config.VsockPorts)
        {
            Configuration.BoxConfigValidator.EnsureSocketDirectoryExists(port.Path, $"vsock port {port.Port}");
        }

        var cocoon = FindCocoon();
        var pid = BoxProcesses.SpawnSupervisor(cocoon, Paths, name);
        RuntimeLog.SupervisorStarted(_logger, name, pid);
        var agent = GuestAgentClient.ConnectBox(name, Paths.VsockSocket(name));
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watcher = WatchSupervisorAsync(pid, name, watch);
        var ready = false;
        try
        {
            var info = await agent.WaitForReadyAsync(_options.StartTimeout, watch.Token).ConfigureAwait(false);
            await watch.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
            if (info.VolumeErrors.Count > 0)
            {
                throw new CocoonException(CocoonErrorCode.Unavailable, $"box '{name}' cannot mount its volumes, so it was stopped: {string.Join("; ", info.VolumeErrors)}");
            }

            ready = true;
            TellTcgFallback(Boxes.TryGet(name));
            return (record, agent);
        }
        catch (Exception e) when (e is OperationCanceledException or CocoonException && watch.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The watcher saw the supervisor exit; the wait may end cancelled or with its last connection error.
            await CleanUpFailedStartAsync(pid, name, "the supervisor exited").ConfigureAwait(false);
            var stopped = Boxes.TryGet(name);
            throw new CocoonException(
                CocoonErrorCode.Unavailable,
                $"box '{name}' stopped before its agent answered ({stopped?.StopReason ?? "no reason recorded"}).{Diagnostics(name)}");
        }
        catch (CocoonException e) when (e.Code == CocoonErrorCode.Timeout)
        {
            await watch.CancelAsync().ConfigureAwait(false);
            await CleanUpFailedStartAsync(pid, name, "agent did not answer").ConfigureAwait(false);
            throw new CocoonException(
                CocoonErrorCode.Timeout,
                $"the agent of box '{name}' did not answer within {_options.StartTimeout.TotalSeconds:0} s; the box was stopped.{Diagnostics(name)}",
                e);
        }
        catch
        {
            await watch.CancelAsync().ConfigureAwait(false);
            await CleanUpFailedStartAsync(pid, name, "start failed").ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (!ready)
            {
                await agent.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Says once (per host boot and state root) that boxes run under TCG because KVM cannot run
    /// guests here: the supervisor only logs it to its own log, which nobody reads.
    /// </summary>
    private void TellTcgFallback(BoxRecord? started)
    {
        if (started is { Accelerator: "tcg", AcceleratorReason: { } reason }
            && Vmm.AcceleratorProbe.ClaimTcgNotice(new Vmm.AcceleratorChoice(Vmm.VmAccelerator.Tcg, reason), Paths.GuestCacheDirectory))
        {
            RuntimeLog.RunningUnderTcg(_logger, reason);
        }
    }

    /// <summary>
    /// Stops a box as <c>docker stop</c> does: its supervisor (<c>pod.stop</c> on control.sock) has the
    /// guest's processes sent SIGTERM and given up to <paramref name="timeout"/> to exit before SIGKILL,
    /// then the guest powers off. A supervisor that does not answer there is terminated with signals.
    /// </summary>
    /// <param name="name">The box name.</param>
    /// <param name="timeout">How long the guest's processes may take to exit after SIGTERM.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task StopAsync(string name, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var record = Refresh(Boxes.Get(name));
        if (record.State != BoxState.Running)
        {
            return;
        }

        try
        {
            await ControlClient.CallAsync(
                Paths.ControlSocket(name),
                "pod.stop",
                writer => writer.WriteNumber("timeout", Math.Max(0, timeout.TotalSeconds)),
                cancellationToken).ConfigureAwait(false);

            // The supervisor exits right after answering; signals end one that hangs.
            if (!await BoxProcesses.WaitForExitAsync(record.Pid, name, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false))
            {
                await BoxProcesses.TerminateAsync(record.Pid, name, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (CocoonException e) when (e.Code is CocoonErrorCode.Unavailable or CocoonErrorCode.Internal)
        {
            // Still starting (no control.sock yet) or not answering: SIGTERM, then SIGKILL after the timeout.
            RuntimeLog.ShutdownFailed(_logger, name, e.Message);
            await BoxProcesses.TerminateAsync(record.Pid, name, timeout, cancellationToken).ConfigureAwait(false);
        }

        Refresh(Boxes.Get(name), new StopReason(StopKind.Killed));
    }

    /// <summary>Removes a box: frees its CID and deletes its directory.</summary>
    /// <param name="name">The box name.</param>
    /// <param name="force">Stop a running box first (without a graceful shutdown).</param>
    /// <param name="cancellationToken">Cancels the wait for the supervisor.</param>
    public async Task RemoveAsync(string name, bool force, CancellationToken cancellationToken = default)
    {
        BoxRecord record;
        try
        {
            record = Refresh(Boxes.Get(name));
        }
        catch (CocoonException e) when (e.Code == CocoonErrorCode.InvalidState && force)
        {
            // A damaged state file: nothing in it can be trusted (no pid to stop), but the box's
            // directory and CID can still be freed.
            RuntimeLog.RemovingDamaged(_logger, name, e.Message);
            Boxes.Remove(name);
            return;
        }

        if (record.State == BoxState.Running)
        {
            if (!force)
            {
                throw new CocoonException(CocoonErrorCode.InvalidState, $"box '{name}' is running; stop it first (cocoon stop {name}) or use rm -f");
            }

            await BoxProcesses.TerminateAsync(record.Pid, name, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            record = Refresh(Boxes.Get(name), new StopReason(StopKind.Killed));
        }

        KillLeftoverQemu(record);
        Boxes.Remove(name);
    }

    /// <summary>Returns the record with a dead supervisor recorded as stopped, by default with reason <c>supervisor died</c>.</summary>
    internal BoxRecord Refresh(BoxRecord record, StopReason? reason = null)
    {
        var recorded = (reason ?? new StopReason(StopKind.SupervisorDied)).ToString();
        if (record.State != BoxState.Running || BoxProcesses.IsSupervisorAlive(record.Pid, record.Name))
        {
            return record;
        }

        KillLeftoverQemu(record);
        try
        {
            return Boxes.Update(record.Name, r => r.State == BoxState.Running && r.Pid == record.Pid
                ? r with { State = BoxState.Stopped, Pid = null, VmmPid = null, StoppedAt = DateTimeOffset.UtcNow, StopReason = recorded }
                : r);
        }
        catch (CocoonException e) when (e.Code == CocoonErrorCode.NotFound)
        {
            return record with { State = BoxState.Stopped };
        }
    }

    private BoxInfo ToInfo(BoxRecord record) => new()
    {
        Name = record.Name,
        State = record.State,
        Config = record.Config,
        Cid = record.Cid,
        SupervisorPid = record.Pid,
        VmmPid = record.VmmPid,
        CreatedAt = record.CreatedAt,
        StartedAt = record.StartedAt,
        StoppedAt = record.StoppedAt,
        StopReason = record.StopReason,
        Directory = Paths.BoxDirectory(record.Name),
        VsockSocketPath = Paths.VsockSocket(record.Name),
        ConsoleLogPath = Paths.ConsoleLog(record.Name),
        LogPath = Paths.BoxLog(record.Name),
        ControlSocketPath = Paths.ControlSocket(record.Name),
    };

    internal BoxRecord EnsureRunning(string name)
    {
        var record = Refresh(Boxes.Get(name));
        return record.State == BoxState.Running
            ? record
            : throw new CocoonException(CocoonErrorCode.InvalidState, $"box '{name}' is not running; start it with 'cocoon start {name}'");
    }

    internal static string GenerateName() => "box-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));

    private static void KillLeftoverQemu(BoxRecord record)
    {
        if (BoxProcesses.IsQemuAlive(record.VmmPid))
        {
            _ = Interop.SendSignal(record.VmmPid!.Value, Interop.SIGKILL);
        }
    }

    private static async Task WatchSupervisorAsync(int pid, string name, CancellationTokenSource watch)
    {
        try
        {
            while (!watch.IsCancellationRequested)
            {
                if (!BoxProcesses.IsProcessAlive(pid))
                {
                    await watch.CancelAsync().ConfigureAwait(false);
                    return;
                }

                await Task.Delay(100, watch.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Ready, failed or cancelled: the start path decides.
        }
    }

    private async Task CleanUpFailedStartAsync(int pid, string name, string why)
    {
        var reason = new StopReason(StopKind.FailedToStart, why);
        await BoxProcesses.TerminateAsync(pid, name, TimeSpan.FromSeconds(5), CancellationToken.None, trustPid: true).ConfigureAwait(false);
        if (Boxes.TryGet(name) is { } record)
        {
            if (record.State == BoxState.Running)
            {
                Refresh(record, reason);
            }
            else if (record.State == BoxState.Created)
            {
                Boxes.Update(name, r => r with { State = BoxState.Stopped, StoppedAt = DateTimeOffset.UtcNow, StopReason = reason.ToString() });
            }
        }
    }

    private string Diagnostics(string name)
    {
        var supervisor = "";
        try
        {
            var lines = File.ReadAllLines(Paths.SupervisorLog(name));
            supervisor = string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 10)));
        }
        catch (IOException)
        {
        }

        return $"\n--- supervisor log (last lines) ---\n{supervisor}\n--- console (last 20 lines) ---\n{BoxProcesses.ConsoleTail(Paths, name)}";
    }

    private string FindCocoon()
    {
        if (_options.CocoonPath is { } configured)
        {
            return File.Exists(configured) ? Path.GetFullPath(configured)
                : throw new CocoonException(CocoonErrorCode.NotFound, $"CocoonPath '{configured}' does not exist");
        }

        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(CocoonPathVariable) is { Length: > 0 } fromEnvironment)
        {
            candidates.Add(fromEnvironment);
        }

        if (Environment.ProcessPath is { } process && Path.GetFileName(process) is "cocoon" or "Cocoon.Cli")
        {
            candidates.Add(process);
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, "cocoon"));
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cocoon.slnx")))
            {
                candidates.Add(Path.Combine(directory.FullName, "artifacts", "cocoon", "cocoon"));
                break;
            }
        }

        // Last, as a shell would find it: an installed cocoon serves an application anywhere.
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            candidates.Add(Path.Combine(directory, "cocoon"));
        }

        return candidates.FirstOrDefault(File.Exists) is { } found
            ? Path.GetFullPath(found)
            : throw new CocoonException(
                CocoonErrorCode.NotFound,
                $"cannot find the cocoon executable for the box supervisor (looked at {string.Join(", ", candidates)}); set {CocoonPathVariable} or CocoonRuntimeOptions.CocoonPath");
    }
}

/// <summary>Log messages of the runtime. Event ids 1400-1499.</summary>
internal static partial class RuntimeLog
{
    [LoggerMessage(EventId = 1400, Level = LogLevel.Debug, Message = "Started the supervisor of box {Name}, pid {Pid}")]
    public static partial void SupervisorStarted(ILogger logger, string name, int pid);

    [LoggerMessage(EventId = 1401, Level = LogLevel.Debug, Message = "Shutdown of box {Name} through its agent failed: {Message}")]
    public static partial void ShutdownFailed(ILogger logger, string name, string message);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Removing box {Name} whose state file is damaged: {Message}")]
    public static partial void RemovingDamaged(ILogger logger, string name, string message);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Warning, Message = "KVM cannot run guests on this host ({Reason}); boxes run under TCG emulation, several times slower (said once; COCOON_ACCEL=tcg chooses TCG without this note)")]
    public static partial void RunningUnderTcg(ILogger logger, string reason);
}
