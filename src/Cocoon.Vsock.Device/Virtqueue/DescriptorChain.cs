// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Vsock.Device.Memory;

namespace Cocoon.Vsock.Device.Virtqueue;

/// <summary>
/// One popped descriptor chain as a scatter-gather list of checked guest segments: the readable
/// (driver-written) part first, then the writable part. Reused for every pop on its queue.
/// </summary>
internal sealed class DescriptorChain
{
    private readonly GuestSegment[] _segments;

    public DescriptorChain(int capacity)
    {
        _segments = new GuestSegment[capacity];
    }

    /// <summary>The head descriptor index (the used-ring id).</summary>
    public ushort Head { get; private set; }

    /// <summary>Number of segments.</summary>
    public int Count { get; private set; }

    /// <summary>Index of the first writable segment (== Count when none).</summary>
    public int FirstWritable { get; private set; }

    /// <summary>Total bytes the device may read.</summary>
    public long ReadableBytes { get; private set; }

    /// <summary>Total bytes the device may write.</summary>
    public long WritableBytes { get; private set; }

    /// <summary>The segments (readable first).</summary>
    public ReadOnlySpan<GuestSegment> Segments => _segments.AsSpan(0, Count);

    internal void Reset(ushort head)
    {
        Head = head;
        Count = 0;
        FirstWritable = 0;
        ReadableBytes = 0;
        WritableBytes = 0;
    }

    internal bool TryAdd(GuestSegment segment, bool writable)
    {
        if (Count == _segments.Length)
        {
            return false;
        }

        _segments[Count++] = segment;
        if (writable)
        {
            WritableBytes += segment.Length;
        }
        else
        {
            FirstWritable = Count;
            ReadableBytes += segment.Length;
        }

        return true;
    }

    /// <summary>Copies readable bytes starting at <paramref name="offset"/> into <paramref name="destination"/>.</summary>
    public int CopyFrom(long offset, Span<byte> destination)
    {
        int copied = 0;
        foreach (var s in _segments.AsSpan(0, FirstWritable))
        {
            if (copied == destination.Length)
            {
                break;
            }

            if (offset >= s.Length)
            {
                offset -= s.Length;
                continue;
            }

            var src = s.Span[(int)offset..];
            offset = 0;
            int n = Math.Min(src.Length, destination.Length - copied);
            src[..n].CopyTo(destination[copied..]);
            copied += n;
        }

        return copied;
    }

    /// <summary>Copies <paramref name="source"/> into writable bytes starting at <paramref name="offset"/>.</summary>
    public int CopyTo(long offset, ReadOnlySpan<byte> source)
    {
        int copied = 0;
        foreach (var s in _segments.AsSpan(FirstWritable, Count - FirstWritable))
        {
            if (copied == source.Length)
            {
                break;
            }

            if (offset >= s.Length)
            {
                offset -= s.Length;
                continue;
            }

            var dst = s.Span[(int)offset..];
            offset = 0;
            int n = Math.Min(dst.Length, source.Length - copied);
            source.Slice(copied, n).CopyTo(dst);
            copied += n;
        }

        return copied;
    }

    /// <summary>
    /// Describes up to <paramref name="maxBytes"/> bytes of the readable (or writable) part from
    /// <paramref name="offset"/> as iovecs for readv/writev; returns the number used.
    /// </summary>
    public unsafe int BuildIoVecs(bool writable, long offset, long maxBytes, Span<Interop.IoVec> iov)
    {
        int n = 0;
        var part = writable ? _segments.AsSpan(FirstWritable, Count - FirstWritable) : _segments.AsSpan(0, FirstWritable);
        foreach (var s in part)
        {
            if (maxBytes == 0 || n == iov.Length)
            {
                break;
            }

            if (offset >= s.Length)
            {
                offset -= s.Length;
                continue;
            }

            long len = Math.Min(s.Length - offset, maxBytes);

            // SAFETY: [Address + offset, + len) stays inside the checked segment.
            iov[n++] = new Interop.IoVec { Base = (byte*)(s.Address + (nint)offset), Length = (nuint)len };
            maxBytes -= len;
            offset = 0;
        }

        return n;
    }
}
