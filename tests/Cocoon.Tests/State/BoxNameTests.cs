// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Configuration;

namespace Cocoon.Tests.State;

public sealed class BoxNameTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("web")]
    [InlineData("web-1")]
    [InlineData("a1-b2-c3")]
    public void Validate_GoodName_Accepted(string name) => Assert.Equal(name, BoxName.Validate(name));

    [Theory]
    [InlineData("")]
    [InlineData("Web")]
    [InlineData("1web")]
    [InlineData("-web")]
    [InlineData("web-")]
    [InlineData("web_1")]
    [InlineData("web.1")]
    [InlineData("../etc")]
    [InlineData("a/b")]
    [InlineData("wéb")]
    public void Validate_BadName_ThrowsNamingItAndTheRule(string name)
    {
        var e = Assert.Throws<CocoonException>(() => BoxName.Validate(name));

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.Contains(BoxName.Rule, e.Message, StringComparison.Ordinal);
        if (name.Length > 0)
        {
            Assert.Contains($"'{name}'", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_LengthLimit_63AcceptedAnd64Refused()
    {
        Assert.True(BoxName.IsValid(new string('a', 63)));
        Assert.False(BoxName.IsValid(new string('a', 64)));
    }
}
