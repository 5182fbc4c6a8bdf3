// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Text;
using Cocoon.EndToEnd.Tests.Boot;
using Cocoon.EndToEnd.Tests.Infrastructure;
using Cocoon.Guest;
using Cocoon.Tests.Common;
using Cocoon.Vsock;

namespace Cocoon.EndToEnd.Tests.Vsock;

/// <summary><c>cocoon vsock-device</c> as a process behind real QEMU.</summary>
public sealed class VsockDeviceCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task VsockDevice_GuestReachableThenQemuExits_CommandExitsZero()
    {
        // Arrange
        var root = Directory.CreateTempSubdirectory("cocoon-e2e-vdc-").FullName;
        var socket = Path.Combine(root, "vu.sock");
        var uds = Path.Combine(root, "v.sock");
        using var device = Process.Start(new ProcessStartInfo(RepoLayout.CliExecutable)
        {
            ArgumentList = { "vsock-device", "--socket", socket, "--uds", uds, "--guest-cid", "3", "--allow-port", "6000" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var stderr = device.StandardError.ReadToEndAsync();
        try
        {
            var kernel = KernelLocator.FindDefault();
            var image = new GuestImageCache(root).GetOrBuild(TestGuestImage.CreateBuilder(kernel));
            var deadline = DateTime.UtcNow + Timeout;
            while (!File.Exists(socket))
            {
                Assert.False(device.HasExited || DateTime.UtcNow > deadline, "vsock-device did not create its socket");
                await Task.Delay(50);
            }

            string output;
            await using (var vm = await TestVm.StartAsync(kernel, image.Path, socket, Path.Combine(root, "cache")))
            {
                await vm.WaitForConsoleAsync(TestGuestImage.Marker, BootFixture.BootTimeout);

                // Act
                using var connection = await ConnectWithRetryAsync(uds);
                await connection.SendAsync(Encoding.ASCII.GetBytes("echo hello-from-guest\nexit\n")).WaitAsync(Timeout);
                using var received = new MemoryStream();
                var buffer = new byte[4096];
                int read;
                while ((read = await connection.ReceiveAsync(buffer).WaitAsync(Timeout)) > 0)
                {
                    received.Write(buffer, 0, read);
                }

                output = Encoding.ASCII.GetString(received.ToArray());
            }

            await device.WaitForExitAsync().WaitAsync(Timeout);

            // Assert
            Assert.Contains("hello-from-guest", output, StringComparison.Ordinal);
            Assert.True(device.ExitCode == 0, await stderr.WaitAsync(Timeout));
            Assert.Contains("FrontEndDisconnected", await stderr.WaitAsync(Timeout), StringComparison.Ordinal);
        }
        finally
        {
            if (!device.HasExited)
            {
                device.Kill();
                await device.WaitForExitAsync().WaitAsync(Timeout);
            }

            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The marker precedes the guest's command listener, so a refusal just after it is retried.</summary>
    private static async Task<System.Net.Sockets.Socket> ConnectWithRetryAsync(string uds)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            try
            {
                return await HybridVsock.ConnectAsync(uds, TestGuestImage.CommandPort).WaitAsync(Timeout);
            }
            catch (CocoonException ex) when (ex.Code == CocoonErrorCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
