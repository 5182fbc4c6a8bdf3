// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;
using Cocoon.Agent.Network;
using Cocoon.Agent.Processes;
using Cocoon.Protocol;
using Cocoon.Protocol.Agent.V1;

namespace Cocoon.Agent.Containers;

/// <summary>
/// The box's containers: each one an overlay over the image's read-only root, a bundle, and a
/// <c>crun run</c> process started by the agent's one <see cref="ProcessLauncher"/>.
/// <code>
///  1. validate  name (free), image root, scratch directory, argv, working directory, user (in the image)
///  2. layer     &lt;scratch&gt;/containers/&lt;name&gt;/{upper,work}, emptied (upper kept with keep_layer); overlay on &lt;bundle&gt;/rootfs
///               (the Docker profile: its module set loaded first, /var/lib/docker from &lt;layer&gt;/scratch)
///  3. bundle    /run/cocoon/containers/&lt;name&gt;/: config.json (<see cref="RuntimeSpec"/>), hosts, hostname, resolv.conf
///  4. run       crun run --bundle &lt;bundle&gt; &lt;name&gt;: crun's exit status is the container's
/// </code>
/// Every container sees the box's volumes at their paths (read-only where the volume is).
/// Output is appended to &lt;scratch&gt;/containers/&lt;name&gt;/output.log whether a client is attached or not.
/// A container is killed through its cgroup (<c>cgroup.kill</c>), which reaches every process in it.
/// A socket mount (a host service seen inside) binds the listener of its forward, which the host
/// bound beforehand, at its destination.
/// </summary>
/// <param name="volumes">The box's volumes (mounted by <see cref="Init.GuestInit.MountVolumes"/>), bound into every container.</param>
/// <param name="socketListener">The listener's path in the box of a bound socket forward id; null when it is not bound.</param>
/// <param name="crun">The crun to run.</param>
internal sealed class BoxContainers(IReadOnlyList<BootVolume> volumes, Func<string, string?> socketListener, CrunBinary crun) : INetworkNamespaces
{
    /// <summary>Where bundles live (a tmpfs).</summary>
    public const string BundlesDirectory = "/run/cocoon/containers";

    private readonly Lock _lock = new();
    private readonly CrunState _state = new(CrunState.DefaultRoot);
    private readonly Dictionary<string, (int Holders, Task Frozen)> _freezes = [];
    private readonly List<Container> _containers = [];

    /// <summary>Steps 1–3; returns the container and what to start for step 4.</summary>
    /// <exception cref="CocoonException">InvalidArgument or AlreadyExists naming the bad input; nothing is left behind.</exception>
    public (Container Container, ExecSpec Crun) Create(ContainerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);

