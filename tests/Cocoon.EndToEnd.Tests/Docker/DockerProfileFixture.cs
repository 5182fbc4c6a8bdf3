// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Containers;

namespace Cocoon.EndToEnd.Tests.Docker;

/// <summary>The box of <see cref="DockerProfileTests"/>: a busybox image (ENTRYPOINT <c>/bin/sh</c>) in a box created with <c>--support-docker</c>.</summary>
public sealed class DockerProfileFixture : ImageBoxFixture
{
    protected override IReadOnlyList<string> ImageConfig => ["--config.entrypoint", "/bin/sh", "--config.env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"];

    protected override BoxOptions BoxOptionsFor(string image) => new BoxOptions("dkp").WithImage(image).WithDockerSupport();
}
