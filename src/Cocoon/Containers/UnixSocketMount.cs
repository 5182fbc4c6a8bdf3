// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// A host UNIX socket seen inside a container (<c>--mount type=uds,source=HOST_SOCKET,destination=PATH</c>,
/// docs/architecture.md §6b): the box's supervisor keeps a socket forward into the container, whose
/// listener in the box is bind-mounted at <see cref="Destination"/>; each connection made there is
/// connected to <see cref="Source"/> on the host.
/// </summary>
/// <param name="Source">The host socket; it need not exist yet (a connection made while it is absent is closed at once).</param>
/// <param name="Destination">The absolute socket path in the container.</param>
public sealed record UnixSocketMount(string Source, string Destination)
{
    /// <summary>Parses <c>type=uds,source=HOST_SOCKET,destination=PATH</c> (<c>src</c>, <c>dst</c> and <c>target</c> are accepted too, as in Docker).</summary>
    /// <param name="spec">The <c>--mount</c> value.</param>
    /// <returns>The mount, with both paths checked.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming what is wrong with <paramref name="spec"/>.</exception>
    public static UnixSocketMount Parse(string spec) => Parse(spec, "--mount");

    /// <summary>Parses <c>type=uds,source=HOST_SOCKET,destination=PATH</c> as <see cref="Parse(string)"/> does.</summary>
    /// <param name="spec">The mount's spelling.</param>
    /// <param name="field">How messages name it (<c>--mount #2</c>, <c>'mounts[1]' (box.yaml:7)</c>).</param>
    /// <returns>The mount, with both paths checked.</returns>
    /// <exception cref="CocoonException">InvalidArgument naming <paramref name="field"/> and what is wrong with <paramref name="spec"/>.</exception>
    public static UnixSocketMount Parse(string spec, string field)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(field);
        string? type = null, source = null, destination = null;
        foreach (var part in spec.Split(','))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? null : part[(equals + 1)..];
            switch (key)
            {
                case "type" when value is not null:
                    type = value;
                    break;
                case "source" or "src" when value is not null:
                    source = value;
                    break;
                case "destination" or "dst" or "target" when value is not null:
                    destination = value;
                    break;
                default:
                    throw Invalid(field, spec, $"'{part}' is not one of type=, source=, destination=");
            }
        }

        if (type != "uds")
        {
            throw Invalid(field, spec, type is null ? "it has no type=uds" : $"type '{type}' is not served; only type=uds (a host UNIX socket)");
        }

        if (source is null || destination is null)
        {
            throw Invalid(field, spec, $"it needs {(source is null ? "source=HOST_SOCKET" : "destination=PATH")}");
        }

        var mount = new UnixSocketMount(source, destination);
        mount.Validate(field);
        return mount;
    }

    /// <summary>Checks both paths (absolute, no NUL, within a socket address's 107 bytes).</summary>
    /// <exception cref="CocoonException">InvalidArgument naming the bad path.</exception>
    public void Validate() => Validate("uds mount");

    /// <summary>Checks both paths; messages name <paramref name="field"/>.</summary>
    internal void Validate(string field)
    {
        Protocol.UnixSocketPath.EnsureValid(Source, $"{field} source");
        Protocol.UnixSocketPath.EnsureValid(Destination, $"{field} destination");
    }

    private static CocoonException Invalid(string field, string spec, string why) =>
        new(CocoonErrorCode.InvalidArgument, $"{field} '{spec}' is not type=uds,source=HOST_SOCKET,destination=PATH: {why}");
}
