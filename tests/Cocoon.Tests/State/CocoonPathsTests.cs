// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.State;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.State;

public sealed class CocoonPathsTests
{
    [Theory]
    [InlineData("/srv/cocoon", "/x/state", "/home/u", "/srv/cocoon")]
    [InlineData(null, "/x/state", "/home/u", "/x/state/cocoon")]
    [InlineData("", "relative/state", "/home/u", "/home/u/.local/state/cocoon")]
    [InlineData(null, null, "/root", "/root/.local/state/cocoon")]
    public void FromEnvironment_Variables_PickRootByPrecedence(string? home, string? xdg, string? user, string expected)
    {
        var env = new Dictionary<string, string?> { ["COCOON_HOME"] = home, ["XDG_STATE_HOME"] = xdg, ["HOME"] = user };

        var paths = CocoonPaths.FromEnvironment(name => env.GetValueOrDefault(name));

        Assert.Equal(expected, paths.Root);
    }

    [Fact]
    public void FromEnvironment_RelativeHome_MadeAbsolute()
    {
        var paths = CocoonPaths.FromEnvironment(name => name == "COCOON_HOME" ? "rel/state" : null);

        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "rel", "state"), paths.Root);
    }

    [Fact]
    public void Constructor_RootUnderAFile_InvalidArgumentNamingTheFile()
    {
        using var root = new TempStateRoot();
        var file = Path.Combine(root.Path, "plain");
        File.WriteAllText(file, "");

        var error = Assert.Throws<CocoonException>(() => new CocoonPaths(Path.Combine(file, "state")));

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains($"'{file}' is a file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Layout_Box_MatchesDesign()
    {
        var paths = new CocoonPaths("/s/");

        Assert.Equal("/s/boxes/web/box.json", paths.BoxFile("web"));
        Assert.Equal("/s/boxes/web/vsock.sock", paths.VsockSocket("web"));
        Assert.Equal("/s/boxes/web/vsock.sock_2000", paths.VsockPortSocket("web", 2000));
        Assert.Equal("/s/boxes/web/console.log", paths.ConsoleLog("web"));
        Assert.Equal("/s/boxes/web/control.sock", paths.ControlSocket("web"));
        Assert.Equal("/s/vsock/cids.json", paths.CidsFile);
        Assert.Equal("/s/images", paths.ImagesDirectory);
        Assert.Equal("/s/cache/guest", paths.GuestCacheDirectory);
    }
}