        // :: Step 1
        ContainerName.EnsureValid(spec.Name);
        if (!Directory.Exists(spec.ImageRoot))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The image root '{spec.ImageRoot}' of container '{spec.Name}' is not a directory in the guest; was the box started with this image?");
        }

        if (!Directory.Exists(spec.ScratchDir))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The scratch directory '{spec.ScratchDir}' of container '{spec.Name}' is not a directory in the guest.");
        }

        if (spec.Argv.Count == 0 || spec.Argv[0].Length == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Container '{spec.Name}' has no command: argv is empty.");
        }

        var workingDir = spec.WorkingDir.Length == 0 ? "/" : spec.WorkingDir;
        if (!workingDir.StartsWith('/'))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The working directory '{workingDir}' of container '{spec.Name}' is not absolute.");
        }

        foreach (var entry in spec.Env)
        {
            if (entry.IndexOf('=', StringComparison.Ordinal) <= 0 || entry.Contains('\0', StringComparison.Ordinal))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The environment entry '{entry}' of container '{spec.Name}' is not KEY=VALUE.");
            }
        }

        var socketBinds = SocketBinds(spec);
        var user = ResolveUser(spec.User, spec.ImageRoot);
        var profile = ContainerProfile.For(spec.Profile);
        if (profile.ModuleList is { } moduleList)
        {
            Init.KernelModules.EnsureSet(moduleList, "the Docker profile needs a box created with --support-docker (support_docker: true, BoxOptions.SupportDocker)");
        }

        var container = new Container(spec.Name, spec.Image, [.. spec.Argv], Path.Combine(BundlesDirectory, spec.Name), Path.Combine(spec.ScratchDir, "containers", spec.Name), _state);
        lock (_lock)
        {
            if (_containers.Any(c => c.Name == spec.Name))
            {
                throw new CocoonException(CocoonErrorCode.AlreadyExists, $"The box already has a container named '{spec.Name}'; pick another name or remove it first.");
            }

            _containers.Add(container);
        }

        try
        {
            // :: Step 2
            // overlayfs wants an empty work directory; what an earlier mount left there is only its bookkeeping.
            var stale = spec.KeepLayer ? Path.Combine(container.Layer, "work") : container.Layer;
            if (Directory.Exists(stale))
            {
                Directory.Delete(stale, recursive: true);
            }

            Directory.CreateDirectory(Path.Combine(container.Layer, "upper"));
            Directory.CreateDirectory(Path.Combine(container.Layer, "work"));
            Directory.CreateDirectory(container.Rootfs);
            Interop.Mount("overlay", container.Rootfs, "overlay", 0, $"lowerdir={spec.ImageRoot},upperdir={container.Layer}/upper,workdir={container.Layer}/work")
                .ThrowIfFailed($"mount the overlay of container '{spec.Name}'");
            container.OpenLog(append: spec.KeepLayer);

            // :: Step 3
            var hostname = spec.Hostname.Length > 0 ? spec.Hostname : spec.Name;
            List<BindMount> binds = [.. WriteEtcFiles(container.Bundle, hostname), .. volumes.Select(v => new BindMount(v.Path, $"{Init.GuestInit.VolumesDirectory}/{v.Tag}", v.ReadOnly)), .. socketBinds];
            foreach (var path in profile.ScratchPaths)
            {
                var directory = Path.Combine(container.Layer, "scratch", path.Trim('/').Replace('/', '_'));
                Directory.CreateDirectory(directory);
                binds.Add(new BindMount(path, directory));
            }

            var env = spec.Env.ToList();
            AddDefault(env, "HOSTNAME", hostname);
            AddDefault(env, "HOME", user.Home ?? "/");
            if (spec.Tty)
            {
                AddDefault(env, "TERM", "xterm");
            }

            container.Env = env;
            EnsureExecutable(container, container.Argv[0], workingDir, []);
            var processSpec = new ContainerProcessSpec(spec.Name, container.Rootfs, hostname, container.Argv, env, workingDir, user, spec.Tty, binds);
            File.WriteAllBytes(Path.Combine(container.Bundle, "config.json"), RuntimeSpec.Write(processSpec, profile));
        }
        catch
        {
            Discard(container);
            throw;
        }

        // :: Step 4
        var (rows, columns) = ExecSpec.TerminalSize(spec.WindowSize);
        var run = new ExecSpec(crun.Path, ["crun", "run", "--bundle", container.Bundle, spec.Name], crun.Environment, container.Bundle, null, spec.Tty, rows, columns, spec.Stdin && !spec.Detach)
        {
            RelaysTerminal = spec.Tty,
        };
        return (container, run);
    }

    /// <summary>The binds of the spec's socket mounts: each one's forward must be bound.</summary>
    private List<BindMount> SocketBinds(ContainerSpec spec)
    {
        var binds = new List<BindMount>();
        foreach (var (destination, id) in spec.SocketMounts.Select(m => (m.Destination, m.ForwardId)))
        {
            UnixSocketPath.EnsureValid(destination, $"The socket mount of container '{spec.Name}'");
            if (binds.Any(b => b.Destination == destination))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Container '{spec.Name}' has two socket mounts at '{destination}'; give each its own destination.");
            }

            var listener = socketListener(id)
                ?? throw new CocoonException(CocoonErrorCode.InvalidArgument, $"No socket forward is bound for '{destination}' in container '{spec.Name}' (forward {id}); the host binds it (SocketForwards.Bind) before the container starts.");
            binds.Add(new BindMount(destination, listener));
        }

        return binds;
    }

    /// <summary>
    /// Bind-mounts the box path <paramref name="source"/> (a socket forward's listener) at
    /// <paramref name="destination"/> in running container <paramref name="name"/>; false when no
    /// container of that name runs (one created later mounts it through its spec's socket mounts).
    /// </summary>
    /// <exception cref="CocoonException">The mount failed (<see cref="SocketMountInjection"/>).</exception>
    public bool TryMountSocket(string name, string source, string destination)
    {
        Container? container;
        lock (_lock)
        {
            container = _containers.FirstOrDefault(c => c.Name == name);
        }

        if (container is not { IsRunning: true } || container.InitPid() is not { } pid)
        {
            return false;
        }

        SocketMountInjection.Mount(pid, source, destination);
        return true;
    }

    /// <summary>Records that <paramref name="process"/> (crun) runs <paramref name="container"/>.</summary>
    public static void Started(Container container, ChildProcess process) => container.Started(process);

    /// <summary>Undoes a <see cref="Create"/> whose crun never started.</summary>
    public void Discard(Container container)
    {
        lock (_lock)
        {
            _containers.Remove(container);
        }

        container.Clean();
    }

    /// <summary>The exec spec of <c>crun exec</c> for an exec into a running container (<see cref="ExecStart.Container"/>).</summary>
    public ExecSpec PrepareExec(ExecStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        var container = Get(start.Container);
        if (!container.IsRunning)
        {
            throw new CocoonException(CocoonErrorCode.InvalidState, $"Container '{container.Name}' is not running; exec needs a running container.");
        }

        if (start.Argv.Count == 0 || string.IsNullOrEmpty(start.Argv[0]))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, "The exec request has no program: argv is empty.");
        }

        var argv = new List<string> { "crun", "exec" };
        if (start.Tty)
        {
            argv.Add("--tty");
        }

        if (start.WorkingDir.Length > 0)
        {
            argv.AddRange(["--cwd", start.WorkingDir]);
        }

        if (start.User.Length > 0)
        {
            var user = ResolveUser(start.User, container.Rootfs);
            argv.AddRange(["--user", string.Create(CultureInfo.InvariantCulture, $"{user.Uid}:{user.Gid}")]);
        }

        foreach (var (key, value) in start.Env)
        {
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"The environment variable '{key}' is not valid: names must be non-empty without '=' and no NUL anywhere.");
            }

            argv.AddRange(["--env", $"{key}={value}"]);
        }

        EnsureExecutable(container, start.Argv[0], start.WorkingDir.Length > 0 ? start.WorkingDir : "/", start.Env);
        argv.Add(container.Name);
        argv.AddRange(start.Argv);
        var (rows, columns) = ExecSpec.TerminalSize(start.WindowSize);
        return new ExecSpec(crun.Path, argv, crun.Environment, "/", null, start.Tty, rows, columns, start.Stdin || start.Tty) { RelaysTerminal = start.Tty };
    }

    /// <summary>The containers, in creation order.</summary>
    public IReadOnlyList<Container> List()
    {
        lock (_lock)
        {
            return [.. _containers];
        }
    }

    /// <summary>The container called <paramref name="name"/>.</summary>
    /// <exception cref="CocoonException">NotFound.</exception>
    public Container Get(string name)
    {
        lock (_lock)
        {
            return _containers.FirstOrDefault(c => c.Name == name)
                ?? throw new CocoonException(CocoonErrorCode.NotFound, $"The box has no container named '{name}'.");
        }
    }

    /// <summary>
    /// The root of running container <paramref name="name"/> as the box sees it through its init
    /// process, <c>/proc/PID/root</c> (its mount namespace: binds and tmpfs mounts included); null when
    /// no such container runs.
    /// </summary>
    public string? FindRoot(string name) => FindInitFile(name, "root");

    /// <summary>
    /// Freezes running container <paramref name="name"/> (<c>cgroup.freeze</c>) for a copy and returns
    /// its root, or null when no container runs by that name. While it is frozen none of its processes
    /// can swap a link between the copy's resolution of a path and its use (the race behind docker cp's
    /// CVE-2018-15664). Copies of one container share the freeze; disposing the last one's result thaws it.
    /// </summary>
    /// <exception cref="IOException">The container could not be frozen.</exception>
    public async Task<FrozenContainer?> FreezeAsync(string name, CancellationToken cancellationToken)
    {
        if (FindRoot(name) is not { } root)
        {
            return null;
        }

        var cgroup = ContainerCgroup.PathOf(name);
        Task freezing;
        lock (_lock)
        {
            if (!_freezes.TryGetValue(name, out var freeze))
            {
                // Started once for every copy that overlaps this one; not cancelled by any one of them.
                freeze = (0, FrozenContainer.FreezeAsync(cgroup));
            }

            _freezes[name] = (freeze.Holders + 1, freeze.Frozen);
            freezing = freeze.Frozen;
        }

        var frozen = new FrozenContainer(root, () => Thaw(name, cgroup));
        try
        {
            await freezing.WaitAsync(cancellationToken);
            return frozen;
        }
        catch
        {
            frozen.Dispose();
            throw;
        }
    }

    private void Thaw(string name, string cgroup)
    {
        lock (_lock)
        {
            var (holders, frozen) = _freezes[name];
            if (holders > 1)
            {
                _freezes[name] = (holders - 1, frozen);
                return;
            }

            _freezes.Remove(name);
            FrozenContainer.Thaw(cgroup);
        }
    }

    /// <summary>A dial into a container is made from its init's network namespace (the pod's, today).</summary>
    string? INetworkNamespaces.Find(string container) => FindInitFile(container, "ns/net");

    private string? FindInitFile(string name, string file)
    {
        Container? container;
        lock (_lock)
        {
            container = _containers.FirstOrDefault(c => c.Name == name);
        }

        return container is { IsRunning: true } && container.InitPid() is { } pid
            ? string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/{file}")
            : null;
    }

    /// <summary>Kills the container when it runs, waits for crun, then removes its overlay, bundle and layer.</summary>
    public async Task RemoveAsync(string name, CancellationToken cancellationToken)
    {
        var container = Get(name);
        if (container.Exited is { IsCompleted: false } exited)
        {
            container.Kill();
            await exited.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }

        Discard(container);
    }

    /// <summary>
    /// Refuses a program that does not exist in the container (NotFound, exit 127 as in Docker)
    /// before crun is started: crun reports it only as its own failure (exit 1 or 255). A program
    /// found starts being read (<see cref="StartReadingAhead"/>).
    /// </summary>
    private static void EnsureExecutable(Container container, string program, string workingDir, IEnumerable<KeyValuePair<string, string>> extraEnv)
    {
        var path = extraEnv.Where(e => e.Key == "PATH").Select(e => e.Value).LastOrDefault()
            ?? container.Env.LastOrDefault(e => e.StartsWith("PATH=", StringComparison.Ordinal))?[5..]
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        if (RootedPath.FindExecutable(container.Rootfs, program, path, workingDir) is not { } found)
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"executable file '{program}' not found in container '{container.Name}' (PATH {path})");
        }

        StartReadingAhead(container.Rootfs, found);
    }

    /// <summary>
    /// Starts reading the executable <paramref name="program"/> (a path in the container whose root is
    /// <paramref name="root"/>) into the page cache, and returns at once. In a new box the image disk is
    /// cold, and the container's exec would wait for the binary's reads one at a time after crun has set
    /// the container up; this way the reads overlap crun's work. Only a regular file is opened, never a
    /// FIFO or a device node that an image may hold there; a failure only loses the head start.
    /// </summary>
    private static void StartReadingAhead(string root, string program)
    {
        if (RootedPath.Resolve(root, program) is not { } resolved || !Interop.IsRegularFile(Path.Join(root, resolved)))
        {
            return;
        }

        try
        {
            using var file = Interop.OpenFile(Path.Join(root, resolved), Interop.OpenFlags.O_RDONLY | Interop.OpenFlags.O_NONBLOCK | Interop.OpenFlags.O_NOFOLLOW | Interop.OpenFlags.O_NOCTTY);
            _ = Interop.AdviseWillNeed(file, 0);
        }
        catch (CocoonException)
        {
            // Gone or unreadable: crun will say so when it execs it.
        }
    }

    /// <summary>Resolves a user against the image's /etc/passwd; the default is root.</summary>
    private static UserSpec ResolveUser(string user, string root) =>
        UserSpec.Resolve(user.Length == 0 ? "0" : user, Path.Combine(root, "etc", "passwd")) ?? new UserSpec(0, 0, "/root");

    private static void AddDefault(List<string> env, string key, string value)
    {
        if (!env.Any(e => e.StartsWith(key + "=", StringComparison.Ordinal)))
        {
            env.Add($"{key}={value}");
        }
    }

    /// <summary>Writes the bundle's /etc/hosts, /etc/hostname and /etc/resolv.conf (the box's, when it has one).</summary>
    private static BindMount[] WriteEtcFiles(string bundle, string hostname)
    {
        var hosts = Path.Combine(bundle, "hosts");
        File.WriteAllText(hosts, $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n", Encoding.ASCII);
        var hostnameFile = Path.Combine(bundle, "hostname");
        File.WriteAllText(hostnameFile, hostname + "\n", Encoding.ASCII);
        var resolv = Path.Combine(bundle, "resolv.conf");
        if (File.Exists("/etc/resolv.conf"))
        {
            File.Copy("/etc/resolv.conf", resolv, overwrite: true);
        }
        else
        {
            File.WriteAllText(resolv, "", Encoding.ASCII);
        }

        return [new("/etc/hosts", hosts), new("/etc/hostname", hostnameFile), new("/etc/resolv.conf", resolv)];
    }
}

