// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.Versioning;

namespace Cocoon.Agent.Network.Tests;

[SupportedOSPlatform("linux")]
public sealed class GuestNetworkTests
{
    [Theory]
    [InlineData(24, new byte[] { 255, 255, 255, 0 })]
    [InlineData(32, new byte[] { 255, 255, 255, 255 })]
    [InlineData(20, new byte[] { 255, 255, 240, 0 })]
    [InlineData(0, new byte[] { 0, 0, 0, 0 })]
    public void Netmask_PrefixLength_BytesInNetworkOrder(int prefixLength, byte[] expected)
    {
        Assert.Equal(expected, BitConverter.GetBytes(GuestNetwork.Netmask(prefixLength)));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(33)]
    public void Netmask_OutOfRange_InvalidArgument(int prefixLength)
    {
        var e = Assert.Throws<CocoonException>(() => GuestNetwork.Netmask(prefixLength));

        Assert.Contains(prefixLength.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToSinAddr_Ipv4_BytesInNetworkOrder()
    {
        Assert.Equal(new byte[] { 10, 0, 2, 15 }, BitConverter.GetBytes(GuestNetwork.ToSinAddr("10.0.2.15", "address")));
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("10.0.2.256")]
    [InlineData("gateway")]
    public void ToSinAddr_NotIpv4_RefusedNamingWhat(string text)
    {
        var e = Assert.Throws<CocoonException>(() => GuestNetwork.ToSinAddr(text, "gateway"));

        Assert.Equal($"The network gateway '{text}' is not an IPv4 address.", e.Message);
    }

    [Fact]
    public void ResolvConf_Nameservers_OneLineEachInOrder()
    {
        Assert.Equal("nameserver 10.0.2.3\nnameserver 1.1.1.1\n", GuestNetwork.ResolvConf(["10.0.2.3", "1.1.1.1"]));
    }

    [Fact]
    public void ResolvConf_NotAnAddress_Refused()
    {
        Assert.Throws<CocoonException>(() => GuestNetwork.ResolvConf(["10.0.2.3\nsearch evil"]));
    }
}
