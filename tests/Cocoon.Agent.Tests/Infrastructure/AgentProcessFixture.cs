// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;

namespace Cocoon.Agent.Tests.Infrastructure;

/// <summary>Runs the built agent binary with --listen-unix in a temp dir and connects the host client to it.</summary>
public sealed class AgentProcessFixture : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cocoon-agent-test-").FullName;
    private Process? _process;

    public string SocketPath => Path.Combine(_directory, "agent.sock");

    public IGuestAgent Agent { get; private set; } = null!;

    /// <summary>The agent's process id, to look at its open descriptors.</summary>
    public int AgentPid => _process?.Id ?? throw new InvalidOperationException("The agent is not started.");

    public async Task InitializeAsync()
    {
        _process = StartAgent(SocketPath);
        Agent = GuestAgentClient.ConnectUnix(SocketPath);
        await Agent.WaitForReadyAsync(TimeSpan.FromSeconds(30)).WaitAsync(TimeSpan.FromSeconds(40));
    }

    public static Process StartAgent(string socketPath)
    {
        // The copy next to the tests is a self-contained apphost without its runtime: run the agent's own build output.
        var testDirectory = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var configuration = testDirectory.Name;
        var artifactsBin = testDirectory.Parent!.Parent!.FullName;
        // COCOON_AGENT_PATH runs the suite against another build, for example the NativeAOT one.
        var apphost = Environment.GetEnvironmentVariable("COCOON_AGENT_PATH")
            ?? Path.Combine(artifactsBin, "Cocoon.Agent", configuration + "_linux-x64", "cocoon-agent");
        if (!File.Exists(apphost))
        {
            throw new FileNotFoundException($"Build src/Cocoon.Agent first: {apphost} is missing.", apphost);
        }

        var start = new ProcessStartInfo(apphost);
        start.ArgumentList.Add("--listen-unix");
        start.ArgumentList.Add(socketPath);
        start.RedirectStandardOutput = false;
        start.RedirectStandardError = false;
        return Process.Start(start) ?? throw new InvalidOperationException("cannot start cocoon-agent");
    }

    public async Task DisposeAsync()
    {
        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }

        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>Helpers to run a command and collect its output.</summary>
public static class ExecHelpers
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static async Task<(ExecExit Exit, string Stdout, string Stderr)> RunAsync(this IGuestAgent agent, ExecRequest request, string? stdin = null)
    {
        await using var session = await agent.ExecAsync(request).WaitAsync(Timeout);
        if (stdin is not null)
        {
            await session.WriteStdinAsync(System.Text.Encoding.UTF8.GetBytes(stdin)).WaitAsync(Timeout);
            await session.CloseStdinAsync().WaitAsync(Timeout);
        }

        var stdout = new StreamReader(session.Stdout).ReadToEndAsync();
        var stderr = new StreamReader(session.Stderr).ReadToEndAsync();
        var exit = await session.Exit.WaitAsync(Timeout);
        return (exit, await stdout.WaitAsync(Timeout), await stderr.WaitAsync(Timeout));
    }

    public static Task<(ExecExit Exit, string Stdout, string Stderr)> RunAsync(this IGuestAgent agent, params string[] argv) =>
        agent.RunAsync(new ExecRequest(argv));
}
