// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Oci.Tests;

public sealed class ImageReferenceTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("busybox:1.36", "docker.io", "library/busybox", "1.36", null, "docker.io/library/busybox:1.36")]
    [InlineData("library/busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("docker.io/busybox", "docker.io", "library/busybox", "latest", null, "docker.io/library/busybox:latest")]
    [InlineData("index.docker.io/user/app", "docker.io", "user/app", "latest", null, "docker.io/user/app:latest")]
    [InlineData("user/app:v2", "docker.io", "user/app", "v2", null, "docker.io/user/app:v2")]
    [InlineData("localhost/app", "localhost", "app", "latest", null, "localhost/app:latest")]
    [InlineData("localhost:5000/a/b:t", "localhost:5000", "a/b", "t", null, "localhost:5000/a/b:t")]
    [InlineData("host:5000/a/b:t", "host:5000", "a/b", "t", null, "host:5000/a/b:t")]
    [InlineData("registry.example.com/team/app", "registry.example.com", "team/app", "latest", null, "registry.example.com/team/app:latest")]
    [InlineData("127.0.0.1:5000/app", "127.0.0.1:5000", "app", "latest", null, "127.0.0.1:5000/app:latest")]
    [InlineData("[::1]:5000/app:x", "[::1]:5000", "app", "x", null, "[::1]:5000/app:x")]
    [InlineData("Host/app", "Host", "app", "latest", null, "Host/app:latest")]
    [InlineData("host/app", "docker.io", "host/app", "latest", null, "docker.io/host/app:latest")]
    [InlineData("host:5000", "docker.io", "library/host", "5000", null, "docker.io/library/host:5000")]
    [InlineData("a.b/c__d/e-f_g.h:T_1.x-", "a.b", "c__d/e-f_g.h", "T_1.x-", null, "a.b/c__d/e-f_g.h:T_1.x-")]
    [InlineData("busybox@" + Digest, "docker.io", "library/busybox", null, Digest, "docker.io/library/busybox@" + Digest)]
    [InlineData("localhost:5000/app:1@" + Digest, "localhost:5000", "app", "1", Digest, "localhost:5000/app:1@" + Digest)]
    public void Parse_ValidReference_NormalisedAsDocker(string text, string registry, string repository, string? tag, string? digest, string normalised)
    {
        var reference = ImageReference.Parse(text);

        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(digest, reference.Digest);
        Assert.Equal(normalised, reference.ToString());
        Assert.Equal(reference, ImageReference.Parse(reference.ToString()));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Busybox", "lowercase")]
    [InlineData("busybox:", "tag ''")]
    [InlineData("busybox:-x", "tag '-x'")]
    [InlineData("a//b", "repository")]
    [InlineData("-app", "repository")]
    [InlineData("app-", "repository")]
    [InlineData("app..x", "repository")]
    [InlineData("busybox@sha256:xyz", "not a digest")]
    [InlineData("busybox@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "not a digest")]
    [InlineData("busybox@", "not a digest")]
    [InlineData("localhost:5000/", "repository name is missing")]
    [InlineData("bad_host:5000/app", "registry 'bad_host:5000'")]
    [InlineData("host:port/app", "registry 'host:port'")]
    [InlineData("app name", "repository")]
    public void Parse_MalformedReference_ErrorNamesIt(string text, string reason)
    {
        var error = Assert.Throws<CocoonException>(() => ImageReference.Parse(text));

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OverlongName_Refused()
    {
        var error = Assert.Throws<CocoonException>(() => ImageReference.Parse("localhost/" + new string('a', 250)));

        Assert.Contains("longer than 255", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TagLongerThan128_Refused()
    {
        Assert.Throws<CocoonException>(() => ImageReference.Parse("app:" + new string('t', 129)));
        Assert.Equal(128, ImageReference.Parse("app:" + new string('t', 128)).Tag!.Length);
    }
}
