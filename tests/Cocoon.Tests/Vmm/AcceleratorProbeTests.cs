// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vmm.Tests;

public sealed class AcceleratorProbeTests
{
    [Theory]
    [InlineData("kvm", "Kvm")]
    [InlineData("TCG", "Tcg")]
    public void Override_KnownValue_Chosen(string value, string expected)
    {
        Assert.Equal(expected, AcceleratorProbe.Override(value)!.Accelerator.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Override_Unset_Null(string? value)
    {
        Assert.Null(AcceleratorProbe.Override(value));
    }

    [Fact]
    public void Override_UnknownValue_InvalidArgument()
    {
        var ex = Assert.Throws<CocoonException>(() => AcceleratorProbe.Override("hvf"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
    }
}
