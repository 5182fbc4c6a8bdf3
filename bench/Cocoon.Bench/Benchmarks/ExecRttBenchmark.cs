// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using Cocoon.Guest;
using Cocoon.State;
using Cocoon.Vmm;

namespace Cocoon.Bench.Benchmarks;

/// <summary>
/// Exec round trip of <c>true</c> as whole commands a user types, each a fresh process:
/// <c>cocoon exec BOX true</c> (the published CLI) against <c>ssh root@BOX true</c> (OpenSSH) into the
/// same box, whose dropbear server is reached over the same vsock transport.
/// </summary>
/// <remarks>
/// The box is an ordinary one: <c>cocoon create</c> + <c>cocoon start</c> through the published
/// CLI, so the real supervisor runs it. dropbear and socat are copied into its image with
/// <c>COCOON_GUEST_EXTRA_EXECUTABLES</c>. The SSH path, named in the output:
/// <code>
///   ssh --ProxyCommand--> vsock.sock "CONNECT 2222" --(vsock device)--> guest socat
///       VSOCK-LISTEN:2222 --> TCP 127.0.0.1:22 --> dropbear
/// </code>
/// so both sides cross the box's hybrid vsock socket and the supervisor's vsock device. The
/// ProxyCommand is a shell pipeline (printf, socat, read, cat) that writes the CONNECT line and
/// drops the "OK" line; its processes are part of each ssh run, as the CLI process is of each exec.
/// </remarks>
internal sealed class ExecRttBenchmark : IBenchmark
{
    private const int Runs = 200;
    private const string BoxName = "rtt";
    private const int SshVsockPort = 2222;

    public string Name => "exec-rtt";

