// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Tests.Common;

namespace Cocoon.Tests;

/// <summary>Pins the SDK's public surface (namespace <c>Cocoon</c>): a change must update PublicApi.approved.txt.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_Surface_MatchesApprovedList()
    {
        PublicApi.AssertApproved(typeof(CocoonRuntime).Assembly, "Cocoon.Tests");
    }
}
