// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Guest;
using Cocoon.Protocol;
using Cocoon.State;
using Cocoon.Vmm;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Supervisor;

/// <summary>The initramfs of a real box and the module paths the agent loads at boot.</summary>
/// <param name="Kernel">The guest kernel.</param>
/// <param name="Image">The cached initramfs.</param>
/// <param name="Modules">Guest paths of the modules, in load order.</param>
/// <param name="KernelBootPath">The kernel file QEMU boots: its uncompressed image when there is one (<see cref="UncompressedKernel"/>).</param>
internal sealed record AgentImage(GuestKernel Kernel, GuestImage Image, IReadOnlyList<string> Modules, string KernelBootPath)
{
    /// <summary>Names the agent binary to use instead of the one found next to cocoon.</summary>
    public const string AgentPathVariable = "COCOON_AGENT_PATH";

    /// <summary>
    /// Extra host executables (comma-separated paths) copied to <c>/usr/bin</c> in the guest with
    /// their libraries; for tests and debugging (for example socat as a guest vsock client).
    /// </summary>
    public const string ExtraExecutablesVariable = "COCOON_GUEST_EXTRA_EXECUTABLES";

    /// <summary>The helper the kernel runs to load a module on demand (<c>CONFIG_MODPROBE_PATH</c>).</summary>
    internal const string KernelModprobePath = "/sbin/modprobe";

    /// <summary>Where module files go in the guest: short, because their paths go on the kernel command line.</summary>
    private const string ModuleDirectory = "/lib/m";

    /// <summary>
    /// Builds (or reuses) the box initramfs: the agent as /init, vsock modules, busybox, crun, console devices;
    /// benchmarks add <paramref name="extraModules"/> and files through <paramref name="extend"/>.
    /// With <paramref name="dockerModules"/> it also carries <see cref="GuestModuleSets.Docker"/>, which
    /// the agent loads only when a container asks for the Docker profile.
    /// </summary>
    public static AgentImage GetOrBuild(
        CocoonPaths paths, QemuMachine machine, ILogger? logger, IEnumerable<string>? extraModules = null, Action<InitramfsBuilder>? extend = null, bool dockerModules = false)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var kernel = KernelLocator.FindDefault();
        var bootKernel = UncompressedKernel.BootPath(kernel, paths.GuestCacheDirectory, logger ?? NullLogger.Instance);
        var agent = FindAgent();
        var crun = FindCrun();
        var extraExecutables = Environment.GetEnvironmentVariable(ExtraExecutablesVariable) ?? "";
        // virtio_console: the box log's virtio-serial port. virtio_net: the user-mode network device
        // (a box with --network none loads it and finds no device).
        var moduleNames = new List<string> { "vmw_vsock_virtio_transport", "virtio_console", "virtio_net" };
        moduleNames.AddRange(extraModules ?? []);
        moduleNames.Add(QemuCommandLine.TransportModule(machine));
        var cache = new GuestImageCache(paths.Root, logger);

        // An extended image is the caller's own recipe: it always goes the content-hashed way.
        var recipeKey = extend is null
            ? GuestImageCache.RecipeKey(["agent-image-v5", agent, crun, kernel.KernelPath, kernel.Version, kernel.ModulesDirectory, string.Join(',', moduleNames), extraExecutables,
                dockerModules ? string.Join(',', GuestModuleSets.Docker) : ""])
            : null;
        if (recipeKey is not null && cache.TryGetByRecipe(recipeKey) is var (known, recipe))
        {
            return new AgentImage(kernel, known, recipe.Modules, bootKernel);
        }

        var builder = new InitramfsBuilder()
            .AddConsoleDevices()
            // Without /sbin/modprobe: the kernel runs it for each module it would load on demand,
            // and busybox's would fail here (the guest has no /lib/modules); each run is a process
            // start under TCG, about 90 ms of every boot for the two the crypto self-tests ask for.
            .AddBusybox(without: [KernelModprobePath])
            // The .NET runtime opens /dev/urandom before the agent mounts devtmpfs; without the
            // node it marks random bytes unavailable for good (Guid.NewGuid then throws).
            .AddCharDevice("/dev/urandom", 1, 9, 0x1B6)
            .AddCharDevice("/dev/random", 1, 8, 0x1B6)
            .AddDirectory("/proc")
            .AddDirectory("/sys")
            .AddDirectory("/tmp", 0x3FF) // 01777
            .AddDirectory("/root", 0x1C0) // 0700
            .AddExecutable(agent, "/init")
            // The OCI runtime the agent runs containers with, and its libraries.
            .AddExecutable(crun, "/usr/bin/crun");
        foreach (var extra in extraExecutables.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            builder.AddExecutable(extra, "/usr/bin/" + Path.GetFileName(extra));
        }

