// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Configuration;
using Cocoon.Protocol;

namespace Cocoon.State;

/// <summary>
/// The boxes under a state root: create, list, get, update runtime facts, remove. Safe between
/// processes: creating and removing hold the registry lock (<c>boxes/.registry.lock</c>), so of two
/// processes creating the same name exactly one wins, and a remove never interleaves with a create.
/// </summary>
/// <remarks>
/// Create:
/// <code>
///   1. validate the config (caller) and the socket path lengths      nothing allocated yet
///   2. lock the registry; refuse a name whose box.json exists        AlreadyExists
///   3. mkdir boxes/&lt;name&gt; (0700)
///   4. allocate the CID                                               one StateStore update
///   5. write box.json                                                 the box now exists
///   on failure after 3: release the CID and delete the directory
/// </code>
/// Remove renames <c>boxes/&lt;name&gt;</c> to <c>boxes/.removing-…</c> first (the box is gone at once,
/// atomically), then frees its CID and deletes the directory. Debris of a crash in either flow (a
/// directory without box.json, a <c>.removing-</c> directory, a CID held by a name without a box)
/// is cleaned up by the next create or remove of that name.
/// </remarks>
internal sealed class BoxRepository
{
    private const string RemovingPrefix = ".removing-";

    private readonly CocoonPaths _paths;
    private readonly CidAllocator _cids;
    private readonly TimeProvider _time;

