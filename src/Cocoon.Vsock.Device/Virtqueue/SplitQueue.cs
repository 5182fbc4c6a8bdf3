// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Runtime.CompilerServices;
using Cocoon.Vsock.Device.Abi;
using Cocoon.Vsock.Device.Memory;

namespace Cocoon.Vsock.Device.Virtqueue;

/// <summary>What <see cref="SplitQueue.Pop"/> found.</summary>
internal enum PopResult
{
    /// <summary>No new chain in the available ring.</summary>
    Empty,

    /// <summary>A chain was popped and translated.</summary>
    Chain,

    /// <summary>A head was consumed but its chain is unusable; return it with used len 0.</summary>
    BadChain,

    /// <summary>The ring itself is corrupt; the queue is now broken and must not be touched.</summary>
    Broken,
}

/// <summary>
/// One split virtqueue in shared guest memory (virtio 1.x §2.7). The guest is hostile: every
/// index read from the ring is range-checked, chains are bounded by the queue size (which also
/// catches loops), descriptors are copied once into private memory before they are checked,
/// and every buffer is translated through <see cref="GuestMemory"/>. A corrupt ring marks the
/// queue broken; it is then ignored until the front-end sets it up again.
/// </summary>
/// <remarks>
/// The bounds every ring dereference relies on, cited by each <c>// SAFETY:</c> below:
/// <code>
///   desc   translated for 16·Size bytes     entry i at 16·i, i &lt; Size
///   avail  translated for 6 + 2·Size bytes  flags 0, idx 2, ring[i] 4 + 2·i, used_event 4 + 2·Size
///   used   translated for 6 + 8·Size bytes  flags 0, idx 2, ring[i] 4 + 8·i, avail_event 4 + 8·Size
/// </code>
/// <see cref="TryMap"/> sets the three pointers together, only after all three ranges translated,
/// and clears them together; the backend re-maps every queue before it unmaps a replaced memory
/// table, so a non-zero pointer always points into a live mapping. Size is a power of two
/// (<see cref="TrySetSize"/>), so <c>x &amp; (Size - 1)</c> is always below Size.
/// </remarks>
internal sealed class SplitQueue
{
    internal const ushort MaxSize = 32768;
    internal const ushort DescFNext = 1;
    internal const ushort DescFWrite = 2;
    internal const ushort DescFIndirect = 4;

    private DescriptorChain? _chain;
    // Host addresses of the three rings, or 0 while unmapped (see the remarks for their bounds).
    private nint _desc;
    private nint _avail;
    private nint _used;
    private ushort _usedIdx;
    private ushort _signalledUsed;
    private bool _signalledValid;
    private ushort _pendingUsed;

    public SplitQueue(int index)
    {
        Index = index;
    }

    public int Index { get; }

    /// <summary>Queue size (0 until SET_VRING_NUM).</summary>
    public ushort Size { get; private set; }

    /// <summary>Next available-ring index to consume.</summary>
    public ushort LastAvailIdx { get; set; }

    public ulong DescQva { get; private set; }

    public ulong AvailQva { get; private set; }

    public ulong UsedQva { get; private set; }

    public bool AddressesSet { get; private set; }

    /// <summary>Whether ring pointers are translated into the current memory table.</summary>
    public bool Mapped => _desc != 0;

    /// <summary>Started: the kick fd was installed (or polling mode was chosen).</summary>
    public bool Started { get; set; }

    /// <summary>Enabled by SET_VRING_ENABLE (or implicitly without PROTOCOL_FEATURES).</summary>
    public bool Enabled { get; set; }

    /// <summary>Marked broken after a ring violation; cleared when the ring is set up again.</summary>
    public bool Broken { get; private set; }

    /// <summary>Whether VIRTIO_RING_F_EVENT_IDX was negotiated.</summary>
    public bool EventIdx { get; set; }

    public SafeFdHandle? Kick { get; set; }

    public SafeFdHandle? Call { get; set; }

    public SafeFdHandle? Err { get; set; }

    /// <summary>Whether the device may process the ring now.</summary>
    public bool Ready => Started && Enabled && !Broken && _desc != 0;

    /// <summary>Validates and stores the size (power of two, 1..32768).</summary>
    public bool TrySetSize(uint num)
    {
        if (num == 0 || num > MaxSize || (num & (num - 1)) != 0)
        {
            return false;
        }

        Size = (ushort)num;
        _chain = null;

        // A new size invalidates the translated bounds: TryMap must run again.
        _desc = 0;
        _avail = 0;
        _used = 0;
        return true;
    }

