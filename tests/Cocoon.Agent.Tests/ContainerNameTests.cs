// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Protocol;

namespace Cocoon.Agent.Tests;

/// <summary>The one container-name rule that the agent, the supervisor and the stream header all apply.</summary>
public sealed class ContainerNameTests
{
    [Theory]
    [InlineData("web")]
    [InlineData("0")]
    [InlineData("web-1.blue_2")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void IsValid_GoodName_True(string name)
    {
        Assert.True(ContainerName.IsValid(name));
        ContainerName.EnsureValid(name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456789012345")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("-web")]
    [InlineData("_web")]
    [InlineData("Web")]
    [InlineData("web/../etc")]
    [InlineData("web 1")]
    [InlineData("wéb")]
    [InlineData("web\n")]
    public void IsValid_BadName_False(string name)
    {
        Assert.False(ContainerName.IsValid(name));
    }

    [Fact]
    public void IsValid_Null_False()
    {
        Assert.False(ContainerName.IsValid(null));
    }

    [Fact]
    public void EnsureValid_BadName_InvalidArgumentNamingNameAndRule()
    {
        var ex = Assert.Throws<CocoonException>(() => ContainerName.EnsureValid("a/b\n"));

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Equal("container name 'a/b?' is not valid: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit", ex.Message);
    }
}