    public string Description => "cocoon exec BOX true vs ssh BOX true over vsock, p50/p99 of fresh processes (goal >= 20x / >= 10x)";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var cli = BenchSupport.CocoonCli();
        var home = BenchSupport.CreateHome();
        var guestTools = new Dictionary<string, string> { ["COCOON_GUEST_EXTRA_EXECUTABLES"] = "/usr/sbin/dropbear,/usr/bin/socat" };
        try
        {
            var clientKey = Path.Combine(home, "client");
            await BenchSupport.RunCheckedAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey], null, TimeSpan.FromSeconds(30), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["create", "--name", BoxName], home, TimeSpan.FromSeconds(60), cancellationToken);
            await BenchSupport.RunCheckedAsync(cli, ["start", BoxName], home, TimeSpan.FromSeconds(180), cancellationToken, guestTools);
            var choice = await AcceleratorProbe.ChooseAsync(new QemuOptions().QemuPath, KernelLocator.FindDefault().KernelPath, new CocoonPaths(home).GuestCacheDirectory, cancellationToken: cancellationToken);
            output.WriteLine($"accelerator: {choice.Accelerator} ({choice.Reason})");

            // dropbear on the guest's loopback, a vsock listener in front of it; the client's key authorised.
            const string Setup =
                "set -e; ip link set lo up; mkdir -p /etc/dropbear /var/run /root/.ssh; chmod 700 /root/.ssh; " +
                "cat > /root/.ssh/authorized_keys; chmod 600 /root/.ssh/authorized_keys; " +
                "grep -q '^root:' /etc/passwd 2>/dev/null || echo 'root::0:0:root:/root:/bin/sh' >> /etc/passwd; " +
                "grep -q '^root:' /etc/group 2>/dev/null || echo 'root:x:0:' >> /etc/group; echo /bin/sh > /etc/shells; " +
                "dropbear -R -p 127.0.0.1:22 2>/tmp/dropbear.log; " +
                "setsid socat VSOCK-LISTEN:2222,fork,reuseaddr TCP:127.0.0.1:22 </dev/null >/tmp/socat.log 2>&1 &";
            var setup = await BenchSupport.RunAsync(cli, ["exec", "-i", BoxName, "sh", "-c", Setup], home, TimeSpan.FromSeconds(60), cancellationToken, stdin: await File.ReadAllTextAsync(clientKey + ".pub", cancellationToken));
            if (setup.Code != 0)
            {
                throw new InvalidOperationException($"guest SSH setup exited {setup.Code}: {setup.Stderr.Trim()}");
            }

            var vsock = new CocoonPaths(home).VsockSocket(BoxName);
            string[] ssh =
            [
                "-F", "/dev/null", "-i", clientKey,
                "-o", $"ProxyCommand=sh -c '{{ printf \"CONNECT {SshVsockPort}\\n\"; cat; }} | socat - UNIX-CONNECT:{vsock} | {{ read -r ok; exec cat; }}'",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "root@" + BoxName, "true",
            ];
            await WaitForSshAsync(cli, home, ssh, cancellationToken);
            output.WriteLine($"ssh path: OpenSSH client -> ProxyCommand (socat) -> {vsock} CONNECT {SshVsockPort} -> vsock device (supervisor) -> guest socat -> dropbear 127.0.0.1:22");

            var runtime = new CocoonRuntime(new CocoonRuntimeOptions { StateRoot = home, CocoonPath = cli });
            await using var box = runtime.GetBox(BoxName);

            // Warm-up (page cache, guest caches, dropbear's host key on first use), not counted.
            for (var i = 0; i < 5; i++)
            {
                await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "true"], home, TimeSpan.FromSeconds(60), cancellationToken);
                await BenchSupport.RunCheckedAsync("ssh", ssh, null, TimeSpan.FromSeconds(60), cancellationToken);
                await RunInProcessAsync(box, cancellationToken);
            }

            var cocoon = new List<double>();
            var secure = new List<double>();
            var sdk = new List<double>();
            var budget = Stopwatch.StartNew();
            for (var i = 0; i < Runs && budget.Elapsed < TimeSpan.FromMinutes(9); i++)
            {
                cocoon.Add((await BenchSupport.RunCheckedAsync(cli, ["exec", BoxName, "true"], home, TimeSpan.FromSeconds(60), cancellationToken)).Ms);
                secure.Add((await BenchSupport.RunCheckedAsync("ssh", ssh, null, TimeSpan.FromSeconds(60), cancellationToken)).Ms);
                sdk.Add(await RunInProcessAsync(box, cancellationToken));
            }

            output.WriteLine($"runs: {cocoon.Count} of each (alternating; stopped early only past 9 minutes)");
            output.WriteLine($"cocoon exec {BoxName} true (fresh CLI process):               p50 {P(cocoon, 50)}ms p99 {P(cocoon, 99)}ms min {Report.Number(cocoon.Min())} max {Report.Number(cocoon.Max())}");
            output.WriteLine($"ssh root@{BoxName} true over vsock (fresh OpenSSH client):     p50 {P(secure, 50)}ms p99 {P(secure, 99)}ms min {Report.Number(secure.Min())} max {Report.Number(secure.Max())}");
            output.WriteLine($"SDK Box.RunAsync([\"true\"]) in process:                      p50 {P(sdk, 50)}ms p99 {P(sdk, 99)}ms min {Report.Number(sdk.Min())} max {Report.Number(sdk.Max())}");
            output.WriteLine(Report.Figure("exec-rtt-p50", Report.Percentile(secure, 50) / Report.Percentile(cocoon, 50), "x", ">=", 20));
            output.WriteLine(Report.Figure("exec-rtt-p99", Report.Percentile(secure, 99) / Report.Percentile(cocoon, 99), "x", ">=", 10));
        }
        finally
        {
            await BenchSupport.RemoveBoxAndCleanUpAsync(cli, BoxName, home, output);
        }
    }

    private static string P(List<double> values, double p) => Report.Number(Report.Percentile(values, p));

    private static async Task<double> RunInProcessAsync(Box box, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var result = await box.RunAsync(["true"], cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return result.ExitCode == 0 ? ms : throw new InvalidOperationException($"SDK exec of true exited {result.ExitCode}");
    }

    private static async Task WaitForSshAsync(string cli, string home, string[] ssh, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var last = "";
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            var (_, code, _, stderr) = await BenchSupport.RunAsync("ssh", ssh, null, TimeSpan.FromSeconds(60), cancellationToken);
            if (code == 0)
            {
                return;
            }

            last = stderr.Trim();
            await Task.Delay(500, cancellationToken);
        }

        var log = await BenchSupport.RunAsync(cli, ["exec", BoxName, "sh", "-c", "cat /tmp/dropbear.log /tmp/socat.log; ps"], home, TimeSpan.FromSeconds(30), cancellationToken);
        throw new InvalidOperationException($"ssh into the guest never succeeded: {last}; guest: {log.Stdout.Trim()} {log.Stderr.Trim()}");
    }
}
