// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device.Abi;

namespace Cocoon.Vsock.Device.Memory;

/// <summary>
/// The guest's RAM as the VMM shared it: a small table of regions, each known by its guest
/// physical range, its range in the VMM's address space and our mapping. This is the only type
/// that turns a guest-supplied address into a host pointer; every translation is checked with
/// overflow-safe arithmetic against one region, so a range that leaves a region is either cut at
/// the region's end (<see cref="TryTranslateGpa"/>, callers loop) or refused.
/// </summary>
internal sealed class GuestMemory : IDisposable
{
    /// <summary>QEMU sends at most this many regions (VHOST_MEMORY_BASELINE_NREGIONS).</summary>
    internal const int MaxRegions = 8;

    private readonly Region[] _regions;
    private readonly MappedMemory[] _mappings;

    private GuestMemory(Region[] regions, MappedMemory[] mappings)
    {
        _regions = regions;
        _mappings = mappings;
    }

    /// <summary>Called with every host range handed out (tests assert bounds through it).</summary>
    internal Action<nint, ulong>? TranslationObserver { get; set; }

    /// <summary>The number of regions.</summary>
    public int RegionCount => _regions.Length;

    /// <summary>Total guest RAM described, in bytes.</summary>
    public ulong TotalSize
    {
        get
        {
            ulong total = 0;
            foreach (var r in _regions)
            {
                total += r.Size;
            }

            return total;
        }
    }

    /// <summary>
    /// Validates a SET_MEM_TABLE region list and maps every region from its fd. The fds are not
    /// consumed; the caller closes them afterwards (the mappings keep the memory alive).
    /// </summary>
    public static GuestMemory Map(ReadOnlySpan<VhostUserMemoryRegion> table, IReadOnlyList<SafeFdHandle> fds)
    {
        Validate(table);
        if (fds.Count != table.Length)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Memory table has {table.Length} regions but {fds.Count} fds.");
        }

        var regions = new Region[table.Length];
        var mappings = new MappedMemory[table.Length];
        try
        {
            for (int i = 0; i < table.Length; i++)
            {
                var t = table[i];

                // Map from file offset 0 like libvhost-user: hugepage fds need aligned offsets.
                mappings[i] = Interop.MapShared(fds[i], t.MmapOffset + t.MemorySize, "mmap(guest memory region)");
                regions[i] = new Region(t.GuestPhysAddr, t.MemorySize, t.UserspaceAddr, mappings[i].Address + (nint)t.MmapOffset);
            }
        }
        catch
        {
            foreach (var m in mappings)
            {
                m?.Dispose();
            }

            throw;
        }

        return new GuestMemory(regions, mappings);
    }

    /// <summary>Builds a table over memory the caller owns (tests: fake guest RAM).</summary>
    internal static GuestMemory FromHost(ReadOnlySpan<(ulong Gpa, ulong Size, ulong Qva, nint Host)> regions)
    {
        var table = new VhostUserMemoryRegion[regions.Length];
        var result = new Region[regions.Length];
        for (int i = 0; i < regions.Length; i++)
        {
            table[i] = new VhostUserMemoryRegion { GuestPhysAddr = regions[i].Gpa, MemorySize = regions[i].Size, UserspaceAddr = regions[i].Qva };
            result[i] = new Region(regions[i].Gpa, regions[i].Size, regions[i].Qva, regions[i].Host);
        }

        Validate(table);
        return new GuestMemory(result, []);
    }

    private static void Validate(ReadOnlySpan<VhostUserMemoryRegion> table)
    {
        if (table.Length is < 1 or > MaxRegions)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Memory table has {table.Length} regions; expected 1 to {MaxRegions}.");
        }

        for (int i = 0; i < table.Length; i++)
        {
            var t = table[i];
            if (t.MemorySize == 0
                || t.GuestPhysAddr > ulong.MaxValue - t.MemorySize
                || t.UserspaceAddr > ulong.MaxValue - t.MemorySize
                || t.MmapOffset > ulong.MaxValue - t.MemorySize
                || t.MmapOffset + t.MemorySize > long.MaxValue)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Memory region {i} (gpa 0x{t.GuestPhysAddr:x}, size 0x{t.MemorySize:x}, offset 0x{t.MmapOffset:x}) is empty or overflows.");
            }

            for (int j = 0; j < i; j++)
            {
                var o = table[j];
                if (t.GuestPhysAddr < o.GuestPhysAddr + o.MemorySize && o.GuestPhysAddr < t.GuestPhysAddr + t.MemorySize)
                {
                    throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Memory regions {j} and {i} overlap in guest physical space.");
                }
            }
        }
    }

    /// <summary>
    /// Translates the start of a guest-physical range: on success <paramref name="host"/> points at
    /// <paramref name="gpa"/> and <paramref name="contiguous"/> (1..<paramref name="length"/>) bytes
    /// from there lie in one region. Callers advance and call again for the rest.
    /// </summary>
    public bool TryTranslateGpa(ulong gpa, ulong length, out nint host, out ulong contiguous)
    {
        foreach (ref readonly var r in _regions.AsSpan())
        {
            // Overflow-safe: gpa - r.Gpa is computed only when gpa >= r.Gpa.
            if (gpa >= r.Gpa && gpa - r.Gpa < r.Size)
            {
                ulong offset = gpa - r.Gpa;
                ulong left = r.Size - offset;
                contiguous = length < left ? length : left;
                host = r.Host + (nint)offset;
                TranslationObserver?.Invoke(host, contiguous);
                return length > 0;
            }
        }

        host = 0;
        contiguous = 0;
        return false;
    }

    /// <summary>Translates a whole guest-physical range that must lie in one region.</summary>
    public unsafe bool TryGetSpan(ulong gpa, int length, out Span<byte> span)
    {
        if (length >= 0 && TryTranslateGpa(gpa, (ulong)length, out nint host, out ulong contiguous) && contiguous == (ulong)length)
        {
            // SAFETY: [host, host + length) lies inside one live region mapping (checked above).
            span = new Span<byte>((void*)host, length);
            return true;
        }

        span = default;
        return false;
    }

    /// <summary>Translates a VMM virtual address range (ring addresses) that must lie in one region.</summary>
    public bool TryTranslateQva(ulong qva, ulong length, out nint host)
    {
        foreach (ref readonly var r in _regions.AsSpan())
        {
            if (qva >= r.Qva && qva - r.Qva < r.Size && length <= r.Size - (qva - r.Qva))
            {
                host = r.Host + (nint)(qva - r.Qva);
                TranslationObserver?.Invoke(host, length);
                return true;
            }
        }

        host = 0;
        return false;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var m in _mappings)
        {
            m.Dispose();
        }
    }

    private readonly record struct Region(ulong Gpa, ulong Size, ulong Qva, nint Host);
}
