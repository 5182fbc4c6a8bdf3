// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Text.Json;
using Cocoon.Shim.Protocol;
using Cocoon.Shim.Ttrpc;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging;
using TaskStatus = Cocoon.Shim.Protocol.TaskStatus;

namespace Cocoon.Shim;

/// <summary>
/// containerd's Task service on the Cocoon SDK. One box per pod sandbox: Create of a sandbox (a
/// task that names no other sandbox in <c>io.kubernetes.cri.sandbox-id</c>) makes the pod's share
/// (<see cref="PodShare"/>), brings the rootfs containerd prepared beneath it read-only and boots a
/// box that shares it over virtio-fs; Create of a container that names a sandbox this shim runs
/// brings its rootfs beneath the running box's share. Start runs the bundle's process as a container
/// in the pod's box on its rootfs (an overlay in the box takes its writes; the pod's containers share
/// the box's network, so they reach each other on 127.0.0.1); Delete removes the container and takes
/// its rootfs out of the share, and for the sandbox also the box and the share.
/// <code>
///  Create ─► mount rootfs ─► beneath the pod share ─► (sandbox: box sharing it) ─► /tasks/create
///  Start  ─► container on its rootfs, stdio ⇄ FIFOs ─► /tasks/start ... exit ─► /tasks/exit
///  Delete ─► container, rootfs (sandbox: box, share) gone ─► /tasks/delete    Shutdown ─► the shim exits
/// </code>
/// Pause, Resume, Checkpoint and Update are not in the table: the server answers them
/// Unimplemented, which containerd reads as errdefs.ErrNotImplemented.
/// </summary>
internal sealed class TaskService
{
    /// <summary>The ttrpc service name containerd calls.</summary>
    public const string Service = "containerd.task.v2.Task";

    private readonly CocoonRuntime _runtime;
    private readonly string _namespace;
    private readonly EventPublisher _events;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _shutdown;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ShimTask> _tasks = new(StringComparer.Ordinal);

    /// <summary>A service that runs boxes through <paramref name="runtime"/> and cancels <paramref name="shutdown"/> on Shutdown.</summary>
    public TaskService(CocoonRuntime runtime, string ns, EventPublisher events, ILogger logger, CancellationTokenSource shutdown)
    {
        _runtime = runtime;
        _namespace = ns;
        _events = events;
        _logger = logger;
        _shutdown = shutdown;
    }

    /// <summary>The method table for <see cref="TtrpcServer"/>.</summary>
    public IReadOnlyDictionary<string, TtrpcHandler> Methods() => new Dictionary<string, TtrpcHandler>
    {
        [TtrpcServer.Key(Service, "Create")] = TtrpcServer.Unary(CreateTaskRequest.Parser, async (r, _, ct) => await CreateAsync(r, ct).ConfigureAwait(false)),
        [TtrpcServer.Key(Service, "Start")] = TtrpcServer.Unary(ProcessRef.Parser, async (r, _, ct) => await StartAsync(r, ct).ConfigureAwait(false)),
        [TtrpcServer.Key(Service, "Wait")] = TtrpcServer.Unary(ProcessRef.Parser, async (r, _, ct) => await WaitAsync(r, ct).ConfigureAwait(false)),
        [TtrpcServer.Key(Service, "Kill")] = TtrpcServer.Unary(KillRequest.Parser, async (r, _, ct) => await KillAsync(r, ct).ConfigureAwait(false)),
        [TtrpcServer.Key(Service, "Delete")] = TtrpcServer.Unary(ProcessRef.Parser, async (r, _, _) => await DeleteAsync(r).ConfigureAwait(false)),
        [TtrpcServer.Key(Service, "State")] = TtrpcServer.Unary(ProcessRef.Parser, (r, _, _) => Task.FromResult<IMessage>(State(r))),
        [TtrpcServer.Key(Service, "Pids")] = TtrpcServer.Unary(TaskRef.Parser, (r, _, _) => Task.FromResult<IMessage>(Pids(r))),
        [TtrpcServer.Key(Service, "Exec")] = TtrpcServer.Unary(ExecProcessRequest.Parser, (r, _, _) => Task.FromResult<IMessage>(Exec(r))),
        [TtrpcServer.Key(Service, "ResizePty")] = TtrpcServer.Unary(ResizePtyRequest.Parser, async (r, _, ct) => await ResizeAsync(r, ct).ConfigureAwait(false)),
        [TtrpcServer.Key(Service, "CloseIO")] = TtrpcServer.Unary(CloseIORequest.Parser, async (r, _, ct) => await CloseIOAsync(r, ct).ConfigureAwait(false)),
        [TtrpcServer.Key(Service, "Connect")] = TtrpcServer.Unary(TaskRef.Parser, (r, _, _) => Task.FromResult<IMessage>(Connect(r))),
        [TtrpcServer.Key(Service, "Shutdown")] = TtrpcServer.Unary(ShutdownRequest.Parser, (r, _, _) => Task.FromResult<IMessage>(Shutdown(r))),
        [TtrpcServer.Key(Service, "Stats")] = TtrpcServer.Unary(TaskRef.Parser, async (r, _, ct) => await StatsAsync(r, ct).ConfigureAwait(false)),
    };

