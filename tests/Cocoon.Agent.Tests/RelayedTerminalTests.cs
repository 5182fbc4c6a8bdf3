// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Runtime.Versioning;
using Cocoon.Agent.Processes;

namespace Cocoon.Agent.Tests;

/// <summary>
/// <see cref="RelayedTerminal"/> against a real relay: script(1) holds a pty master of its own for the
/// command it runs, as crun does for a container's terminal.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class RelayedTerminalTests
{
    [Fact]
    public async Task Resize_ScriptRelay_SetsTheSizeOfTheMasterItHolds()
    {
        using var relay = Process.Start(new ProcessStartInfo("script", ["-qfc", "sleep 30", "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        })!;
        try
        {
            // script opens its pty before it starts the command; until then it holds no master.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!RelayedTerminal.Resize(relay.Id, 37, 91))
            {
                Assert.True(DateTime.UtcNow < deadline, "script never held a pty master");
                await Task.Delay(20);
            }

            Assert.Equal(((ushort)37, (ushort)91), SizeOfTheMasterHeldBy(relay.Id));
        }
        finally
        {
            relay.Kill(entireProcessTree: true);
            await relay.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Resize_ProcessWithoutAPty_FalseAndNothingChanged()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", ["30"]) { RedirectStandardInput = true })!;
        try
        {
            Assert.False(RelayedTerminal.Resize(sleeper.Id, 37, 91));
        }
        finally
        {
            sleeper.Kill();
            await sleeper.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Resize_ExitedProcess_False()
    {
        using var gone = Process.Start(new ProcessStartInfo("true"))!;
        await gone.WaitForExitAsync();

        Assert.False(RelayedTerminal.Resize(gone.Id, 37, 91));
    }

    private static (ushort Rows, ushort Columns) SizeOfTheMasterHeldBy(int pid)
    {
        using var pidfd = Interop.PidfdOpen(pid);
        foreach (var entry in Directory.GetFileSystemEntries($"/proc/{pid}/fd"))
        {
            using var copy = Interop.PidfdGetfd(pidfd, int.Parse(Path.GetFileName(entry), System.Globalization.CultureInfo.InvariantCulture));
            if (copy is not null && Interop.IsPtyMaster(copy))
            {
                return Interop.GetWindowSize(copy);
            }
        }

        throw new Xunit.Sdk.XunitException($"process {pid} holds no pty master");
    }
}
