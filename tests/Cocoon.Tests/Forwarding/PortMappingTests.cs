// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using Cocoon.Forwarding;

namespace Cocoon.Tests.Forwarding;

public sealed class PortMappingTests
{
    [Theory]
    [InlineData("8080:80", 8080, 80, "tcp")]
    [InlineData("80", 80, 80, "tcp")]
    [InlineData(":80", 0, 80, "tcp")]
    [InlineData("5353:53/udp", 5353, 53, "udp")]
    [InlineData("53/UDP", 53, 53, "udp")]
    [InlineData("9000:9000/tcp", 9000, 9000, "tcp")]
    public void ParseForward_KubectlForms_Parsed(string spec, int local, int remote, string network)
    {
        Assert.Equal(new PortMapping(local, remote, network), PortMapping.ParseForward(spec));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("80:0")]
    [InlineData("70000:80")]
    [InlineData("80:x")]
    [InlineData("80/sctp")]
    [InlineData("")]
    [InlineData("-1:80")]
    public void ParseForward_Bad_InvalidArgumentQuotingSpec(string spec)
    {
        var ex = Assert.Throws<CocoonException>(() => PortMapping.ParseForward(spec));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains($"'{spec}'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8080:80", 8080, 80, "tcp", null)]
    [InlineData("127.0.0.1:8080:80", 8080, 80, "tcp", "127.0.0.1")]
    [InlineData("[::1]:5353:53/udp", 5353, 53, "udp", "::1")]
    public void ParsePublish_DockerForms_Parsed(string spec, int host, int port, string network, string? address)
    {
        var mapping = PortMapping.ParsePublish(spec);

        Assert.Equal(new PublishedPort(host, port, network, address), mapping.ToPublishedPort());
    }

    [Theory]
    [InlineData("80")]
    [InlineData(":80")]
    [InlineData("host:8080:80")]
    [InlineData("0:80")]
    public void ParsePublish_Bad_InvalidArgumentQuotingSpec(string spec)
    {
        var ex = Assert.Throws<CocoonException>(() => PortMapping.ParsePublish(spec));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains(spec, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PublishTwice_InvalidNamingPort()
    {
        var options = new BoxOptions("web").WithPublish(8080, 80).WithPublish(8080, 81);

        var ex = Assert.Throws<CocoonException>(() => options.Build());

        Assert.Contains("publish[1]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("8080", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PublishUdpAndTcpSamePort_Allowed()
    {
        var config = new BoxOptions("web").WithPublish(5353, 53, "udp").WithPublish(5353, 53, "TCP", IPAddress.Loopback.ToString()).Build();

        Assert.Equal(["5353:53/udp", "127.0.0.1:5353:53"], config.Publish.Select(p => p.ToString()));
    }
}
