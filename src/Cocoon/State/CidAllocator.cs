// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using Cocoon.Protocol;

namespace Cocoon.State;

/// <summary>
/// Hands out vsock context ids (CIDs) to boxes, persisted in <c>vsock/cids.json</c> as
/// <c>{"cid": "box"}</c>. CIDs 0–2 are the hypervisor, local and host; the guest range is 3 to
/// 2^32−2 (0xFFFFFFFF is VMADDR_CID_ANY). The lowest free CID is handed out first. Each allocate
/// and each release is one <see cref="StateStore.Update{T, TResult}"/>, so processes never hand out
/// the same CID twice.
/// </summary>
internal sealed class CidAllocator
{
    /// <summary>The first guest CID.</summary>
    public const uint FirstGuestCid = VsockCids.FirstGuest;

    /// <summary>The last guest CID (2^32 − 2).</summary>
    public const uint LastGuestCid = VsockCids.LastGuest;

    private readonly CocoonPaths _paths;

    /// <summary>Creates an allocator over the full guest range, or over [<paramref name="first"/>, <paramref name="last"/>] (tests).</summary>
    public CidAllocator(CocoonPaths paths, uint first = FirstGuestCid, uint last = LastGuestCid)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentOutOfRangeException.ThrowIfLessThan(first, FirstGuestCid);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(last, LastGuestCid);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first, last);
        _paths = paths;
        First = first;
        Last = last;
    }

    /// <summary>The lowest CID this allocator hands out.</summary>
    public uint First { get; }

    /// <summary>The highest CID this allocator hands out.</summary>
    public uint Last { get; }

    /// <summary>
    /// Reserves the lowest free CID for <paramref name="owner"/>. An owner holds at most one CID: a
    /// CID it still holds is dropped in the same update. Callers allocate only for a box name they
    /// have just claimed, so such a CID can only be left over from a crash.
    /// </summary>
    /// <exception cref="CocoonException">ResourceExhausted when every CID in range is taken.</exception>
    public uint Allocate(string owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        Directory.CreateDirectory(_paths.VsockDirectory);
        return StateStore.Update(_paths.CidsFile, StateJsonContext.Default.CidTable, NewTable, table =>
        {
            table.RemoveAll(owner);
            var cid = table.LowestFree(First, Last) ?? throw Exhausted();
            table.Add(cid, owner);
            return (table, cid);
        });
    }

    /// <summary>
    /// Frees <paramref name="cid"/> when <paramref name="owner"/> holds it. Releasing a CID that is
    /// not allocated, or that another box holds, is a no-op that returns false: removal stays
    /// idempotent (a remove that crashed half-way can be repeated) and can never free another box's CID.
    /// </summary>
    /// <returns>True when the CID was freed.</returns>
    public bool Release(uint cid, string owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        if (!File.Exists(_paths.CidsFile))
        {
            return false;
        }

        return StateStore.Update(_paths.CidsFile, StateJsonContext.Default.CidTable, NewTable, table => (table, table.Remove(cid, owner)));
    }

    /// <summary>Frees every CID held by <paramref name="owner"/> (cleanup after a crashed create); returns how many.</summary>
    public int ReleaseAll(string owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        if (!File.Exists(_paths.CidsFile))
        {
            return 0;
        }

        return StateStore.Update(_paths.CidsFile, StateJsonContext.Default.CidTable, NewTable, table => (table, table.RemoveAll(owner)));
    }

    /// <summary>The current allocations, read without locking.</summary>
    public IReadOnlyDictionary<uint, string> Snapshot() =>
        StateStore.Read(_paths.CidsFile, StateJsonContext.Default.CidTable)?.ToDictionary() ?? new Dictionary<uint, string>();

    private CocoonException Exhausted() => new(
        CocoonErrorCode.ResourceExhausted,
        $"no free vsock CID: all {((ulong)Last - First + 1).ToString(CultureInfo.InvariantCulture)} CIDs from {First} to {Last} are in use; remove boxes you no longer need (cocoon rm)");

    private static CidTable NewTable() => new();
}