    /// <summary>Creates a repository over <paramref name="paths"/>.</summary>
    public BoxRepository(CocoonPaths paths, CidAllocator? cids = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        _paths = paths;
        _cids = cids ?? new CidAllocator(paths);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The state layout.</summary>
    public CocoonPaths Paths => _paths;

    /// <summary>The CID allocator.</summary>
    public CidAllocator Cids => _cids;

    /// <summary>Creates a box from a validated config.</summary>
    /// <exception cref="CocoonException">InvalidArgument (socket paths too long), AlreadyExists, ResourceExhausted.</exception>
    public BoxRecord Create(BoxConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var name = BoxName.Validate(config.Name);
        EnsureSocketPathsFit(config);

        Directory.CreateDirectory(_paths.BoxesDirectory);
        using var registry = StateStore.Lock(_paths.RegistryLockTarget);
        var directory = _paths.BoxDirectory(name);
        if (File.Exists(_paths.BoxFile(name)))
        {
            throw new CocoonException(CocoonErrorCode.AlreadyExists, $"a box named '{name}' already exists; pick another name or remove it first (cocoon rm {name})");
        }

        RemoveDebris(name);
        if (OperatingSystem.IsWindows())
        {
            throw new CocoonException(CocoonErrorCode.Unsupported, "Cocoon runs on Linux only");
        }

        // 0700: the box's sockets give control of the guest; only the owner may reach them.
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        uint? cid = null;
        try
        {
            cid = _cids.Allocate(name);
            var record = new BoxRecord
            {
                Name = name,
                Config = config,
                Cid = cid.Value,
                CreatedAt = _time.GetUtcNow(),
            };
            var boxFile = _paths.BoxFile(name);
            using (StateStore.Lock(boxFile))
            {
                StateStore.WriteAtomically(boxFile, Serialize(record));
            }

            StateStore.FsyncDirectory(_paths.BoxesDirectory);
            return record;
        }
        catch
        {
            if (cid is { } allocated)
            {
                _cids.Release(allocated, name);
            }

            Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    /// <summary>Every box, ordered by name. Reads without locking.</summary>
    /// <param name="damaged">When given, receives each box whose state file cannot be read, with why; such boxes are left out of the result.</param>
    public IReadOnlyList<BoxRecord> List(ICollection<(string Name, string Problem)>? damaged = null)
    {
        if (!Directory.Exists(_paths.BoxesDirectory))
        {
            return [];
        }

        var boxes = new List<BoxRecord>();
        foreach (var directory in Directory.EnumerateDirectories(_paths.BoxesDirectory))
        {
            var name = Path.GetFileName(directory);
            if (!BoxName.IsValid(name))
            {
                continue;
            }

            try
            {
                if (TryGet(name) is { } record)
                {
                    boxes.Add(record);
                }
            }
            catch (CocoonException e) when (e.Code == CocoonErrorCode.InvalidState)
            {
                // One damaged box must not hide the others.
                damaged?.Add((name, e.Message));
            }
        }

        boxes.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return boxes;
    }

    /// <summary>The box called <paramref name="name"/>, or null. Reads without locking.</summary>
    public BoxRecord? TryGet(string name) =>
        StateStore.Read(_paths.BoxFile(BoxName.Validate(name)), StateJsonContext.Default.BoxRecord);

    /// <summary>The box called <paramref name="name"/>.</summary>
    /// <exception cref="CocoonException">NotFound.</exception>
    public BoxRecord Get(string name) => TryGet(name) ?? throw NotFound(name);

    /// <summary>
    /// Changes a box's runtime facts (state, pid, times) under its lock. The name, CID and config
    /// cannot change here.
    /// </summary>
    /// <exception cref="CocoonException">NotFound.</exception>
    public BoxRecord Update(string name, Func<BoxRecord, BoxRecord> mutate)
    {
        ArgumentNullException.ThrowIfNull(mutate);
        BoxName.Validate(name);
        if (!Directory.Exists(_paths.BoxesDirectory))
        {
            throw NotFound(name);
        }

        // The registry lock keeps a concurrent remove-and-recreate of the same name from slipping
        // between taking the box's lock and reading its file.
        using var registry = StateStore.Lock(_paths.RegistryLockTarget);
        if (!File.Exists(_paths.BoxFile(name)))
        {
            throw NotFound(name);
        }

        return StateStore.Update(_paths.BoxFile(name), StateJsonContext.Default.BoxRecord, () => throw NotFound(name), current =>
        {
            var next = mutate(current);
            if (next.Name != current.Name || next.Cid != current.Cid || !ReferenceEquals(next.Config, current.Config))
            {
                throw new InvalidOperationException("BoxRepository.Update may change runtime facts only, not the name, CID or config");
            }

            return (next, next);
        });
    }

    /// <summary>Removes a box whatever its state: frees its CID and deletes its directory.</summary>
    /// <exception cref="CocoonException">NotFound.</exception>
    public void Remove(string name)
    {
        BoxName.Validate(name);
        var directory = _paths.BoxDirectory(name);
        if (!Directory.Exists(directory))
        {
            throw NotFound(name);
        }

        using var registry = StateStore.Lock(_paths.RegistryLockTarget);
        if (!Directory.Exists(directory))
        {
            throw NotFound(name);
        }

        var hadBox = File.Exists(_paths.BoxFile(name));
        var doomed = Path.Combine(_paths.BoxesDirectory, $"{RemovingPrefix}{name}-{Guid.NewGuid():N}");
        Directory.Move(directory, doomed);
        StateStore.FsyncDirectory(_paths.BoxesDirectory);
        _cids.ReleaseAll(name);
        Directory.Delete(doomed, recursive: true);
        if (!hadBox)
        {
            // Only the debris of a crashed create was there.
            throw NotFound(name);
        }
    }

    /// <summary>
    /// Refuses a config whose longest socket path would not fit <c>sun_path</c>:
    /// <c>vsock.sock_&lt;largest port&gt;</c>, or <c>control.sock</c> / <c>vsock.sock</c> without ports.
    /// </summary>
    public void EnsureSocketPathsFit(BoxConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var candidates = new List<string> { _paths.VsockSocket(config.Name), _paths.ControlSocket(config.Name) };
        if (config.VsockPorts.Count > 0)
        {
            candidates.Add(_paths.VsockPortSocket(config.Name, config.VsockPorts.Max(p => p.Port)));
        }

        var longest = candidates.MaxBy(UnixSocketPath.ByteLength)!;
        UnixSocketPath.EnsureFits(
            longest,
            $"socket path of box '{config.Name}'",
            $"use a shorter {CocoonPaths.HomeVariable} (now '{_paths.Root}') or a shorter box name");
    }

    private void RemoveDebris(string name)
    {
        foreach (var doomed in Directory.EnumerateDirectories(_paths.BoxesDirectory, RemovingPrefix + "*"))
        {
            Directory.Delete(doomed, recursive: true);
        }

        var directory = _paths.BoxDirectory(name);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static byte[] Serialize(BoxRecord record) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(record, StateJsonContext.Default.BoxRecord);

    private static CocoonException NotFound(string name) =>
        new(CocoonErrorCode.NotFound, $"no box named '{name}'; list boxes with 'cocoon ls'");
}
