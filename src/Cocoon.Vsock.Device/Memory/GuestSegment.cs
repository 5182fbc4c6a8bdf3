// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vsock.Device.Memory;

/// <summary>
/// A host view of a piece of guest memory that <see cref="GuestMemory"/> has bounds-checked.
/// Only built from a successful translation, and only used until the memory table changes
/// (the event loop never holds one across a vhost-user message).
/// </summary>
internal readonly struct GuestSegment
{
    public GuestSegment(nint address, int length)
    {
        Address = address;
        Length = length;
    }

    /// <summary>Host address of the first byte.</summary>
    public nint Address { get; }

    /// <summary>Length in bytes.</summary>
    public int Length { get; }

    /// <summary>The bytes as a span.</summary>
    public unsafe Span<byte> Span
    {
        get
        {
            // SAFETY: segments are built only from GuestMemory translations of this exact range.
            return new Span<byte>((void*)Address, Length);
        }
    }
}
