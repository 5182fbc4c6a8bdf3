// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using Cocoon.Agent.Processes;
using Cocoon.Protocol.Agent.V1;

namespace Cocoon.Agent.Tests;

[SupportedOSPlatform("linux")]
public sealed class ExecSpecTests
{
    [Fact]
    public void TerminalSize_NoneGiven_Default()
    {
        Assert.Equal(((ushort)24, (ushort)80), ExecSpec.TerminalSize(null));
    }

    [Theory]
    [InlineData(0u, 0u, 24, 80)]
    [InlineData(0u, 132u, 24, 132)]
    [InlineData(50u, 0u, 50, 80)]
    [InlineData(70000u, 1u, 65535, 1)]
    public void TerminalSize_Given_ZeroSideDefaultedOthersBounded(uint rows, uint columns, int expectedRows, int expectedColumns)
    {
        var size = ExecSpec.TerminalSize(new WindowSize { Rows = rows, Columns = columns });

        Assert.Equal(((ushort)expectedRows, (ushort)expectedColumns), size);
    }
}