    private async Task<IMessage> CreateAsync(CreateTaskRequest request, CancellationToken cancellationToken)
    {
        if (request.Id.Length == 0)
        {
            throw new TtrpcException(TtrpcCode.InvalidArgument, "Create needs a task id");
        }

        if (request.Checkpoint.Length > 0 || request.ParentCheckpoint.Length > 0)
        {
            throw new TtrpcException(TtrpcCode.Unimplemented, "Cocoon boxes cannot be restored from a checkpoint");
        }

        var bundle = OciBundle.Load(request.Bundle);
        if (request.Rootfs.Count > 1)
        {
            throw new TtrpcException(TtrpcCode.Unimplemented, $"task '{request.Id}' has {request.Rootfs.Count} rootfs mounts; the shim mounts one (the snapshotter's)");
        }

        var task = new ShimTask(bundle, new ShimProcess(request.Id, "", new StdioPaths(request.Stdin, request.Stdout, request.Stderr), request.Terminal));
        var sandboxId = bundle.SandboxOf(request.Id);
        lock (_lock)
        {
            if (sandboxId != request.Id)
            {
                // A pod's container joins its sandbox's box, which must be up: CRI creates the sandbox first.
                task.Sandbox = !_tasks.TryGetValue(sandboxId, out var sandbox)
                    ? throw new TtrpcException(TtrpcCode.NotFound, $"task '{request.Id}' names pod sandbox '{sandboxId}', which this shim does not run; create the sandbox's task first")
                    : sandbox.Share is null || sandbox.Box is null
                        ? throw new TtrpcException(TtrpcCode.FailedPrecondition, $"pod sandbox '{sandboxId}' of task '{request.Id}' has no box yet; wait until its Create finished")
                        : sandbox;
            }

            if (!_tasks.TryAdd(request.Id, task))
            {
                throw new TtrpcException(TtrpcCode.AlreadyExists, $"task '{request.Id}' already exists");
            }
        }

        try
        {
            if (request.Rootfs.Count == 1)
            {
                RootfsMount.Mount(request.Rootfs[0], bundle.Rootfs);
                task.RootfsMounted = true;
            }

            if (task.Sandbox is { } sandbox)
            {
                sandbox.Share!.Add(request.Id, bundle.Rootfs);
                task.InShare = true;
                task.Box = sandbox.Box;
                task.BoxPid = sandbox.BoxPid;
            }
            else
            {
                task.Share = PodShare.Create(request.Bundle, _logger);
                task.Share.Add(request.Id, bundle.Rootfs);
                task.InShare = true;
                var options = new BoxOptions(ShimAddress.BoxName(_namespace, request.Id));
                options.Volumes.Add(task.Share.Volume);
                ShimLog.TaskStep(_logger, request.Id, $"starting box {options.Name}");
                task.Box = await _runtime.CreateBoxAsync(options, cancellationToken).ConfigureAwait(false);
                task.BoxPid = (uint)(_runtime.GetBoxInfo(task.Box.Name).VmmPid ?? 0);
            }
        }
        catch
        {
            await CleanUpAsync(task).ConfigureAwait(false);
            lock (_lock)
            {
                _tasks.Remove(request.Id);
            }

            throw;
        }

        var created = new TaskCreate
        {
            ContainerId = request.Id,
            Bundle = request.Bundle,
            Io = new TaskIO { Stdin = request.Stdin, Stdout = request.Stdout, Stderr = request.Stderr, Terminal = request.Terminal },
            Pid = task.BoxPid,
        };
        created.Rootfs.AddRange(request.Rootfs);
        _events.Publish("/tasks/create", created);
        return new CreateTaskResponse { Pid = task.BoxPid };
    }

