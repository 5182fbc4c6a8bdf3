// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;

namespace Cocoon.State;

/// <summary>
/// Where Cocoon keeps its host state (docs/architecture.md §2.6). The root is <c>$COCOON_HOME</c>, else
/// <c>$XDG_STATE_HOME/cocoon</c>, else <c>~/.local/state/cocoon</c>: one rule for every user, root
/// included.
/// <code>
/// boxes/&lt;name&gt;/box.json        desired config + runtime facts
/// boxes/&lt;name&gt;/vsock.sock      hybrid vsock UDS (vsock.sock_&lt;port&gt; for guest→host ports)
/// boxes/&lt;name&gt;/console.log     guest serial console
/// boxes/&lt;name&gt;/control.sock    supervisor control API
/// boxes/&lt;name&gt;/vhost.sock      vhost-user socket between the vsock device and QEMU
/// boxes/&lt;name&gt;/supervisor.log  the supervisor's own log
/// vsock/cids.json              CID allocations {cid: box}
/// images/                      image blobs, root filesystems, disks
/// cache/guest/                 built initramfs per hash
/// </code>
/// </summary>
internal sealed class CocoonPaths
{
    /// <summary>The environment variable that overrides the state root.</summary>
    public const string HomeVariable = "COCOON_HOME";

    /// <summary>Creates the layout under an explicit root (made absolute).</summary>
    /// <exception cref="CocoonException">The root, or a directory above it, is a file (InvalidArgument).</exception>
    public CocoonPaths(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));

        // A root under a regular file could never be created; say so now rather than as an empty
        // listing or "Could not find a part of the path" later.
        for (var path = Root; path is not null; path = Path.GetDirectoryName(path))
        {
            if (File.Exists(path))
            {
                throw new CocoonException(
                    CocoonErrorCode.InvalidArgument,
                    $"the state root '{Root}' cannot be a directory: '{path}' is a file; set {HomeVariable} to a directory");
            }

            if (Directory.Exists(path))
            {
                break;
            }
        }
    }

    /// <summary>The state root.</summary>
    public string Root { get; }

    /// <summary>boxes/: one directory per box.</summary>
    public string BoxesDirectory => Path.Combine(Root, "boxes");

    /// <summary>vsock/: the CID table.</summary>
    public string VsockDirectory => Path.Combine(Root, "vsock");

    /// <summary>vsock/cids.json.</summary>
    public string CidsFile => Path.Combine(VsockDirectory, "cids.json");

    /// <summary>images/.</summary>
    public string ImagesDirectory => Path.Combine(Root, "images");

    /// <summary>cache/guest/.</summary>
    public string GuestCacheDirectory => Path.Combine(Root, "cache", "guest");

    /// <summary>cache/scratch/ext4-&lt;size&gt;M.img: the empty scratch disk that boxes' scratch disks of that size copy.</summary>
    public string ScratchTemplate(int sizeMiB) =>
        Path.Combine(Root, "cache", "scratch", string.Create(System.Globalization.CultureInfo.InvariantCulture, $"ext4-{sizeMiB}M.img"));

    /// <summary>
    /// Resolves the root from the environment: <c>$COCOON_HOME</c>, else <c>$XDG_STATE_HOME/cocoon</c>
    /// (only when absolute, as the XDG spec says), else <c>$HOME/.local/state/cocoon</c>.
    /// </summary>
    public static CocoonPaths FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Resolves the root through <paramref name="getVariable"/> (testable form).</summary>
    public static CocoonPaths FromEnvironment(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        var home = getVariable(HomeVariable);
        if (!string.IsNullOrEmpty(home))
        {
            return new CocoonPaths(home);
        }

        var xdg = getVariable("XDG_STATE_HOME");
        if (!string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg))
        {
            return new CocoonPaths(Path.Combine(xdg, "cocoon"));
        }

        var user = getVariable("HOME");
        if (string.IsNullOrEmpty(user))
        {
            user = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        }

        if (string.IsNullOrEmpty(user))
        {
            throw new CocoonException(
                CocoonErrorCode.InvalidArgument,
                $"cannot find a state directory: set {HomeVariable} (or HOME) to a writable directory");
        }

        return new CocoonPaths(Path.Combine(user, ".local", "state", "cocoon"));
    }

    /// <summary>boxes/&lt;name&gt;/.</summary>
    public string BoxDirectory(string name) => Path.Combine(BoxesDirectory, name);

    /// <summary>boxes/&lt;name&gt;/box.json.</summary>
    public string BoxFile(string name) => Path.Combine(BoxDirectory(name), "box.json");

    /// <summary>boxes/&lt;name&gt;/vsock.sock: the hybrid vsock UDS.</summary>
    public string VsockSocket(string name) => Path.Combine(BoxDirectory(name), "vsock.sock");

    /// <summary>boxes/&lt;name&gt;/vsock.sock_&lt;port&gt;: where a guest→host connection to <paramref name="port"/> lands.</summary>
    public string VsockPortSocket(string name, int port) =>
        VsockSocket(name) + "_" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>boxes/&lt;name&gt;/console.log.</summary>
    public string ConsoleLog(string name) => Path.Combine(BoxDirectory(name), "console.log");

    /// <summary>The box log: the agent's log and the box command's output, appended across boots (<c>cocoon logs</c>).</summary>
    public string BoxLog(string name) => Path.Combine(BoxDirectory(name), "box.log");

    /// <summary>boxes/&lt;name&gt;/scratch.ext4: the box's writable disk (container upper layers), sparse.</summary>
    public string ScratchDisk(string name) => Path.Combine(BoxDirectory(name), "scratch.ext4");

    /// <summary>boxes/&lt;name&gt;/control.sock: the supervisor's control API.</summary>
    public string ControlSocket(string name) => Path.Combine(BoxDirectory(name), "control.sock");

    /// <summary>boxes/&lt;name&gt;/vhost.sock: the vhost-user socket between the supervisor's vsock device and QEMU.</summary>
    public string VhostSocket(string name) => Path.Combine(BoxDirectory(name), "vhost.sock");

    /// <summary>boxes/&lt;name&gt;/supervisor.log: the supervisor's output.</summary>
    public string SupervisorLog(string name) => Path.Combine(BoxDirectory(name), "supervisor.log");

    /// <summary>boxes/&lt;name&gt;/fs&lt;index&gt;.sock: the vhost-user socket of volume <paramref name="index"/>'s virtiofsd (while running).</summary>
    public string VolumeSocket(string name, int index) =>
        Path.Combine(BoxDirectory(name), "fs" + index.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".sock");

    /// <summary>The lock that serialises creating and removing boxes (boxes/.registry.lock).</summary>
    internal string RegistryLockTarget => Path.Combine(BoxesDirectory, ".registry");
}
