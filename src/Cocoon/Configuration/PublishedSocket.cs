// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// A UNIX socket of the box that its supervisor serves on the host for the box's lifetime
/// (<c>--socket-forward HOST_PATH:BOX_PATH</c>, <c>socket_forwards</c> in <c>box.yaml</c>): the
/// supervisor listens at <paramref name="HostPath"/> (owner-only) from before the boot, connects each
/// connection to <paramref name="BoxPath"/> in the box, and removes the host socket when the box
/// stops. It is the forward <c>pod.socketForward.add</c> makes with direction <c>out</c>.
/// </summary>
/// <param name="HostPath">The absolute host socket path; its directory must exist, and nothing but a stale socket may be there.</param>
/// <param name="BoxPath">The absolute socket path in the box (or container).</param>
/// <param name="Container">
/// The container whose socket it is; null for the default: in a box with an image, its first running
/// container when each connection is made (as <c>cocoon exec</c> picks one), otherwise the box's own.
/// </param>
public sealed record PublishedSocket(string HostPath, string BoxPath, string? Container = null)
{
    /// <summary>The CLI's spelling, <c>HOST_PATH:BOX_PATH</c> (the container is not part of it).</summary>
    /// <returns>For example <c>/tmp/db.sock:/run/postgresql/.s.PGSQL.5432</c>.</returns>
    public override string ToString() => $"{HostPath}:{BoxPath}";

    /// <summary>
    /// Parses <c>HOST_PATH:BOX_PATH</c> (as <c>cocoon socket-forward</c> takes it): split at the first
    /// ':' followed by '/', both paths checked (absolute, no NUL, within sun_path).
    /// </summary>
    /// <param name="spec">For example <c>/tmp/db.sock:/run/postgresql/.s.PGSQL.5432</c>.</param>
    /// <param name="field">How messages name the value (<c>--socket-forward #1</c>).</param>
    /// <returns>The forward, for the default container.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming <paramref name="field"/> and quoting the spec.</exception>
    public static PublishedSocket Parse(string spec, string field)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(field);
        var split = spec.IndexOf(":/", StringComparison.Ordinal);
        if (split <= 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{field} '{spec}' is not HOST_PATH:BOX_PATH with two absolute paths, for example /tmp/app.sock:/run/app.sock");
        }

        var forward = new PublishedSocket(spec[..split], spec[(split + 1)..]);
        Protocol.UnixSocketPath.EnsureValid(forward.HostPath, $"{field} '{spec}': host path");
        Protocol.UnixSocketPath.EnsureValid(forward.BoxPath, $"{field} '{spec}': box path");
        return forward;
    }
}
