// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;
using Cocoon.Tests.Common.Images;

namespace Cocoon.EndToEnd.Tests.Docker;

/// <summary>
/// One Docker-in-a-box for the class, made as a user makes it:
/// <code>
///  1. images    a dind image of this machine's Debian packages (<see cref="DindLayer"/>) pushed to a
///               registry started here; a busybox image saved as a docker-archive tar for docker load
///  2. box       cocoon run --support-docker --name d1 -d DIND (dockerd is the container's PID 1)
///  3. socket    cocoon socket-forward d1 HOST/docker.sock:/var/run/docker.sock (the container's socket)
///  4. ready     Debian's docker CLI (/usr/bin/docker, never another on the PATH) answers version
///  5. load      docker load -i busybox.tar
/// </code>
/// </summary>
public sealed class DockerInBoxFixture : IAsyncLifetime
{
    /// <summary>Debian's docker CLI (docker.io); a newer one elsewhere on the PATH is not what a fresh machine has.</summary>
    public const string DockerCli = "/usr/bin/docker";

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(180);

    private readonly string _directory = Directory.CreateTempSubdirectory("dind-e2e-").FullName;
    private LocalRegistry? _registry;
    private Process? _socketForward;

    internal BoxTestEnvironment Environment { get; } = new();

    public string Name => "d1";

    /// <summary>The dind image's reference in the registry.</summary>
    public string Image { get; private set; } = null!;

    /// <summary>The host end of the forwarded docker.sock.</summary>
    public string DockerSocket => Path.Combine(_directory, "docker.sock");

    /// <summary>A directory the tests may write build contexts into.</summary>
    public string WorkDirectory => Path.Combine(_directory, "work");

    /// <summary>What <c>docker load</c> answered in step 5.</summary>
    public ProcessResult Load { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // :: Step 1
        Directory.CreateDirectory(WorkDirectory);
        _registry = await LocalRegistry.StartAsync(Path.Combine(_directory, "registry"));
        var layout = Path.Combine(_directory, "layout");
        await OciLayouts.BuildAsync(layout, "dind", [await DindLayer.BuildAsync()], config: DindLayer.ImageConfig);
        await _registry.PushLayoutAsync(layout, "dind", "test/dind:1");
        Image = $"{_registry.Host}/test/dind:1";
        await OciLayouts.BuildAsync(layout, "busybox", [BusyboxLayer.Build([.. BusyboxLayer.Applets, "ip", "wget", "httpd", "ls", "nslookup"])], config:
            ["--config.cmd", "sh", "--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
        var save = await ProcessRunner.RunAsync("skopeo", ["copy", "--quiet", $"oci:{layout}:busybox", $"docker-archive:{BusyboxTar}:busybox:latest"], Timeout);
        Assert.True(save.ExitCode == 0, save.Stderr);

        // :: Step 2
        var run = await Environment.CocoonAsync("run", "--support-docker", "--name", Name, "-d", Image);
        Assert.True(run.ExitCode == 0, run.Stderr);

        // :: Step 3
        _socketForward = ProcessRunner.Start(BoxTestEnvironment.Cli, ["socket-forward", Name, $"{DockerSocket}:/var/run/docker.sock"], Environment.CliEnvironment());
        var line = await _socketForward.StandardOutput.ReadLineAsync().WaitAsync(Timeout);
        if (line is null || !line.StartsWith("Forwarding from", StringComparison.Ordinal))
        {
            Assert.Fail($"socket-forward: {line} {await _socketForward.StandardError.ReadToEndAsync().WaitAsync(Timeout)}");
        }

        // :: Step 4
        var deadline = DateTime.UtcNow + Timeout;
        ProcessResult version;
        while ((version = await DockerAsync("version", "--format", "{{.Server.Version}}")).ExitCode != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"dockerd did not answer within {Timeout.TotalSeconds} s: {version.Stderr}\n{(await Environment.CocoonAsync("logs", Name)).Stdout}");
            await Task.Delay(500);
        }

        // :: Step 5
        Load = await DockerAsync("load", "-i", BusyboxTar);
    }

    private string BusyboxTar => Path.Combine(_directory, "busybox.tar");

    /// <summary>Runs Debian's docker CLI against the forwarded socket.</summary>
    public Task<ProcessResult> DockerAsync(params string[] arguments) =>
        ProcessRunner.RunAsync(DockerCli, ["-H", $"unix://{DockerSocket}", .. arguments], Timeout, new Dictionary<string, string>
        {
            ["DOCKER_CONFIG"] = Path.Combine(_directory, "docker-config"),
            ["DOCKER_BUILDKIT"] = "0",
        });

    public async Task DisposeAsync()
    {
        if (_socketForward is not null)
        {
            _socketForward.Kill();
            await _socketForward.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            _socketForward.Dispose();
        }

        await Environment.DisposeAsync();
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }
}
