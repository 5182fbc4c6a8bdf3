// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net.Sockets;
using System.Text;
using Cocoon.EndToEnd.Tests.Boot;
using Cocoon.EndToEnd.Tests.Infrastructure;
using Cocoon.Guest;
using Cocoon.Vsock;
using Cocoon.Vsock.Device;

namespace Cocoon.EndToEnd.Tests.Vsock;

/// <summary>
/// One <see cref="VsockDevice"/> behind one real QEMU test guest, shared by the device end-to-end tests.
/// The guest may reach host port <see cref="AllowedHostPort"/> only.
/// </summary>
public sealed class VsockDeviceFixture : IAsyncLifetime
{
    internal const uint AllowedHostPort = 6000;
    internal static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    public string StateRoot { get; } = Directory.CreateTempSubdirectory("cocoon-e2e-vsk-").FullName;

    internal VsockDevice Device { get; private set; } = null!;

    internal TestVm Vm { get; private set; } = null!;

    internal string UdsPath => Device.Options.UdsPath;

    public async Task InitializeAsync()
    {
        var kernel = KernelLocator.FindDefault();
        var image = new GuestImageCache(StateRoot).GetOrBuild(TestGuestImage.CreateBuilder(kernel));
        Device = VsockDevice.Start(new VsockDeviceOptions
        {
            SocketPath = Path.Combine(StateRoot, "vu.sock"),
            UdsPath = Path.Combine(StateRoot, "v.sock"),
            GuestCid = 3,
            AllowedHostPorts = [AllowedHostPort],
        });
        Vm = await TestVm.StartAsync(kernel, image.Path, Device.Options.SocketPath, Path.Combine(StateRoot, "cache"));
        await Vm.WaitForConsoleAsync(TestGuestImage.Marker, BootFixture.BootTimeout);
    }

    /// <summary>Runs <paramref name="script"/> with the guest's command service; returns stdout and stderr together.</summary>
    internal async Task<string> RunGuestAsync(string script)
    {
        using var socket = await ConnectWithRetryAsync(TestGuestImage.CommandPort);
        // No half-close: the guest's socat gives the other direction only 0.5 s after an EOF, so the
        // shell ends itself with `exit` and long commands keep their output.
        await socket.SendAsync(Encoding.UTF8.GetBytes(script + "\nexit\n")).WaitAsync(CommandTimeout);
        return Encoding.UTF8.GetString(await ReadToEndAsync(socket));
    }

    /// <summary>Connects to a guest port, retrying while a just-started guest listener is not up yet.</summary>
    internal Task<Socket> ConnectWithRetryAsync(uint port) => ConnectWithRetryAsync(UdsPath, port);

    /// <summary>Connects to a guest port through <paramref name="udsPath"/>, retrying while the guest listener is not up yet.</summary>
    internal static async Task<Socket> ConnectWithRetryAsync(string udsPath, uint port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await HybridVsock.ConnectAsync(udsPath, port).WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (CocoonException ex) when (ex.Code == CocoonErrorCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    internal static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer).WaitAsync(CommandTimeout);
            if (read == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, read);
        }
    }

    public async Task DisposeAsync()
    {
        if (Vm is not null)
        {
            await Vm.DisposeAsync();
        }

        if (Device is not null)
        {
            await Device.DisposeAsync();
        }

        Directory.Delete(StateRoot, recursive: true);
    }
}