    /// <summary>Stores ring addresses (QEMU virtual addresses), checking alignment.</summary>
    public bool TrySetAddresses(ulong desc, ulong used, ulong avail)
    {
        if ((desc & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0)
        {
            return false;
        }

        DescQva = desc;
        UsedQva = used;
        AvailQva = avail;
        AddressesSet = true;
        Broken = false;
        return true;
    }

    /// <summary>Translates the ring pointers into <paramref name="memory"/>; false if any part is unmapped.</summary>
    public bool TryMap(GuestMemory? memory)
    {
        _desc = 0;
        _avail = 0;
        _used = 0;
        if (memory == null || !AddressesSet || Size == 0)
        {
            return false;
        }

        ulong n = Size;
        if (!memory.TryTranslateQva(DescQva, 16 * n, out nint desc)
            || !memory.TryTranslateQva(AvailQva, 6 + (2 * n), out nint avail)
            || !memory.TryTranslateQva(UsedQva, 6 + (8 * n), out nint used))
        {
            return false;
        }

        _desc = desc;
        _avail = avail;
        _used = used;

        // Resume from what the ring says (libvhost-user and rust-vmm do the same).
        unsafe
        {
            // SAFETY: used.idx is bytes 2..4 of the 6 + 8·Size just translated.
            _usedIdx = Volatile.Read(ref *(ushort*)(_used + 2));
        }

        _pendingUsed = 0;
        _signalledValid = false;
        return true;
    }

    /// <summary>
    /// Forgets the mapping and runtime state (GET_VRING_BASE, reset, disconnect). Returns the kick
    /// fd, which the caller must unregister from epoll before closing: the VMM holds the same
    /// eventfd, so closing ours would not remove it from the epoll set.
    /// </summary>
    public SafeFdHandle? Stop()
    {
        Started = false;
        Enabled = false;
        var kick = Kick;
        Kick = null;
        _desc = 0;
        _avail = 0;
        _used = 0;
        return kick;
    }

    public void DisposeFds()
    {
        Stop()?.Dispose();
        Call?.Dispose();
        Call = null;
        Err?.Dispose();
        Err = null;
    }

    /// <summary>Marks the ring broken (logged once by the caller).</summary>
    public void MarkBroken()
    {
        Broken = true;
        if (Err != null)
        {
            Interop.SignalEventFd(Err);
        }
    }

    /// <summary>The chain buffer of this queue (segments split at region borders, bounded).</summary>
    public DescriptorChain Chain => _chain ??= new DescriptorChain(Math.Min(Size + 64, MaxSize + 64));

    private ushort AvailIdx
    {
        get
        {
            Debug.Assert(_avail != 0, "AvailIdx read on an unmapped queue: callers check Ready first.");
            unsafe
            {
                // SAFETY: avail.idx is bytes 2..4 of the 6 + 2·Size translated; callers checked Ready (mapped).
                return Volatile.Read(ref *(ushort*)(_avail + 2));
            }
        }
    }

    /// <summary>Whether the driver has published chains we have not consumed.</summary>
    public bool HasAvailable => Ready && AvailIdx != LastAvailIdx;

    /// <summary>
    /// Pops the next chain into <see cref="Chain"/>, translating every descriptor. Tx chains must be
    /// readable-only (<paramref name="wantWritable"/> false), rx chains writable-only.
    /// </summary>
    public PopResult Pop(GuestMemory memory, bool wantWritable, out string? problem)
    {
        problem = null;
        if (!Ready)
        {
            return PopResult.Empty;
        }

        ushort availIdx = AvailIdx;
        ushort pending = (ushort)(availIdx - LastAvailIdx);
        if (pending == 0)
        {
            return PopResult.Empty;
        }

        if (pending > Size)
        {
            problem = $"available index moved by {pending} entries with a queue of {Size}";
            MarkBroken();
            return PopResult.Broken;
        }

        // Read ring entries only after the index (acquire via Volatile.Read above).
        int slot = LastAvailIdx & (Size - 1);
        ushort head;
        unsafe
        {
            // SAFETY: slot < Size (power-of-two mask), so ring[slot] ends at 4 + 2·Size <= 6 + 2·Size.
            head = Volatile.Read(ref *(ushort*)(_avail + 4 + (2 * slot)));
        }

        if (head >= Size)
        {
            problem = $"head {head} out of range for a queue of {Size}";
            MarkBroken();
            return PopResult.Broken;
        }

        LastAvailIdx++;
        var chain = Chain;
        chain.Reset(head);

        bool bad = false;
        bool seenWritable = false;
        ushort index = head;
        for (int count = 1; ; count++)
        {
            if (count > Size)
            {
                problem = $"descriptor chain from head {head} is longer than the queue (a loop)";
                MarkBroken();
                return PopResult.Broken;
            }

            // Copy the descriptor once; never re-read the guest's copy.
            VirtqDesc d;
            unsafe
            {
                // SAFETY: index < Size (head and every Next are checked against Size before use),
                // so the 16-byte entry ends at or before 16·Size, the translated length.
                d = ((VirtqDesc*)_desc)[index];
            }

            bool writable = (d.Flags & DescFWrite) != 0;
            if ((d.Flags & DescFIndirect) != 0)
            {
                problem ??= "indirect descriptor (not negotiated)";
                bad = true;
            }
            else if (writable != wantWritable || (seenWritable && !writable))
            {
                problem ??= writable ? "device-writable descriptor in a driver-to-device chain" : "read-only descriptor in a device-to-driver chain";
                bad = true;
            }
            else if (!bad)
            {
                seenWritable |= writable;
                ulong gpa = d.Addr;
                ulong left = d.Len;
                while (left > 0)
                {
                    if (!memory.TryTranslateGpa(gpa, left, out nint host, out ulong piece) || !chain.TryAdd(new GuestSegment(host, (int)piece), writable))
                    {
                        problem ??= $"descriptor {index} (gpa 0x{d.Addr:x}, len {d.Len}) is outside guest memory or too fragmented";
                        bad = true;
                        break;
                    }

                    // piece <= left <= uint.MaxValue, and gpa + piece stays inside the region.
                    gpa += piece;
                    left -= piece;
                }
            }

            if ((d.Flags & DescFNext) == 0)
            {
                break;
            }

            if (d.Next >= Size)
            {
                problem = $"descriptor {index} links to {d.Next}, outside a queue of {Size}";
                MarkBroken();
                return PopResult.Broken;
            }

            index = d.Next;
        }

        return bad ? PopResult.BadChain : PopResult.Chain;
    }

    /// <summary>Gives back the chain just popped (nothing was done with it).</summary>
    public void Unpop() => LastAvailIdx--;

    /// <summary>Writes a used element; visible to the guest after <see cref="Publish"/>.</summary>
    public void PushUsed(ushort head, uint length)
    {
        if (_used == 0)
        {
            return;
        }

        Debug.Assert(head < Size, "PushUsed with a head the queue never popped: the caller returns only heads Pop gave it.");
        int slot = _usedIdx & (Size - 1);
        unsafe
        {
            // SAFETY: slot < Size (power-of-two mask), so the 8-byte element ends at 4 + 8·Size <= 6 + 8·Size.
            *(VirtqUsedElem*)(_used + 4 + (8 * slot)) = new VirtqUsedElem { Id = head, Len = length };
        }

        _usedIdx++;
        _pendingUsed++;
    }

    /// <summary>Number of used elements written but not yet published.</summary>
    public int PendingUsed => _pendingUsed;

    /// <summary>
    /// Publishes pending used elements with one index store and signals the call eventfd if the
    /// driver wants an interrupt. Returns whether it signalled.
    /// </summary>
    public bool Publish()
    {
        if (_pendingUsed == 0 || _used == 0)
        {
            return false;
        }

        _pendingUsed = 0;

        // The element and data stores must be visible before the index (x86: stores are ordered;
        // Volatile.Write is a release store).
        unsafe
        {
            // SAFETY: used.idx is bytes 2..4 of the 6 + 8·Size translated; _used is non-zero (checked above).
            Volatile.Write(ref *(ushort*)(_used + 2), _usedIdx);
        }


        // Store -> load fence before reading the driver's suppression state.
        Interlocked.MemoryBarrier();
        if (!NeedsNotification())
        {
            return false;
        }

        if (Call != null)
        {
            Interop.SignalEventFd(Call);
        }

        return true;
    }

    private bool NeedsNotification()
    {
        Debug.Assert(_avail != 0, "NeedsNotification on an unmapped queue: Publish checks _used, and TryMap sets both.");
        if (!EventIdx)
        {
            unsafe
            {
                // SAFETY: avail.flags is bytes 0..2 of the 6 + 2·Size translated.
                return (Volatile.Read(ref *(ushort*)_avail) & 1) == 0;
            }
        }

        ushort newIdx = _usedIdx;
        ushort old = _signalledUsed;
        bool valid = _signalledValid;
        _signalledUsed = newIdx;
        _signalledValid = true;
        if (!valid)
        {
            return true;
        }

        ushort usedEvent;
        unsafe
        {
            // SAFETY: used_event follows ring[Size - 1]: bytes 4 + 2·Size .. 6 + 2·Size, the end of the translated range.
            usedEvent = Volatile.Read(ref *(ushort*)(_avail + 4 + (2 * Size)));
        }

        return (ushort)(newIdx - usedEvent - 1) < (ushort)(newIdx - old);
    }

    /// <summary>
    /// Asks the driver to kick when it adds past what we consumed (EVENT_IDX: avail_event), then
    /// re-checks so a chain added meanwhile is not lost. Returns whether chains are available.
    /// </summary>
    public bool ArmKickAndCheck()
    {
        if (!Ready)
        {
            return false;
        }

        if (EventIdx)
        {
            unsafe
            {
                // SAFETY: avail_event follows ring[Size - 1]: bytes 4 + 8·Size .. 6 + 8·Size, the end
                // of the translated range; Ready (checked above) means mapped.
                Volatile.Write(ref *(ushort*)(_used + 4 + (8 * Size)), LastAvailIdx);
            }

            Interlocked.MemoryBarrier();
        }

        return AvailIdx != LastAvailIdx;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsPowerOfTwo(uint n) => n != 0 && (n & (n - 1)) == 0;
}