/// <summary>One container of the box.</summary>
internal sealed class Container(string name, string image, IReadOnlyList<string> argv, string bundle, string layer, CrunState state)
{
    private readonly Lock _logLock = new();
    private FileStream? _log;
    private TaskCompletionSource _logGrew = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _initPid;

    public string Name { get; } = name;

    public string Image { get; } = image;

    public IReadOnlyList<string> Argv { get; } = argv;

    /// <summary>The main process's environment (KEY=VALUE); an exec's PATH comes from it.</summary>
    public IReadOnlyList<string> Env { get; set; } = [];

    /// <summary>The bundle directory (config.json, rootfs/).</summary>
    public string Bundle { get; } = bundle;

    /// <summary>The overlay mount: the container's root as crun sees it.</summary>
    public string Rootfs => Path.Combine(Bundle, "rootfs");

    /// <summary>The writable layer's directory on the scratch disk (upper/, work/, output.log).</summary>
    public string Layer { get; } = layer;

    public string LogPath => Path.Combine(Layer, "output.log");

    public DateTimeOffset Created { get; } = DateTimeOffset.UtcNow;

    /// <summary>crun's process; null until started.</summary>
    public ChildProcess? Process { get; private set; }

    /// <summary>crun's exit (the container's); null until started.</summary>
    public Task<ExitStatus>? Exited => Process?.Exited;

