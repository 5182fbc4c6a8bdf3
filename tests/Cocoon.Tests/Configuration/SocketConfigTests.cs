// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Configuration;

namespace Cocoon.Tests.Configuration;

/// <summary>A box's uds mounts and socket forwards (<c>mounts</c>, <c>socket_forwards</c>) as box.yaml and the SDK give them.</summary>
public sealed class SocketConfigTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sock-cfg-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static BoxConfig Load(string yaml)
    {
        var (options, names) = BoxConfigYaml.Parse(yaml, "box.yaml");
        return BoxConfigValidator.Validate(options, names, hostCpus: 4);
    }

    private static string Error(string yaml) => Assert.Throws<CocoonException>(() => Load(yaml)).Message;

    [Fact]
    public void Yaml_MountsAndSocketForwards_ParsedWithTheFlagsSpelling()
    {
        var config = Load($"""
            image: busybox
            mounts:
              - type=uds,source=/tmp/agent.sock,destination=/run/agent.sock
              - type=uds,src=/tmp/db.sock,dst=/run/db.sock
            socket_forwards: [{_directory}/app.sock:/run/app.sock]
            """);

        Assert.Equal([new UnixSocketMount("/tmp/agent.sock", "/run/agent.sock"), new UnixSocketMount("/tmp/db.sock", "/run/db.sock")], config.SocketMounts);
        Assert.Equal([new PublishedSocket($"{_directory}/app.sock", "/run/app.sock")], config.SocketForwards);
    }

    [Fact]
    public void Yaml_BadMount_NamesTheEntryAndLine()
    {
        var message = Error("""
            image: busybox
            mounts:
              - type=uds,source=/tmp/a.sock,destination=/run/a.sock
              - type=bind,source=/tmp,destination=/mnt
            """);

        Assert.StartsWith("'mounts[1]' (box.yaml:2) 'type=bind,source=/tmp,destination=/mnt' is not type=uds", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_MountDestinationTwice_Refused()
    {
        var message = Error("""
            image: busybox
            mounts: ["type=uds,source=/tmp/a.sock,destination=/run/s.sock", "type=uds,source=/tmp/b.sock,destination=/run/s.sock"]
            """);

        Assert.Contains("'mounts[1]' (box.yaml:2): the destination '/run/s.sock' is used twice", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_MountsWithoutImage_RefusedPointingAtImage()
    {
        var message = Error("mounts:\n  - type=uds,source=/tmp/a.sock,destination=/run/a.sock\n");

        Assert.StartsWith("'mounts' (box.yaml:1) applies to a box's containers, and a box without an image has none", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_RelativeMountSource_NamesTheEntry()
    {
        var message = Error("image: busybox\nmounts:\n  - type=uds,source=agent.sock,destination=/run/a.sock\n");

        Assert.Contains("'mounts[0]' (box.yaml:2) source 'agent.sock' is not absolute", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/tmp/a.sock", "is not HOST_PATH:BOX_PATH")]
    [InlineData("/tmp/a.sock:run/b.sock", "is not HOST_PATH:BOX_PATH")]
    [InlineData("/missing-dir/a.sock:/run/b.sock", "the directory '/missing-dir' does not exist")]
    public void Yaml_BadSocketForward_NamesTheEntryAndLine(string spec, string why)
    {
        var message = Error($"name: web\nsocket_forwards:\n  - {spec}\n");

        Assert.StartsWith("'socket_forwards[0]' (box.yaml:2)", message, StringComparison.Ordinal);
        Assert.Contains(why, message, StringComparison.Ordinal);
    }

    [Fact]
    public void SocketForward_HostPathOverSunPath_Refused()
    {
        var longPath = "/tmp/" + new string('s', 110) + ".sock";

        var ex = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithSocketForward(longPath, "/run/a.sock").Build());

        Assert.Equal(CocoonErrorCode.InvalidArgument, ex.Code);
        Assert.Contains("socket_forwards[0] host path", ex.Message, StringComparison.Ordinal);
        Assert.Contains("107-byte limit", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SocketForward_HostPathIsARegularFile_RefusedAndFileKept()
    {
        var file = Path.Combine(_directory, "notes.txt");
        File.WriteAllText(file, "keep me");

        var ex = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithSocketForward(file, "/run/a.sock").Build());

        Assert.Equal($"socket_forwards[0] host path '{file}' exists and is not a socket; remove it or pick another path", ex.Message);
        Assert.Equal("keep me", File.ReadAllText(file));
    }

    [Fact]
    public void SocketForward_HostPathIsAStaleSocket_Accepted()
    {
        var path = Path.Combine(_directory, "stale.sock");
        using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified))
        {
            socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        }

        var config = new BoxOptions("web").WithSocketForward(path, "/run/a.sock").Build();

        Assert.Equal(path, Assert.Single(config.SocketForwards).HostPath);
    }

    [Fact]
    public void SocketForward_SameHostPathTwice_Refused()
    {
        var path = Path.Combine(_directory, "a.sock");

        var ex = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithSocketForward(path, "/run/a.sock").WithSocketForward(path, "/run/b.sock").Build());

        Assert.Contains($"socket_forwards[1] host path '{path}' is used twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SocketForward_BadContainerName_Refused()
    {
        var ex = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithSocketForward(Path.Combine(_directory, "a.sock"), "/run/a.sock", "Bad Name").Build());

        Assert.StartsWith("socket_forwards[0]: container name 'Bad Name' is not valid", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PublishedSocket_Parse_SplitsAtColonSlash()
    {
        Assert.Equal(new PublishedSocket("/tmp/odd:name.sock", "/run/b.sock"), PublishedSocket.Parse("/tmp/odd:name.sock:/run/b.sock", "--socket-forward #1"));
    }
}
