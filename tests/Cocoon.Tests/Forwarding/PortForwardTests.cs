// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Net.Sockets;

namespace Cocoon.Tests.Forwarding;

public sealed class PortForwardTests
{
    [Fact]
    public void Start_AddressNotOfThisHost_SaysSoWithoutTheSocketText()
    {
        // 192.0.2.0/24 is TEST-NET-1: never assigned to a host.
        var options = new PortForwardOptions(80) { ListenAddresses = [IPAddress.Parse("192.0.2.7")] };

        var ex = Assert.Throws<CocoonException>(() => PortForward.Start((_, _) => Task.FromException<Socket>(new InvalidOperationException("no dial")), options));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("192.0.2.7 is not an address of this host", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Cannot assign requested address", ex.Message, StringComparison.Ordinal);
    }
}