    private async Task<IMessage> StartAsync(ProcessRef request, CancellationToken cancellationToken)
    {
        var task = Find(request.Id);
        var process = task.Process(request.ExecId);
        if (process.Status != TaskStatus.Created)
        {
            throw new TtrpcException(TtrpcCode.FailedPrecondition, $"{Describe(process)} was already started");
        }

        // The session outlives this call: it is not bound to the call's cancellation.
        IExecSession session;
        if (process.ExecId.Length == 0)
        {
            var spec = task.Bundle.Process;
            var container = await task.Box!.RunContainerAsync(new ContainerOptions(request.Id)
            {
                Name = ContainerName(request.Id),
                RootDirectory = PodShare.GuestRootfs(request.Id),
                Arguments = spec.Args,
                Environment = spec.Env,
                WorkingDirectory = spec.Cwd,
                User = spec.User,
                Tty = process.Terminal,
                WindowSize = process.InitialSize,
                Stdin = process.Stdio.Stdin.Length > 0,
            }, CancellationToken.None).ConfigureAwait(false);
            task.Container = container;
            session = container.Session ?? throw new TtrpcException(TtrpcCode.Internal, $"task '{request.Id}' started without a session");
        }
        else
        {
            var spec = task.ExecSpecs[process.ExecId];
            var container = task.Container ?? throw new TtrpcException(TtrpcCode.FailedPrecondition, $"task '{request.Id}' is not running; start it before its execs");
            session = await container.ExecAsync(new ExecRequest(spec.Args)
            {
                Environment = ToDictionary(spec.Env),
                WorkingDirectory = spec.Cwd,
                User = spec.User.Length == 0 ? null : spec.User,
                Tty = process.Terminal,
                WindowSize = process.InitialSize,
                Stdin = process.Stdio.Stdin.Length > 0,
            }, CancellationToken.None).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        process.Attach(session, OnExitAsync);
        ShimLog.TaskStep(_logger, request.Id, $"{Describe(process)} started as pid {process.Pid}" + (process.Terminal
            ? process.InitialSize is { } size ? $" on a {size.Rows}x{size.Columns} terminal" : " on a terminal of the agent's default size"
            : ""));
        if (process.ExecId.Length == 0)
        {
            _events.Publish("/tasks/start", new TaskStart { ContainerId = request.Id, Pid = process.Pid });
        }
        else
        {
            _events.Publish("/tasks/exec-started", new TaskExecStarted { ContainerId = request.Id, ExecId = process.ExecId, Pid = process.Pid });
        }

        return new StartResponse { Pid = process.Pid };
    }

    private Task OnExitAsync(ShimProcess process)
    {
        ShimLog.TaskStep(_logger, process.Id, $"{Describe(process)} exited with {process.ExitStatus}");
        _events.Publish("/tasks/exit", new TaskExit
        {
            ContainerId = process.Id,
            Id = process.ExecId.Length == 0 ? process.Id : process.ExecId,
            Pid = process.Pid,
            ExitStatus = process.ExitStatus,
            ExitedAt = Timestamp.FromDateTimeOffset(process.ExitedAt ?? DateTimeOffset.UtcNow),
        });
        return Task.CompletedTask;
    }

    private async Task<IMessage> WaitAsync(ProcessRef request, CancellationToken cancellationToken)
    {
        var process = Find(request.Id).Process(request.ExecId);
        await process.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        return process.ToWaitResponse();
    }

    private async Task<IMessage> KillAsync(KillRequest request, CancellationToken cancellationToken)
    {
        var task = Find(request.Id);
        var process = task.Process(request.ExecId);
        var signal = request.Signal is >= 1 and <= 64 ? (int)request.Signal
            : throw new TtrpcException(TtrpcCode.InvalidArgument, $"signal {request.Signal} is not a signal number (1-64)");
        if (process.Status == TaskStatus.Stopped)
        {
            throw new TtrpcException(TtrpcCode.NotFound, $"{Describe(process)} has already exited");
        }

        if (process.Session is null)
        {
            // Never started: it stops as if the signal killed it.
            process.MarkStopped((uint)(128 + signal));
            await OnExitAsync(process).ConfigureAwait(false);
            return new Empty();
        }

        if (process.ExecId.Length == 0 && task.Container is { } container)
        {
            await (request.All ? container.SignalAllAsync(signal, cancellationToken) : container.KillAsync(signal, cancellationToken)).ConfigureAwait(false);
        }
        else
        {
            await process.Session.SignalAsync(signal, cancellationToken).ConfigureAwait(false);
        }

        return new Empty();
    }

    private async Task<IMessage> DeleteAsync(ProcessRef request)
    {
        var task = Find(request.Id);
        var process = task.Process(request.ExecId);
        if (process.Status == TaskStatus.Running)
        {
            throw new TtrpcException(TtrpcCode.FailedPrecondition, $"{Describe(process)} is running; kill it before deleting it");
        }

        if (process.ExecId.Length == 0 && Members(task) is { Count: > 0 } members)
        {
            throw new TtrpcException(TtrpcCode.FailedPrecondition, $"task '{request.Id}' is the pod sandbox of {string.Join(", ", members.Select(m => $"'{m}'"))}; delete those first");
        }

        process.MarkStopped(process.ExitStatus);
        if (process.ExecId.Length > 0)
        {
            lock (_lock)
            {
                task.Execs.Remove(process.ExecId);
                task.ExecSpecs.Remove(process.ExecId);
            }
        }
        else
        {
            await CleanUpAsync(task).ConfigureAwait(false);
            lock (_lock)
            {
                _tasks.Remove(request.Id);
            }
        }

        var exitedAt = Timestamp.FromDateTimeOffset(process.ExitedAt ?? DateTimeOffset.UtcNow);
        _events.Publish("/tasks/delete", new TaskDelete
        {
            ContainerId = request.Id,
            Id = process.ExecId.Length == 0 ? request.Id : process.ExecId,
            Pid = process.Pid,
            ExitStatus = process.ExitStatus,
            ExitedAt = exitedAt,
        });
        return new DeleteResponse { Pid = process.Pid, ExitStatus = process.ExitStatus, ExitedAt = exitedAt };
    }

    private StateResponse State(ProcessRef request)
    {
        var task = Find(request.Id);
        var process = task.Process(request.ExecId);
        var state = new StateResponse
        {
            Id = request.Id,
            ExecId = process.ExecId,
            Bundle = task.Bundle.Directory,
            Pid = process.Pid,
            Status = process.Status,
            Stdin = process.Stdio.Stdin,
            Stdout = process.Stdio.Stdout,
            Stderr = process.Stdio.Stderr,
            Terminal = process.Terminal,
            ExitStatus = process.ExitStatus,
        };
        if (process.ExitedAt is { } exitedAt)
        {
            state.ExitedAt = Timestamp.FromDateTimeOffset(exitedAt);
        }

        return state;
    }

    private async Task<IMessage> StatsAsync(TaskRef request, CancellationToken cancellationToken)
    {
        var task = Find(request.Id);
        if (task.Main.Status != TaskStatus.Running || task.Container is not { } container)
        {
            throw new TtrpcException(TtrpcCode.FailedPrecondition, $"task '{request.Id}' is not running; its metrics come from its running container's cgroup");
        }

        var stats = await container.GetStatsAsync(cancellationToken).ConfigureAwait(false);
        return new StatsResponse { Stats = ToMetrics(stats) };
    }

    /// <summary>The type name containerd's typeurl resolves to its cgroup v2 metrics (what runc's shim sends).</summary>
    internal const string CgroupV2MetricsType = "io.containerd.cgroups.v2.Metrics";

    /// <summary>A container's cgroup counters as containerd's cgroup v2 Metrics, in the Any a Stats answer carries.</summary>
    internal static Any ToMetrics(ContainerStats stats)
    {
        var metrics = new CgroupMetrics
        {
            Pids = new CgroupPids { Current = stats.PidsCurrent, Limit = stats.PidsMax },
            Cpu = new CgroupCpu
            {
                UsageUsec = stats.CpuUsageUsec,
                UserUsec = stats.CpuUserUsec,
                SystemUsec = stats.CpuSystemUsec,
                NrPeriods = stats.CpuNrPeriods,
                NrThrottled = stats.CpuNrThrottled,
                ThrottledUsec = stats.CpuThrottledUsec,
            },
            Memory = new CgroupMemory
            {
                Anon = stats.MemoryAnon,
                File = stats.MemoryFile,
                KernelStack = stats.MemoryKernelStack,
                Slab = stats.MemorySlab,
                Sock = stats.MemorySock,
                Shmem = stats.MemoryShmem,
                FileMapped = stats.MemoryFileMapped,
                Pgfault = stats.MemoryPgfault,
                Pgmajfault = stats.MemoryPgmajfault,
                Usage = stats.MemoryCurrent,
                UsageLimit = stats.MemoryMax,
                SwapUsage = stats.MemorySwapCurrent,
                SwapLimit = stats.MemorySwapMax,
                MaxUsage = stats.MemoryPeak,
            },
            MemoryEvents = new CgroupMemoryEvents { Oom = stats.MemoryEventsOom, OomKill = stats.MemoryEventsOomKill },
        };
        return new Any { TypeUrl = CgroupV2MetricsType, Value = metrics.ToByteString() };
    }

    private PidsResponse Pids(TaskRef request)
    {
        var task = Find(request.Id);
        var response = new PidsResponse();
        lock (_lock)
        {
            foreach (var process in task.Execs.Values.Prepend(task.Main).Where(p => p.Status == TaskStatus.Running))
            {
                response.Processes.Add(new ProcessInfo { Pid = process.Pid });
            }
        }

        return response;
    }

    private Empty Exec(ExecProcessRequest request)
    {
        var task = Find(request.Id);
        if (request.ExecId.Length == 0)
        {
            throw new TtrpcException(TtrpcCode.InvalidArgument, $"Exec in task '{request.Id}' needs an exec id");
        }

        OciProcess spec;
        try
        {
            using var document = JsonDocument.Parse(request.Spec?.Value.Memory ?? ReadOnlyMemory<byte>.Empty);
            spec = OciProcess.Parse(document.RootElement, $"the spec of exec '{request.ExecId}'");
        }
        catch (JsonException e)
        {
            throw new TtrpcException(TtrpcCode.InvalidArgument, $"the spec of exec '{request.ExecId}' is not a JSON process: {e.Message}");
        }

        lock (_lock)
        {
            if (task.Execs.ContainsKey(request.ExecId))
            {
                throw new TtrpcException(TtrpcCode.AlreadyExists, $"exec '{request.ExecId}' already exists in task '{request.Id}'");
            }

            task.Execs[request.ExecId] = new ShimProcess(request.Id, request.ExecId, new StdioPaths(request.Stdin, request.Stdout, request.Stderr), request.Terminal);
            task.ExecSpecs[request.ExecId] = spec;
        }

        _events.Publish("/tasks/exec-added", new TaskExecAdded { ContainerId = request.Id, ExecId = request.ExecId });
        return new Empty();
    }

    private async Task<IMessage> ResizeAsync(ResizePtyRequest request, CancellationToken cancellationToken)
    {
        var process = Find(request.Id).Process(request.ExecId);
        if (!process.Terminal || request.Height == 0 || request.Width == 0 || request.Height > ushort.MaxValue || request.Width > ushort.MaxValue)
        {
            return new Empty();
        }

        var size = new TerminalSize((int)request.Height, (int)request.Width);
        if (process.Session is { } session)
        {
            await session.ResizeAsync(size, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Not started yet (some ctr versions resize between Exec and Start): the process starts with this size.
            process.InitialSize = size;
        }

        ShimLog.TaskStep(_logger, request.Id, $"{Describe(process)}: terminal {size.Rows}x{size.Columns}{(process.Session is null ? " (before start)" : "")}");

        return new Empty();
    }

    private async Task<IMessage> CloseIOAsync(CloseIORequest request, CancellationToken cancellationToken)
    {
        var process = Find(request.Id).Process(request.ExecId);
        if (request.Stdin)
        {
            await process.CloseStdinAsync(cancellationToken).ConfigureAwait(false);
        }

        return new Empty();
    }

    private ConnectResponse Connect(TaskRef request)
    {
        var task = Find(request.Id);
        return new ConnectResponse { ShimPid = (uint)Environment.ProcessId, TaskPid = task.Main.Pid, Version = "cocoon-" + typeof(TaskService).Assembly.GetName().Version };
    }

    private Empty Shutdown(ShutdownRequest request)
    {
        lock (_lock)
        {
            if (_tasks.Count > 0 && !request.Now)
            {
                return new Empty();
            }
        }

        _shutdown.Cancel();
        return new Empty();
    }

    /// <summary>Removes every task's box and mount (the shim is going away).</summary>
    public async Task CleanUpAllAsync()
    {
        List<ShimTask> tasks;
        lock (_lock)
        {
            // A pod's containers go before its sandbox, whose box they run in.
            tasks = [.. _tasks.Values.OrderBy(t => t.Sandbox is null)];
            _tasks.Clear();
        }

        foreach (var task in tasks)
        {
            await CleanUpAsync(task).ConfigureAwait(false);
        }
    }

    private async Task CleanUpAsync(ShimTask task)
    {
        try
        {
            if (task.Container is { } container)
            {
                await container.DisposeAsync().ConfigureAwait(false);
            }

            // A pod's container runs in its sandbox's box, which the sandbox removes.
            if (task.Sandbox is null && task.Box is { } box)
            {
                await box.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is CocoonException or IOException)
        {
            ShimLog.CleanupFailed(_logger, task.Main.Id, e.Message);
        }

        if (task.InShare)
        {
            (task.Sandbox?.Share ?? task.Share)?.Remove(task.Main.Id, _logger);
            task.InShare = false;
        }

        task.Share?.Dispose(_logger);
        task.Share = null;
        if (task.RootfsMounted)
        {
            RootfsMount.Unmount(task.Bundle.Rootfs, _logger);
            task.RootfsMounted = false;
        }
    }

    /// <summary>The ids of the tasks that run in <paramref name="sandbox"/>'s box.</summary>
    private List<string> Members(ShimTask sandbox)
    {
        lock (_lock)
        {
            return [.. _tasks.Values.Where(t => t.Sandbox == sandbox).Select(t => t.Main.Id)];
        }
    }

    private ShimTask Find(string id)
    {
        lock (_lock)
        {
            return _tasks.TryGetValue(id, out var task) ? task : throw new TtrpcException(TtrpcCode.NotFound, $"task '{id}' not found");
        }
    }

    private static string Describe(ShimProcess process) => process.ExecId.Length == 0 ? $"task '{process.Id}'" : $"exec '{process.ExecId}' of task '{process.Id}'";

    /// <summary>
    /// A name that follows <see cref="Cocoon.Protocol.ContainerName"/>'s rule, from a containerd id (which allows
    /// uppercase and more): lowercased, other characters as '-', leading punctuation dropped, cut to length.
    /// </summary>
    internal static string ContainerName(string id)
    {
        var chars = id.ToLowerInvariant().Select(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '.' or '-' ? c : '-').ToArray();
        var name = new string(chars).TrimStart('_', '.', '-');
        name = name.Length == 0 ? "task" : name[..Math.Min(Cocoon.Protocol.ContainerName.MaxLength, name.Length)];
        Debug.Assert(Cocoon.Protocol.ContainerName.IsValid(name), $"'{name}' from '{id}' breaks the container name rule");
        return name;
    }

    private static Dictionary<string, string> ToDictionary(IReadOnlyList<string> env)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in env)
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                result[entry[..eq]] = entry[(eq + 1)..];
            }
        }

