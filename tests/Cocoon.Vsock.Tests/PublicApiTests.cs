// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Common;

namespace Cocoon.Vsock.Tests;

/// <summary>Pins the public surface of Cocoon.Vsock: a change must update PublicApi.approved.txt.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_Surface_MatchesApprovedList()
    {
        PublicApi.AssertApproved(typeof(VsockSocket).Assembly, "Cocoon.Vsock.Tests");
    }
}
