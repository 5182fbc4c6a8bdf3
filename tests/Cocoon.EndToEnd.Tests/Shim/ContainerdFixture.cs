// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net.Sockets;
using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;
using Cocoon.Tests.Common.Images;

namespace Cocoon.EndToEnd.Tests.Shim;

/// <summary>
/// Debian's containerd, started for a test class with its own root, state and socket in a temp
/// directory (CRI off), finding <c>containerd-shim-cocoon-v1</c> in the repository's
/// <c>artifacts/cocoon</c> through PATH; a busybox image built by the tests' image tooling and
/// imported with <c>ctr image import</c>. The shim's boxes live in a private Cocoon state root.
/// </summary>
public sealed class ContainerdFixture : IAsyncLifetime
{
    /// <summary>The runtime type that selects Cocoon's shim.</summary>
    public const string Runtime = "io.containerd.cocoon.v1";

    /// <summary>The containerd namespace the tests use.</summary>
    public const string Namespace = "cocoon-test";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(240);
    private readonly System.Text.StringBuilder _containerdLog = new();
    private Process? _containerd;
    private Task? _containerdLogReader;

    /// <summary>A containerd whose shims see Cocoon's usual test environment.</summary>
    public ContainerdFixture()
        : this(new Dictionary<string, string>())
    {
    }

    /// <summary>A containerd whose shims (and their boxes' supervisors) also see <paramref name="environment"/>.</summary>
    internal ContainerdFixture(IReadOnlyDictionary<string, string> environment)
    {
        foreach (var (key, value) in environment)
        {
            Cocoon.Environment[key] = value;
        }
    }

    /// <summary>The fixture's directory (containerd's root, state, socket; the image archive).</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("ctrd-").FullName;

    internal BoxTestEnvironment Cocoon { get; } = new();

    /// <summary>containerd's gRPC socket.</summary>
    public string Socket => Path.Combine(Directory, "c.sock");

    /// <summary>The imported image's name.</summary>
    public string Image { get; } = "docker.io/cocoon/shim-test:bb";

    public async Task InitializeAsync()
    {
        var shim = BoxTestEnvironment.PublishedFile("containerd-shim-cocoon-v1");
        var config = Path.Combine(Directory, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{Directory}/root"
            state = "{Directory}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "{Socket}"
            """);
        var environment = Cocoon.CliEnvironment();
        environment["PATH"] = Path.GetDirectoryName(shim) + ":" + System.Environment.GetEnvironmentVariable("PATH");

        _containerd = ProcessRunner.Start("containerd", ["--config", config], environment);
        _containerd.StandardInput.Close();
        _ = _containerd.StandardOutput.ReadToEndAsync();
        _containerdLogReader = CollectLogAsync(_containerd.StandardError);
        await WaitForSocketAsync();

        var layout = Path.Combine(Directory, "layout");
        // containerd (unlike docker) adds no PATH of its own: the image's config carries it, as real images' do.
        await OciLayouts.BuildAsync(layout, "bb", [BusyboxLayer.Build()], config: ["--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
        var archive = Path.Combine(Directory, "image.tar");
        var tar = await ProcessRunner.RunAsync("tar", ["-C", layout, "-cf", archive, "."], Timeout);
        Assert.True(tar.ExitCode == 0, tar.Stderr);
        var import = await CtrAsync("images", "import", "--base-name", "docker.io/cocoon/shim-test", archive);
        Assert.True(import.ExitCode == 0, $"ctr image import: {import.Stdout} {import.Stderr}");
    }

    /// <summary>Runs <c>ctr</c> against this containerd in <see cref="Namespace"/>.</summary>
    public Task<ProcessResult> CtrAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("ctr", ["--address", Socket, "--namespace", Namespace, .. arguments], Timeout, stdin: "");

    /// <summary>
    /// Runs <c>ctr</c> as <see cref="CtrAsync"/> does, but on a terminal (what <c>-t</c> needs): under
    /// script(1), whose pseudo-terminal is sized <paramref name="rows"/> x <paramref name="columns"/> first.
    /// </summary>
    public Task<ProcessResult> CtrInTerminalAsync(int rows, int columns, params string[] arguments)
    {
        var ctr = string.Join(' ', ((string[])["ctr", "--address", Socket, "--namespace", Namespace, .. arguments]).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        return ProcessRunner.RunAsync("script", ["-qec", $"stty rows {rows} cols {columns}; {ctr}", "/dev/null"], Timeout, stdin: "");
    }

    /// <summary>The last lines containerd wrote so far (its log and the shims' lines), for failure messages.</summary>
    public string ContainerdLog
    {
        get
        {
            lock (_containerdLog)
            {
                const int Tail = 16 * 1024;
                return _containerdLog.Length <= Tail ? _containerdLog.ToString() : "...\n" + _containerdLog.ToString(_containerdLog.Length - Tail, Tail);
            }
        }
    }

    /// <summary>Shim server processes started by this containerd that are still alive.</summary>
    public IReadOnlyList<int> ShimProcesses() => [.. System.IO.Directory.EnumerateDirectories("/proc")
        .Select(d => (Dir: d, Pid: int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0))
        .Where(p => p.Pid > 0 && CommandLine(p.Dir) is { } cmd && cmd.Contains("containerd-shim-cocoon-v1", StringComparison.Ordinal) && cmd.Contains(Socket, StringComparison.Ordinal))
        .Select(p => p.Pid)];

    private static string? CommandLine(string procDir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procDir, "cmdline")).Replace('\0', ' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private async Task CollectLogAsync(StreamReader log)
    {
        while (await log.ReadLineAsync() is { } line)
        {
            lock (_containerdLog)
            {
                _containerdLog.AppendLine(line);
            }
        }
    }

    private async Task WaitForSocketAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (_containerd!.HasExited)
            {
                await _containerdLogReader!;
                Assert.Fail($"containerd exited with {_containerd.ExitCode}: {ContainerdLog}");
            }

            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(Socket));
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task DisposeAsync()
    {
        // Tasks a failed test left behind: kill and delete them so their shims and boxes go.
        if (_containerd is { HasExited: false })
        {
            var tasks = await CtrAsync("tasks", "ls", "-q");
            foreach (var id in tasks.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await CtrAsync("tasks", "kill", "-s", "SIGKILL", id);
                await CtrAsync("tasks", "delete", "-f", id);
            }

            _containerd.Kill();
            await _containerd.WaitForExitAsync().WaitAsync(Timeout);
        }

        _containerd?.Dispose();
        foreach (var pid in ShimProcesses())
        {
            Process.GetProcessById(pid).Kill();
        }

        Cocoon.KeepLogs();
        await Cocoon.DisposeAsync();
        await ProcessRunner.RunAsync("sh", ["-c", $"grep -o ' {Directory}/[^ ]*' /proc/self/mountinfo | xargs -r -n1 umount -l"], Timeout);
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
