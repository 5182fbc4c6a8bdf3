// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Shim.Tests;

/// <summary>The shim's command line and the names it derives as containerd does.</summary>
public sealed class ShimCommandLineTests
{
    [Fact]
    public void Parse_ContainerdStartLine_ReadsFlagsAndCommand()
    {
        var parsed = ShimArguments.Parse(["-namespace", "k8s.io", "-address", "/run/containerd/containerd.sock", "-publish-binary", "/usr/bin/containerd", "-id", "abc", "-debug", "start"]);

        Assert.Equal(ShimCommand.Start, parsed.Command);
        Assert.Equal("k8s.io", parsed.Namespace);
        Assert.Equal("abc", parsed.Id);
        Assert.Equal("/run/containerd/containerd.sock", parsed.Address);
        Assert.True(parsed.Debug);
        Assert.Equal(Environment.CurrentDirectory, parsed.Bundle);
    }

    [Fact]
    public void Parse_DeleteWithBundle_UsesIt()
    {
        var parsed = ShimArguments.Parse(["-namespace", "default", "-address", "/c.sock", "-publish-binary", "x", "-id", "t", "-bundle", "/b", "delete"]);

        Assert.Equal(ShimCommand.Delete, parsed.Command);
        Assert.Equal("/b", parsed.Bundle);
    }

    [Theory]
    [InlineData("-namespace default -id t", "no command")]
    [InlineData("-namespace default -id t run", "unknown command 'run'")]
    [InlineData("-id t start", "-namespace is required")]
    [InlineData("-namespace default -bogus 1 -id t start", "unknown flag -bogus")]
    [InlineData("-namespace default start -id", "-id needs a value")]
    public void Parse_BadLine_NamesTheProblem(string line, string expected)
    {
        var error = Assert.Throws<CocoonException>(() => ShimArguments.Parse(line.Split(' ')));

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SocketAddress_IsSha256OfAddressNamespaceAndId()
    {
        // sha256("/run/containerd/containerd.sock/default/t1"), computed independently.
        Assert.Equal(
            "unix:///run/containerd/s/df6a0c5cd2e9a1a16d9a3f2447365d9fc6021bc1d3d9a4caa2f5b2c4f773758f",
            ShimAddress.For("/run/containerd/containerd.sock", "default", "t1"));
    }

    [Fact]
    public void BoxName_IsAValidShortBoxNamePerNamespaceAndSandbox()
    {
        var name = ShimAddress.BoxName("k8s.io", new string('f', 64));

        Assert.Matches("^ctrd-[0-9a-f]{16}$", name);
        Assert.NotEqual(name, ShimAddress.BoxName("default", new string('f', 64)));
    }

    [Theory]
    [InlineData("echo-task", "echo-task")]
    [InlineData("My_Task:1", "my_task-1")]
    [InlineData("--x", "x")]
    [InlineData("::", "task")]
    [InlineData("ÄÖ-long-id-0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "long-id-0123456789abcdef0123456789abcdef0123456789abcdef01234567")]
    public void ContainerName_FromContainerdId_IsValidForTheAgent(string id, string expected)
    {
        var name = TaskService.ContainerName(id);

        Assert.Equal(expected, name);
        Assert.True(Cocoon.Protocol.ContainerName.IsValid(name), $"'{name}' breaks the container name rule");
    }

    [Fact]
    public void Bundle_Load_ReadsProcessAndSandboxAnnotation()
    {
        var dir = Directory.CreateTempSubdirectory("bundle-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), """
                {"process":{"args":["sh","-c","exit 3"],"env":["PATH=/bin","A=b"],"cwd":"/work","terminal":true,"user":{"uid":1000,"gid":100}},
                 "annotations":{"io.kubernetes.cri.sandbox-id":"pod1"}}
                """);

            var bundle = OciBundle.Load(dir.FullName);

            Assert.Equal(["sh", "-c", "exit 3"], bundle.Process.Args);
            Assert.Equal(["PATH=/bin", "A=b"], bundle.Process.Env);
            Assert.Equal("/work", bundle.Process.Cwd);
            Assert.Equal("1000:100", bundle.Process.User);
            Assert.True(bundle.Process.Terminal);
            Assert.Equal("pod1", bundle.SandboxOf("c1"));
            Assert.Equal("pod1", OciBundle.PeekSandboxId(dir.FullName));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Bundle_Load_WithoutArgs_SaysWhatIsMissing()
    {
        var dir = Directory.CreateTempSubdirectory("bundle-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "config.json"), """{"process":{"args":[]}}""");

            var error = Assert.Throws<CocoonException>(() => OciBundle.Load(dir.FullName));

            Assert.Contains("process.args is empty", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