        extend?.Invoke(builder);

        var resolver = new ModuleResolver(kernel.ModulesDirectory);
        var keepSignatures = ModuleSignature.Required(kernel);
        var modules = new List<string>();
        foreach (var module in resolver.Resolve(moduleNames))
        {
            var guestPath = $"{ModuleDirectory}/{module.Name}.ko";
            builder.AddModule(Path.Combine(kernel.ModulesDirectory, module.RelativePath), guestPath, keepSignatures);
            modules.Add(guestPath);
        }

        if (dockerModules)
        {
            var onDemand = new List<string>();
            foreach (var module in resolver.Resolve(GuestModuleSets.Docker))
            {
                var guestPath = $"{ModuleDirectory}/{module.Name}.ko";
                if (!modules.Contains(guestPath))
                {
                    builder.AddModule(Path.Combine(kernel.ModulesDirectory, module.RelativePath), guestPath, keepSignatures);
                    onDemand.Add(guestPath);
                }
            }

            builder.AddText(GuestModuleSets.DockerListPath, string.Concat(onDemand.Select(m => m + "\n")));
        }

        var image = cache.GetOrBuild(builder);
        if (recipeKey is not null)
        {
            // Besides the packed files, the recipe read the module index, the loader's cache (ldd) and
            // the kernel's configuration (whether modules keep their signatures).
            cache.RememberRecipe(recipeKey, image, modules, [
                .. builder.HostFiles,
                Path.Combine(kernel.ModulesDirectory, "modules.dep"),
                Path.Combine(kernel.ModulesDirectory, "modules.builtin"),
                "/etc/ld.so.cache",
                ModuleSignature.KernelConfigPath(kernel),
            ]);
        }

        return new AgentImage(kernel, image, modules, bootKernel);
    }

    /// <summary>The host's crun (<c>apt-get install crun</c>; ./scripts/setup installs it).</summary>
    private static string FindCrun()
    {
        string[] candidates = ["/usr/bin/crun", "/usr/local/bin/crun"];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new CocoonException(CocoonErrorCode.NotFound, $"crun is not installed (looked at {string.Join(", ", candidates)}); install it with 'apt-get install crun' or run ./scripts/setup");
    }

    /// <summary>
    /// The agent binary: <c>COCOON_AGENT_PATH</c>, else <c>cocoon-agent</c> next to the running
    /// program, else the repository's published one (development and tests).
    /// </summary>
    public static string FindAgent()
    {
        var configured = Environment.GetEnvironmentVariable(AgentPathVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured)
                ? Path.GetFullPath(configured)
                : throw new CocoonException(CocoonErrorCode.NotFound, $"{AgentPathVariable} names '{configured}', which does not exist; point it at a cocoon-agent binary or unset it");
        }

        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "cocoon-agent") };
        if (Environment.ProcessPath is { } process && Path.GetDirectoryName(process) is { } processDirectory)
        {
            candidates.Add(Path.Combine(processDirectory, "cocoon-agent"));
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cocoon.slnx")))
            {
                candidates.Add(Path.Combine(directory.FullName, "artifacts", "cocoon", "cocoon-agent"));
                break;
            }
        }

        // The published CLI runs from the folder the agent is published to: one place, named once.
        var places = candidates.Distinct(StringComparer.Ordinal).ToList();
        return places.FirstOrDefault(File.Exists)
            ?? throw new CocoonException(
                CocoonErrorCode.NotFound,
                $"cannot find the guest agent (looked at {string.Join(", ", places)}); run ./scripts/setup or set {AgentPathVariable}");
    }
}
