// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Oci.Run.Tests;

/// <summary>The merge against what <c>docker run</c> starts for the same image and flags.</summary>
public sealed class RunSpecTests
{
    private static readonly ImageConfig Nginx = ImageConfig.Empty with
    {
        Entrypoint = ["/docker-entrypoint.sh"],
        Cmd = ["nginx", "-g", "daemon off;"],
        Env = ["PATH=/usr/sbin:/usr/bin", "NGINX_VERSION=1.25"],
        WorkingDir = "/srv",
        User = "nginx",
    };

    private static readonly ImageConfig Busybox = ImageConfig.Empty with { Cmd = ["sh"] };

    public static TheoryData<string, ImageConfig, RunOverrides, string[]> DockerRunTable => new()
    {
        { "docker run nginx", Nginx, new(), ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"] },
        { "docker run nginx sh", Nginx, new() { Arguments = ["sh"] }, ["/docker-entrypoint.sh", "sh"] },
        { "docker run --entrypoint /bin/sh nginx", Nginx, new() { Entrypoint = "/bin/sh" }, ["/bin/sh"] },
        { "docker run --entrypoint /bin/sh nginx -c 'echo hi'", Nginx, new() { Entrypoint = "/bin/sh", Arguments = ["-c", "echo hi"] }, ["/bin/sh", "-c", "echo hi"] },
        { "docker run --entrypoint '' nginx ls /", Nginx, new() { Entrypoint = string.Empty, Arguments = ["ls", "/"] }, ["ls", "/"] },
        { "cocoon run --cmd nginx --cmd -t nginx", Nginx, new() { Cmd = ["nginx", "-t"] }, ["/docker-entrypoint.sh", "nginx", "-t"] },
        { "docker run busybox", Busybox, new(), ["sh"] },
        { "docker run busybox ls -l", Busybox, new() { Arguments = ["ls", "-l"] }, ["ls", "-l"] },
        { "docker run --entrypoint echo busybox hi", Busybox, new() { Entrypoint = "echo", Arguments = ["hi"] }, ["echo", "hi"] },
        { "docker run scratch-app /app", ImageConfig.Empty, new() { Arguments = ["/app"] }, ["/app"] },
    };

    [Theory]
    [MemberData(nameof(DockerRunTable))]
    public void Merge_DockerRunCase_SameArgv(string dockerRun, ImageConfig image, RunOverrides user, string[] argv)
    {
        var process = RunSpec.Merge(image, user, _ => null);

        Assert.True(argv.SequenceEqual(process.Args), $"{dockerRun}: expected [{string.Join(", ", argv)}], got [{string.Join(", ", process.Args)}]");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Merge_NothingToRun_Refused(bool clearEntrypoint)
    {
        var image = clearEntrypoint ? Nginx : ImageConfig.Empty;

        var error = Assert.Throws<CocoonException>(() => RunSpec.Merge(image, new() { Entrypoint = clearEntrypoint ? string.Empty : null }, _ => null));

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains("no ENTRYPOINT or CMD", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_CmdAndArguments_RefusedAsAmbiguous()
    {
        var error = Assert.Throws<CocoonException>(() => RunSpec.Merge(Nginx, new() { Cmd = ["a"], Arguments = ["b"] }, _ => null));

        Assert.Contains("--cmd", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_EnvOverrides_ReplaceInPlaceAddLastCopyFromHost()
    {
        var host = new Dictionary<string, string> { ["FROM_HOST"] = "h", ["NGINX_VERSION"] = "host" };

        var process = RunSpec.Merge(Nginx, new() { Env = ["NGINX_VERSION=2", "EXTRA=x=y", "FROM_HOST", "NOT_ON_HOST", "EMPTY="] }, host.GetValueOrDefault);

        Assert.Equal(["PATH=/usr/sbin:/usr/bin", "NGINX_VERSION=2", "EXTRA=x=y", "FROM_HOST=h", "EMPTY="], process.Env);
    }

    [Fact]
    public void Merge_ImageWithoutPath_GetsDockersDefaultPath()
    {
        var process = RunSpec.Merge(Busybox with { Env = ["A=1"] }, new(), _ => null);

        Assert.Equal(["A=1", RunSpec.DefaultPath], process.Env);
    }

    [Fact]
    public void Merge_WorkingDirAndUser_FlagsThenImageThenDefaults()
    {
        Assert.Equal(("/srv", "nginx"), Pick(RunSpec.Merge(Nginx, new(), _ => null)));
        Assert.Equal(("/tmp", "1000:1000"), Pick(RunSpec.Merge(Nginx, new() { WorkingDir = "/tmp", User = "1000:1000" }, _ => null)));
        Assert.Equal(("/", "0"), Pick(RunSpec.Merge(Busybox, new(), _ => null)));

        static (string, string) Pick(ContainerProcess p) => (p.WorkingDir, p.User);
    }

    [Theory]
    [InlineData("app")]
    [InlineData("./app")]
    public void Merge_RelativeWorkingDir_RefusedNamingFlag(string workingDir)
    {
        var error = Assert.Throws<CocoonException>(() => RunSpec.Merge(Busybox, new() { WorkingDir = workingDir }, _ => null));

        Assert.Contains($"-w '{workingDir}'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("=x")]
    [InlineData("")]
    public void Merge_EnvWithoutName_Refused(string entry)
    {
        Assert.Throws<CocoonException>(() => RunSpec.Merge(Busybox, new() { Env = [entry] }, _ => null));
    }
}
