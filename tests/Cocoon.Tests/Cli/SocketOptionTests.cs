// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using Cocoon.Tests.Cli.Infrastructure;

namespace Cocoon.Tests.Cli;

/// <summary><c>create --mount type=uds,...</c> and <c>--socket-forward</c>: checked before anything is allocated, errors naming the flag.</summary>
public sealed class SocketOptionTests : CliHarness
{
    [Fact]
    public void Create_SocketForward_RecordedInTheBoxConfig()
    {
        var hostPath = Path.Combine(Root.Path, "app.sock");

        var (exit, _, stderr) = Run("create", "--name", "web", "--socket-forward", $"{hostPath}:/run/app.sock");
        var inspect = Run("inspect", "web");

        Assert.True(exit == 0, stderr);
        using var doc = JsonDocument.Parse(inspect.Out);
        var forward = doc.RootElement.GetProperty("config").GetProperty("socket_forwards")[0];
        Assert.Equal(hostPath, forward.GetProperty("host_path").GetString());
        Assert.Equal("/run/app.sock", forward.GetProperty("box_path").GetString());
    }

    [Theory]
    [InlineData("--mount", "type=uds,source=/tmp/a.sock", "--mount #1 'type=uds,source=/tmp/a.sock' is not type=uds,source=HOST_SOCKET,destination=PATH: it needs destination=PATH")]
    [InlineData("--mount", "type=uds,source=/tmp/a.sock,destination=/run/a.sock", "--mount applies to a box's containers, and a box without an image has none")]
    [InlineData("--socket-forward", "/tmp/a.sock", "--socket-forward #1 '/tmp/a.sock' is not HOST_PATH:BOX_PATH")]
    [InlineData("--socket-forward", "/missing-dir/a.sock:/run/a.sock", "--socket-forward #1 host path '/missing-dir/a.sock': the directory '/missing-dir' does not exist")]
    public void Create_BadSocketOption_UsageErrorNamingTheFlagAndNothingCreated(string flag, string value, string message)
    {
        var (exit, stdout, stderr) = Run("create", "--name", "web", flag, value);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.StartsWith($"error: {message}", stderr, StringComparison.Ordinal);
        Assert.True(NoBoxes());
    }

    [Fact]
    public void Create_SecondMountBad_NamesTheSecond()
    {
        var (exit, _, stderr) = Run("create", "--name", "web", "--image", "busybox", "--mount", "type=uds,source=/tmp/a.sock,destination=/run/a.sock", "--mount", "type=uds,source=a.sock,destination=/run/b.sock");

        Assert.Equal(2, exit);
        Assert.StartsWith("error: --mount #2 source 'a.sock' is not absolute", stderr, StringComparison.Ordinal);
        Assert.True(NoBoxes());
    }

    [Fact]
    public void Create_FileWithSocketFlags_Refused()
    {
        var (exit, _, stderr) = Run("create", "-f", "/nonexistent/box.yaml", "--socket-forward", "/tmp/a.sock:/run/a.sock", "--mount", "type=uds,source=/tmp/a.sock,destination=/run/a.sock");

        Assert.Equal(2, exit);
        Assert.Contains("--file cannot be combined with --mount, --socket-forward", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void RunIntoBox_SocketForward_RefusedPointingAtSocketForwardCommand()
    {
        var (exit, _, stderr) = Run("run", "--box", "web", "--socket-forward", "/tmp/a.sock:/run/a.sock", "busybox", "true");

        Assert.Equal(2, exit);
        Assert.Contains("cocoon socket-forward web HOST_PATH:BOX_PATH", stderr, StringComparison.Ordinal);
    }
}
