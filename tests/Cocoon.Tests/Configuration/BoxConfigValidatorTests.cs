// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Configuration;

namespace Cocoon.Tests.Configuration;

public sealed class BoxConfigValidatorTests
{
    [Fact]
    public void Build_Defaults_AreOneCpuAnd512MiB()
    {
        var config = new BoxOptions("web").Build();

        Assert.Equal(1, config.Cpus);
        Assert.Equal(512, config.MemoryMiB);
        Assert.Null(config.Image);
        Assert.Empty(config.VsockPorts);
        Assert.Null(config.Cmd);
        Assert.Equal(BoxNetwork.User, config.Network);
    }

    [Fact]
    public void Build_UndefinedNetwork_RefusedNamingNetwork()
    {
        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithNetwork((BoxNetwork)7).Build());

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.StartsWith("network 7 is not a network", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_Fluent_KeepsPortOrderAndValues()
    {
        var config = new BoxOptions("web").WithImage("busybox").WithVsock(3000, "/tmp/b.sock").WithVsock(2000, "/tmp/a.sock")
            .WithEnv("A", "1").WithCmd("sleep", "1").WithDockerSupport().Build();

        Assert.Equal([3000, 2000], config.VsockPorts.Select(p => p.Port));
        Assert.Equal("1", config.Env["A"]);
        Assert.True(config.SupportDocker);
    }

    [Fact]
    public void Build_DockerSupportWithoutImage_InvalidArgumentNamingBoth()
    {
        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithDockerSupport().Build());

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.StartsWith("support_docker applies to a box's containers", e.Message, StringComparison.Ordinal);
        Assert.Contains("(image)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    [InlineData(1024)]
    [InlineData(1025)]
    public void Build_BadPort_ThrowsNamingPort(int port)
    {
        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVsock(port, "/tmp/a.sock").Build());

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.Contains("vsock_ports[0].port", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DuplicatePort_Refused()
    {
        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVsock(2000, "/tmp/a").WithVsock(2000, "/tmp/b").Build());

        Assert.Contains("listed twice", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relative.sock")]
    [InlineData("")]
    public void Build_NonAbsoluteSocketPath_Refused(string path)
    {
        Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVsock(2000, path).Build());
    }

    [Fact]
    public void Build_SocketPathOverSunPath_RefusedWithLength()
    {
        var path = "/" + new string('s', 107);

        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVsock(2000, path).Build());

        Assert.Contains("108 bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Validate_CpusOutOfHostRange_Refused(int cpus)
    {
        var e = Assert.Throws<CocoonException>(() => BoxConfigValidator.Validate(new BoxOptions("web") { Cpus = cpus }, FieldNames.Sdk, hostCpus: 2));

        Assert.Contains("1 to 2", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1BAD")]
    [InlineData("A-B")]
    [InlineData("")]
    public void Build_BadEnvKey_Refused(string key)
    {
        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithEnv(key, "v").Build());

        Assert.Contains($"'{key}'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WorkingDirAndUser_KeptForTheBoxsContainer()
    {
        var config = new BoxOptions("web").WithImage("busybox").WithWorkingDir("/srv").WithUser("nobody").Build();

        Assert.Equal("/srv", config.WorkingDir);
        Assert.Equal("nobody", config.User);
    }

    [Theory]
    [InlineData("working_dir", "/srv", null, "box without an image")]
    [InlineData("user", null, "1000", "box without an image")]
    public void Build_WorkingDirOrUserWithoutImage_RefusedNamingIt(string field, string? workingDir, string? user, string reason)
    {
        var options = new BoxOptions("web") { WorkingDir = workingDir, User = user };

        var e = Assert.Throws<CocoonException>(() => options.Build());

        Assert.StartsWith(field + " ", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("srv", null, "working_dir 'srv' is not an absolute path")]
    [InlineData(null, "", "user '' is not a user")]
    [InlineData(null, "a b", "user 'a b' is not a user")]
    public void Build_BadWorkingDirOrUser_RefusedNamingIt(string? workingDir, string? user, string message)
    {
        var options = new BoxOptions("web") { Image = "busybox", WorkingDir = workingDir, User = user };

        var e = Assert.Throws<CocoonException>(() => options.Build());

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("512", 512)]
    [InlineData("512M", 512)]
    [InlineData("512MiB", 512)]
    [InlineData("1G", 1024)]
    [InlineData("2gib", 2048)]
    [InlineData("1T", 1024 * 1024)]
    public void MemorySize_Parse_Units(string text, int mib) => Assert.Equal(mib, MemorySize.Parse(text, "memory"));

    [Theory]
    [InlineData("lots")]
    [InlineData("1.5G")]
    [InlineData("-1")]
    public void MemorySize_Parse_BadText_Refused(string text)
    {
        var e = Assert.Throws<CocoonException>(() => MemorySize.Parse(text, "--memory"));

        Assert.Contains("--memory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureHostCanProvide_MoreThanTheHostHas_RefusedNamingBoth()
    {
        var meminfo = Path.GetTempFileName();
        File.WriteAllText(meminfo, "MemTotal:       24604844 kB\nMemFree:         1000 kB\n");
        try
        {
            var e = Assert.Throws<CocoonException>(() => MemorySize.EnsureHostCanProvide(1000 * 1024, "big", meminfo));

            Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
            Assert.Contains("1024000 MiB", e.Message, StringComparison.Ordinal);
            Assert.Contains("24028 MiB", e.Message, StringComparison.Ordinal);
            MemorySize.EnsureHostCanProvide(512, "small", meminfo);
        }
        finally
        {
            File.Delete(meminfo);
        }
    }

    [Fact]
    public void Build_MemoryTooSmall_Refused()
    {
        Assert.Throws<CocoonException>(() => new BoxOptions("web").WithMemory(32).Build());
    }
}
