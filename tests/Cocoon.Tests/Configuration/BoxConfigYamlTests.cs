// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Configuration;

namespace Cocoon.Tests.Configuration;

public sealed class BoxConfigYamlTests
{
    private static BoxConfig Load(string yaml)
    {
        var (options, names) = BoxConfigYaml.Parse(yaml, "box.yaml");
        return BoxConfigValidator.Validate(options, names, hostCpus: 4);
    }

    private static string Error(string yaml) => Assert.Throws<CocoonException>(() => Load(yaml)).Message;

    [Fact]
    public void Parse_FullFile_MapsEveryKey()
    {
        var config = Load("""
            name: web
            image: busybox
            cpus: 2
            memory: 1G
            network: none
            support_docker: true
            vsock_ports:
              - port: 2000
                path: /tmp/a.sock
              - {port: 2001, path: /tmp/b.sock}
            entrypoint: [/bin/sh, -c]
            cmd: "echo hi"
            working_dir: /srv
            user: "1000:1000"
            env:
              A: "1"
              B: two
            """);

        Assert.Equal("web", config.Name);
        Assert.Equal("busybox", config.Image);
        Assert.Equal(2, config.Cpus);
        Assert.Equal(1024, config.MemoryMiB);
        Assert.True(config.SupportDocker);
        Assert.Equal(BoxNetwork.None, config.Network);
        Assert.Equal([new VsockPort(2000, "/tmp/a.sock"), new VsockPort(2001, "/tmp/b.sock")], config.VsockPorts);
        Assert.Equal(["/bin/sh", "-c"], config.Entrypoint!);
        Assert.Equal(["echo hi"], config.Cmd!);
        Assert.Equal("/srv", config.WorkingDir);
        Assert.Equal("1000:1000", config.User);
        Assert.Equal("two", config.Env["B"]);
    }

    [Fact]
    public void Parse_EnvAsList_Accepted()
    {
        Assert.Equal("x=y", Load("name: web\nenv: [A=x=y]").Env["A"]);
    }

    [Fact]
    public void Parse_UnknownKey_NamesKeyAndLine()
    {
        var message = Error("name: web\ncpu: 2\n");

        Assert.Contains("unknown key 'cpu'", message, StringComparison.Ordinal);
        Assert.Contains("line 2", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SeveralUnknownKeys_NamesEveryOne()
    {
        var message = Error("name: web\ncpu: 2\nmemroy: 1G\nimage: x\nenvs: {}\n");

        Assert.Contains("unknown keys 'cpu' (line 2), 'memroy' (line 3), 'envs' (line 5)", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownPortKey_Named()
    {
        Assert.Contains("vsock_ports[0].socket", Error("name: web\nvsock_ports:\n  - port: 2000\n    socket: /a\n"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name: web\ncpus: two", "'cpus' must be an integer")]
    [InlineData("name: web\ncpus: \"2\"", "'cpus' must be an integer")]
    [InlineData("name: web\nsupport_docker: yes", "'support_docker' must be a boolean")]
    [InlineData("name: [a]", "'name' must be a string")]
    [InlineData("name: web\nvsock_ports: 2000", "'vsock_ports' must be a list")]
    [InlineData("name: web\nenv: 3", "'env' must be a map")]
    [InlineData("name: web\nmemory: lots", "'memory' (box.yaml:2) 'lots' is not a memory size")]
    [InlineData("name: web\nnetwork: host", "'network' (box.yaml:2) 'host' is not supported: use user")]
    public void Parse_WrongType_NamesKeyAndExpectedType(string yaml, string expected)
    {
        Assert.Contains(expected, Error(yaml), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadPort_NamesEntryAndLine()
    {
        var message = Error("name: web\nvsock_ports:\n  - port: 70000\n    path: /tmp/a\n");

        Assert.Contains("'vsock_ports[0].port' (box.yaml:2) 70000 is out of range", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadPublish_NamesKeyEntryAndLine()
    {
        var message = Error("name: web\npublish:\n  - 8080:80\n  - 80\n");

        Assert.Equal("'publish[1]' (box.yaml:2) '80' is not valid; use [IP:]HOSTPORT:PORT[/udp], for example 8080:80 or 127.0.0.1:8080:80", message);
    }

    [Fact]
    public void Parse_DuplicatePort_Refused()
    {
        var message = Error("name: web\nvsock_ports:\n  - {port: 2000, path: /tmp/a}\n  - {port: 2000, path: /tmp/b}\n");

        Assert.Contains("'vsock_ports[1].port'", message, StringComparison.Ordinal);
        Assert.Contains("listed twice", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingPortPath_Refused()
    {
        Assert.Contains("needs both 'port' and 'path'", Error("name: web\nvsock_ports:\n  - port: 2000\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidYaml_NamesFile()
    {
        Assert.Contains("box.yaml", Error("name: [web\n"), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TopLevelList_Refused()
    {
        Assert.Contains("top level must be a mapping", Error("- a\n- b\n"), StringComparison.Ordinal);
    }
}
