// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Configuration;

namespace Cocoon.Tests.Configuration;

/// <summary>Volumes (<c>-v HOST_DIR:PATH[:ro]</c>) through the one validator: SDK, YAML and flags.</summary>
public sealed class VolumeValidationTests : IDisposable
{
    private readonly string _host = Directory.CreateTempSubdirectory("cocoon-vol-").FullName;

    public void Dispose() => Directory.Delete(_host, recursive: true);

    [Fact]
    public void Build_Volumes_KeptInOrderNormalized()
    {
        var config = new BoxOptions("web").WithVolume(_host + "/", "/data/").WithVolume(_host, "//etc//app", readOnly: true).Build();

        Assert.Equal([new VolumeMount(_host, "/data"), new VolumeMount(_host, "/etc/app", ReadOnly: true)], config.Volumes);
    }

    [Fact]
    public void Build_MissingHostDirectory_NamesItAndSaysCreate()
    {
        var missing = Path.Combine(_host, "nope");

        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVolume(missing, "/data").Build());

        Assert.Equal(CocoonErrorCode.InvalidArgument, e.Code);
        Assert.Contains($"'{missing}' does not exist", e.Message, StringComparison.Ordinal);
        Assert.Contains("volumes[0]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_HostFile_RefusedAsNotADirectory()
    {
        var file = Path.Combine(_host, "f");
        File.WriteAllText(file, "x");

        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVolume(file, "/data").Build());

        Assert.Contains("is a file", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("data", "must be an absolute path")]
    [InlineData("/a/../b", "without '.' or '..'")]
    [InlineData("/", "reserved")]
    [InlineData("/proc", "reserved")]
    [InlineData("/dev/x", "reserved")]
    public void Build_BadGuestPath_Refused(string guest, string expected)
    {
        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVolume(_host, guest).Build());

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_RelativeHostPath_Refused()
    {
        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVolume("data", "/data").Build());

        Assert.Contains("must be an absolute path", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_DuplicateGuestPath_Refused()
    {
        var e = Assert.Throws<CocoonException>(() => new BoxOptions("web").WithVolume(_host, "/data").WithVolume(_host, "/data/").Build());

        Assert.Contains("'/data' is used twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_TooManyVolumes_Refused()
    {
        var options = new BoxOptions("web");
        for (var i = 0; i <= BoxConfigValidator.MaxVolumes; i++)
        {
            options.WithVolume(_host, "/v" + i);
        }

        var e = Assert.Throws<CocoonException>(() => options.Build());

        Assert.Contains("more than the 8", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/a:/b", false)]
    [InlineData("/a:/b:rw", false)]
    [InlineData("/a:/b:ro", true)]
    public void Parse_Spec_ReadsMode(string spec, bool readOnly)
    {
        var volume = VolumeMount.Parse(spec, "--volume");

        Assert.Equal(new VolumeMount("/a", "/b", readOnly), volume);
        Assert.Equal(readOnly ? "/a:/b:ro" : "/a:/b", volume.ToString());
    }

    [Theory]
    [InlineData("/a:/b:rx", "mode 'rx' is not supported; use ro or rw")]
    [InlineData("/a", "is not HOST_DIR:PATH[:ro]")]
    [InlineData("/a:/b:ro:x", "is not HOST_DIR:PATH[:ro]")]
    [InlineData(":/b", "is not HOST_DIR:PATH[:ro]")]
    public void Parse_BadSpec_NamesFlag(string spec, string expected)
    {
        var e = Assert.Throws<CocoonException>(() => VolumeMount.Parse(spec, "--volume #1"));

        Assert.Contains("--volume #1", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Yaml_Volumes_ParsedAndValidated()
    {
        var (options, names) = BoxConfigYaml.Parse($"name: web\nvolumes:\n  - {_host}:/data:ro\n", "box.yaml");

        var config = BoxConfigValidator.Validate(options, names);

        Assert.Equal([new VolumeMount(_host, "/data", ReadOnly: true)], config.Volumes);
    }

    [Fact]
    public void Yaml_MissingHostDirectory_NamesKeyAndLine()
    {
        var (options, names) = BoxConfigYaml.Parse("name: web\nvolumes: [/no/such/dir:/data]\n", "box.yaml");

        var e = Assert.Throws<CocoonException>(() => BoxConfigValidator.Validate(options, names));

        Assert.Contains("'volumes[0]' (box.yaml:2)", e.Message, StringComparison.Ordinal);
    }
}
