// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Text;
using System.Text;
using Cocoon.Protocol;

namespace Cocoon.Agent.Tests;

public sealed class BootConfigTests
{
    [Fact]
    public void KernelArgument_RoundTrip_PreservesFields()
    {
        var config = new BootConfig
        {
            Hostname = "box1",
            Modules = ["/lib/modules/m/vsock.ko", "/lib/modules/m/vmw_vsock_virtio_transport.ko"],
        };

        var argument = config.ToKernelArgument();
        var parsed = BootConfig.FromKernelCommandLine($"console=ttyS0 quiet {argument} panic=-1");

        Assert.StartsWith("cocoon.boot=", argument, StringComparison.Ordinal);
        Assert.NotNull(parsed);
        Assert.Equal("box1", parsed.Hostname);
        Assert.Equal(config.Modules, parsed.Modules);
        Assert.Null(parsed.LogLevel);
    }

    [Fact]
    public void KernelArgument_Network_RoundTrips()
    {
        var config = new BootConfig { Network = new BootNetwork { Address = "10.0.2.15", PrefixLength = 24, Gateway = "10.0.2.2", Nameservers = ["10.0.2.3"] } };

        var parsed = BootConfig.FromKernelCommandLine(config.ToKernelArgument())!.Network!;

        Assert.Equal(("eth0", "10.0.2.15", 24, "10.0.2.2"), (parsed.Interface, parsed.Address, parsed.PrefixLength, parsed.Gateway));
        Assert.Equal(["10.0.2.3"], parsed.Nameservers);
    }

    [Fact]
    public void ToJson_UnsetOptionalFields_AreOmittedAndSnakeCase()
    {
        var json = new BootConfig { Hostname = "h", LogLevel = "debug" }.ToJson();

        Assert.Equal("{\"hostname\":\"h\",\"modules\":[],\"log_level\":\"debug\"}", json);
    }

    [Fact]
    public void FromKernelCommandLine_UnknownFields_AreIgnored()
    {
        var json = "{\"hostname\":\"h\",\"future_field\":{\"x\":[1,2]},\"modules\":[],\"another\":true}";
        var cmdline = "quiet cocoon.boot=" + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

        var parsed = BootConfig.FromKernelCommandLine(cmdline);

        Assert.Equal("h", parsed!.Hostname);
    }

    [Fact]
    public void FromKernelCommandLine_NoArgument_ReturnsNull()
    {
        Assert.Null(BootConfig.FromKernelCommandLine("console=ttyS0 quiet"));
    }

    [Fact]
    public void ToKernelArgument_TooLarge_ThrowsNamingSize()
    {
        var config = new BootConfig { Modules = [.. Enumerable.Range(0, 40).Select(i => $"/lib/modules/6.1.0-56-cloud-amd64/kernel/net/netfilter/module{i}.ko")] };

        var ex = Assert.Throws<CocoonException>(config.ToKernelArgument);

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("1536", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromKernelCommandLine_NotBase64_ThrowsInvalidArgument()
    {
        var ex = Assert.Throws<CocoonException>(() => BootConfig.FromKernelCommandLine("cocoon.boot=%%%"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }
}