        return result;
    }

    /// <summary>One task: its bundle, box, container and execs.</summary>
    private sealed class ShimTask(OciBundle bundle, ShimProcess main)
    {
        public OciBundle Bundle { get; } = bundle;

        public ShimProcess Main { get; } = main;

        /// <summary>The pod sandbox whose box this task runs in; null for a sandbox (it owns its box and share).</summary>
        public ShimTask? Sandbox { get; set; }

        /// <summary>The pod's share, owned by the sandbox.</summary>
        public PodShare? Share { get; set; }

        /// <summary>Whether the task's rootfs is beneath the pod's share.</summary>
        public bool InShare { get; set; }

        /// <summary>The pod's box (the sandbox's, for a pod's container).</summary>
        public Box? Box { get; set; }

        public uint BoxPid { get; set; }

        public Container? Container { get; set; }

        public bool RootfsMounted { get; set; }

        public Dictionary<string, ShimProcess> Execs { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, OciProcess> ExecSpecs { get; } = new(StringComparer.Ordinal);

        public ShimProcess Process(string execId)
        {
            if (execId.Length == 0)
            {
                return Main;
            }

            lock (Execs)
            {
                return Execs.TryGetValue(execId, out var exec) ? exec : throw new TtrpcException(TtrpcCode.NotFound, $"exec '{execId}' not found in task '{Main.Id}'");
            }
        }
    }
}