    /// <summary>Completes at the next append to the log.</summary>
    public Task LogGrew => Volatile.Read(ref _logGrew).Task;

    public void Started(ChildProcess process) => Process = process;

    public void OpenLog(bool append) => _log = new FileStream(LogPath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>Appends output to the log (the tee of an attached run, or the drain of a detached one).</summary>
    public void AppendLog(OutputChunk chunk)
    {
        lock (_logLock)
        {
            if (_log is null)
            {
                return;
            }

            _log.Write(chunk.Data);
            _log.Flush();
        }

        Interlocked.Exchange(ref _logGrew, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Reads output into the log until the container's output ends (a detached run).</summary>
    public async Task DrainAsync(ChildProcess process)
    {
        using (process)
        {
            await foreach (var chunk in process.Output.ReadAllAsync())
            {
                AppendLog(chunk);
            }
        }
    }

    /// <summary>Kills every process of the container through its cgroup.</summary>
    public void Kill()
    {
        var kill = Path.Combine(ContainerCgroup.PathOf(Name), "cgroup.kill");
        try
        {
            File.WriteAllText(kill, "1");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // No cgroup (yet, or any more): signal crun, which forwards to the container.
            Process?.Signal(Interop.SIGKILL);
        }
    }

    /// <summary>
    /// True while the container runs: crun has not exited, and the init process it created has not
    /// either. The init ends first (crun reaps it, deletes its state, then exits), so an exec, copy or
    /// socket mount in between would meet crun's missing state; this says no before. A container
    /// crun has not finished creating counts as running.
    /// </summary>
    public bool IsRunning
    {
        get
        {
            var init = Volatile.Read(ref _initPid);
            return Exited is { IsCompleted: false } && (init == 0 || Lives(init));
        }
    }

    /// <summary>
    /// True when crun still runs but the container's init has exited: crun is about to exit with the
    /// container's status.
    /// </summary>
    public bool IsExiting => Exited is { IsCompleted: false } && !IsRunning;

    /// <summary>
    /// Waits until crun has created the container (its state file exists), so an exec right after
    /// `started` finds it, and notes its init's pid; returns early when crun exits first.
    /// </summary>
    public async Task WaitCreatedAsync(CancellationToken cancellationToken)
    {
        if (Exited is { } exited)
        {
            await state.WhenCreatedAsync(Name, exited, cancellationToken);
        }

        if (InitPid() is { } pid)
        {
            Volatile.Write(ref _initPid, pid);
        }
    }

    /// <summary>The pid (in the box) of the container's init process, from crun's state; null before crun created it.</summary>
    public int? InitPid()
    {
        try
        {
            using var status = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(state.StatusPath(Name)));
            return status.RootElement.TryGetProperty("pid", out var pid) && pid.TryGetInt32(out var value) && value > 0 ? value : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>False once <paramref name="pid"/> has exited, as a zombie its parent has not reaped yet too.</summary>
    private static bool Lives(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        // "pid (comm) S ...": the state follows the last ')', as comm may hold anything.
        var state = stat.AsSpan(stat.LastIndexOf(')') + 1).TrimStart();
        return state.Length > 0 && state[0] is not ('Z' or 'X');
    }

    /// <summary>Unmounts the overlay and deletes the bundle and the writable layer.</summary>
    public void Clean()
    {
        lock (_logLock)
        {
            _log?.Dispose();
            _log = null;
        }

        _ = Interop.Unmount(Rootfs, Interop.MNT_DETACH);
        if (Directory.Exists(Bundle))
        {
            Directory.Delete(Bundle, recursive: true);
        }

        if (Directory.Exists(Layer))
        {
            Directory.Delete(Layer, recursive: true);
        }

        Volatile.Read(ref _logGrew).TrySetResult();
    }
}

/// <summary>A container frozen by <see cref="BoxContainers.FreezeAsync"/> for one copy; disposing releases it.</summary>
/// <param name="root">Its root as the box sees it (<c>/proc/PID/root</c>).</param>
/// <param name="release">Releases this copy's hold (the last one thaws the container).</param>
internal sealed class FrozenContainer(string root, Action release) : IDisposable
{
    private static readonly TimeSpan FreezeTimeout = TimeSpan.FromSeconds(5);
    private int _released;

    /// <summary>The container's root as the box sees it.</summary>
    public string Root => root;

    /// <summary>Asks the kernel to freeze <paramref name="cgroup"/> and waits until every task in it stopped (it freezes asynchronously).</summary>
    public static async Task FreezeAsync(string cgroup)
    {
        await File.WriteAllTextAsync(Path.Combine(cgroup, "cgroup.freeze"), "1");
        var deadline = DateTime.UtcNow + FreezeTimeout;
        while (!(await File.ReadAllLinesAsync(Path.Combine(cgroup, "cgroup.events"))).Contains("frozen 1"))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new IOException($"the container's processes did not stop within {FreezeTimeout.TotalSeconds:0} s");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Thaws <paramref name="cgroup"/>; one already gone (the container ended) is fine.</summary>
    public static void Thaw(string cgroup)
    {
        try
        {
            File.WriteAllText(Path.Combine(cgroup, "cgroup.freeze"), "0");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing is left to thaw.
        }
    }

    /// <summary>Releases this copy's hold on the freeze.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            release();
        }
    }
}
