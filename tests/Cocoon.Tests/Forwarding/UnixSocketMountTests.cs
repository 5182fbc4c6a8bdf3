// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Containers;

namespace Cocoon.Tests.Forwarding;

/// <summary><c>--mount type=uds,...</c> and a container's socket mounts, checked before anything is allocated.</summary>
public sealed class UnixSocketMountTests
{
    [Theory]
    [InlineData("type=uds,source=/tmp/a.sock,destination=/run/a.sock")]
    [InlineData("destination=/run/a.sock,type=uds,src=/tmp/a.sock")]
    [InlineData("type=uds,src=/tmp/a.sock,target=/run/a.sock")]
    public void Parse_UdsMount_SourceAndDestination(string spec)
    {
        var mount = UnixSocketMount.Parse(spec);

        Assert.Equal(new UnixSocketMount("/tmp/a.sock", "/run/a.sock"), mount);
    }

    [Theory]
    [InlineData("type=bind,source=/tmp/a.sock,destination=/run/a.sock", "type 'bind' is not served")]
    [InlineData("source=/tmp/a.sock,destination=/run/a.sock", "no type=uds")]
    [InlineData("type=uds,destination=/run/a.sock", "source=HOST_SOCKET")]
    [InlineData("type=uds,source=/tmp/a.sock", "destination=PATH")]
    [InlineData("type=uds,source=/tmp/a.sock,destination=/run/a.sock,readonly", "'readonly'")]
    [InlineData("type=uds,source=tmp/a.sock,destination=/run/a.sock", "tmp/a.sock")]
    public void Parse_BadSpec_InvalidArgumentNamingIt(string spec, string named)
    {
        var ex = Assert.Throws<CocoonException>(() => UnixSocketMount.Parse(spec));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DestinationLongerThanASocketPath_Refused()
    {
        var ex = Assert.Throws<CocoonException>(() => UnixSocketMount.Parse("type=uds,source=/tmp/a.sock,destination=/" + new string('d', 120)));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("destination", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureSocketMountsValid_TwoAtOneDestination_Refused()
    {
        var ex = Assert.Throws<CocoonException>(() => ContainerPlan.EnsureSocketMountsValid([new("/tmp/a.sock", "/run/s.sock"), new("/tmp/b.sock", "/run/s.sock")]));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("/run/s.sock", ex.Message, StringComparison.Ordinal);
    }
}
