// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Oci.Content;

namespace Cocoon.Oci;

/// <summary>What an image says a container should run with (the image config's <c>config</c> object).</summary>
/// <param name="Entrypoint">ENTRYPOINT, in exec form (empty when unset).</param>
/// <param name="Cmd">CMD, in exec form (empty when unset).</param>
/// <param name="Env">Env, <c>KEY=VALUE</c> entries in image order.</param>
/// <param name="WorkingDir">WorkingDir, or null.</param>
/// <param name="User">User (<c>name</c>, <c>uid</c>, <c>uid:gid</c>…), or null for root.</param>
/// <param name="ExposedPorts">ExposedPorts keys (<c>80/tcp</c>), noted, never published by themselves.</param>
public sealed record ImageConfig(
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string> Cmd,
    IReadOnlyList<string> Env,
    string? WorkingDir,
    string? User,
    IReadOnlyList<string> ExposedPorts)
{
    /// <summary>An image that sets nothing.</summary>
    public static readonly ImageConfig Empty = new([], [], [], null, null, []);

    internal static ImageConfig From(OciImageConfigFile file)
    {
        var config = file.Config;
        return config is null ? Empty : new ImageConfig(
            config.Entrypoint ?? [],
            config.Cmd ?? [],
            config.Env ?? [],
            string.IsNullOrEmpty(config.WorkingDir) ? null : config.WorkingDir,
            string.IsNullOrEmpty(config.User) ? null : config.User,
            config.ExposedPorts?.Keys.Order(StringComparer.Ordinal).ToList() ?? []);
    }
}
