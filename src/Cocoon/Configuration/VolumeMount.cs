// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// A host directory shared into the box (<c>-v HOST_DIR:PATH[:ro]</c>) over virtio-fs: the box's
/// supervisor runs one <c>virtiofsd</c> for it and the guest agent mounts it at
/// <paramref name="GuestPath"/> before any command runs (docs/architecture.md §2.11).
/// </summary>
/// <param name="HostPath">An existing host directory, as an absolute path.</param>
/// <param name="GuestPath">Where the box sees it: an absolute guest path.</param>
/// <param name="ReadOnly">Whether writes are refused, by the guest mount and by virtiofsd on the host.</param>
public sealed record VolumeMount(string HostPath, string GuestPath, bool ReadOnly = false)
{
    /// <summary>
    /// Whether file systems the host mounts beneath <see cref="HostPath"/> while the box runs appear
    /// in the box (HostPath must then be a shared mount, see mount_namespaces(7)). Each such mount
    /// keeps its own flags, so mount it read-only to keep it read-only in the box. Read-write volumes
    /// follow host mounts this way always (virtiofsd's namespace is a slave of the host's); a
    /// read-only volume follows them only when this is set, and otherwise shows HostPath's own file
    /// system alone. The containerd shim sets it to bring a pod's later containers into its box.
    /// </summary>
    public bool FollowsHostMounts { get; init; }

    /// <summary>The docker-style spelling, <c>HOST_DIR:PATH[:ro]</c>.</summary>
    /// <returns>For example <c>/srv/data:/data:ro</c>.</returns>
    public override string ToString() => $"{HostPath}:{GuestPath}{(ReadOnly ? ":ro" : string.Empty)}";

    /// <summary>
    /// Parses docker's <c>-v HOST_DIR:PATH[:ro|:rw]</c> spelling; the parts are checked later by the
    /// box validator.
    /// </summary>
    /// <param name="spec">The flag's value.</param>
    /// <param name="field">How messages name the flag.</param>
    /// <returns>The volume.</returns>
    /// <exception cref="CocoonException">InvalidArgument: not two or three parts, or a mode other than ro or rw.</exception>
    public static VolumeMount Parse(string spec, string field)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var parts = spec.Split(':');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || parts[1].Length == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} '{spec}' is not HOST_DIR:PATH[:ro] (for example /srv/data:/data or /srv/data:/data:ro)");
        }

        var readOnly = parts.Length == 3 ? parts[2] switch
        {
            "ro" => true,
            "rw" => false,
            _ => throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} '{spec}': mode '{parts[2]}' is not supported; use ro or rw"),
        } : false;
        return new VolumeMount(parts[0], parts[1], readOnly);
    }
}
