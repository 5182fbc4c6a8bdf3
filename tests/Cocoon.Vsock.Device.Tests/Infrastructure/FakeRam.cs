// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device.Memory;

namespace Cocoon.Vsock.Device.Tests.Infrastructure;

/// <summary>
/// Fake guest RAM: one region at <see cref="GpaBase"/> (and a different fake VMM address,
/// <see cref="QvaBase"/>, so the two translations cannot be confused). The anonymous flavour sits
/// between PROT_NONE guard pages, so any access outside the region kills the test process.
/// </summary>
internal sealed class FakeRam : IDisposable
{
    public const ulong GpaBase = 0x4000_0000;
    public const ulong QvaBase = 0x7f00_1234_0000;
    private const ulong Guard = 64 * 1024;

    private readonly MappedMemory _mapping;
    private readonly GuestMemory _view;
    private ulong _next;

    private FakeRam(MappedMemory mapping, nint host, ulong size, SafeFdHandle? fd)
    {
        _mapping = mapping;
        Host = host;
        Size = size;
        Fd = fd;
        _view = GuestMemory.FromHost([(GpaBase, size, QvaBase, host)]);
    }

    public nint Host { get; }

    public ulong Size { get; }

    /// <summary>The memfd behind the RAM (memfd flavour only).</summary>
    public SafeFdHandle? Fd { get; }

    public static FakeRam WithGuardPages(ulong size)
    {
        var map = Native.MapAnonymous(size + (2 * Guard), Native.PROT_NONE);
        Native.Mprotect(map.Address + (nint)Guard, size, Native.PROT_READ | Native.PROT_WRITE);
        return new FakeRam(map, map.Address + (nint)Guard, size, null);
    }

    public static FakeRam OnMemfd(ulong size)
    {
        var fd = Native.MemfdCreate("cocoon-test-ram", (long)size);
        var map = Native.MapShared(fd, size, "mmap(test ram)");
        return new FakeRam(map, map.Address, size, fd);
    }

    public GuestMemory CreateMemory() => GuestMemory.FromHost([(GpaBase, Size, QvaBase, Host)]);

    public bool Contains(nint host, ulong length) =>
        host >= Host && (ulong)(host - Host) <= Size && length <= Size - (ulong)(host - Host);

    public ulong ToQva(ulong gpa) => gpa - GpaBase + QvaBase;

    public Span<byte> At(ulong gpa, int length)
    {
        if (gpa < GpaBase || gpa - GpaBase + (ulong)length > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(gpa));
        }

        Assert.True(_view.TryGetSpan(gpa, length, out var span));
        return span;
    }

    /// <summary>Bump-allocates guest memory (aligned).</summary>
    public ulong Alloc(ulong length, ulong align = 16)
    {
        _next = (_next + align - 1) & ~(align - 1);
        if (_next + length > Size)
        {
            throw new InvalidOperationException("fake RAM exhausted");
        }

        ulong gpa = GpaBase + _next;
        _next += length;
        return gpa;
    }

    public ulong Mark => _next;

    public void ResetTo(ulong mark) => _next = mark;

    public void Dispose()
    {
        _mapping.Dispose();
        Fd?.Dispose();
    }
}
