// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Cocoon.Guest;

/// <summary>
/// Decodes LZ4's legacy frame, the format <c>lz4 -l</c> writes and Linux compresses kernels with under
/// <c>CONFIG_KERNEL_LZ4</c>.
/// </summary>
/// <remarks>
/// <code>
///  frame:  magic 0x184C2102 (LE) · blocks
///  block:  compressed size (4 bytes, LE) · LZ4 block, at most 8 MiB once decoded, independent of others
///  LZ4 block: sequences of
///          token (literal count high nibble, match length - 4 low nibble; 15 = more length bytes follow,
///                 each added, until one is below 255)
///          · literals · match offset (2 bytes, LE, 1..bytes written in this block) · extra match length
///          the last sequence has literals only
/// </code>
/// The input comes from a file on the host; malformed input is an <see cref="InvalidDataException"/>.
/// </remarks>
internal static class Lz4LegacyFrame
{
    /// <summary>The frame's first four bytes.</summary>
    public static ReadOnlySpan<byte> Magic => [0x02, 0x21, 0x4C, 0x18];

    private const uint MagicNumber = 0x184C2102;

    /// <summary>The most a block decodes to: the legacy format's fixed block size.</summary>
    public const int MaxBlockLength = 8 << 20;

    /// <summary>The most a block's compressed form may take (LZ4's bound for <see cref="MaxBlockLength"/>).</summary>
    private const int MaxCompressedBlockLength = MaxBlockLength + (MaxBlockLength / 255) + 16;

    /// <summary>
    /// Decodes the frame <paramref name="input"/> is positioned at and writes exactly
    /// <paramref name="length"/> bytes to <paramref name="output"/>, a block at a time. The two block
    /// buffers (16 MiB) are native memory, given back when this returns: a long-lived process (a box's
    /// supervisor) that decodes a kernel once keeps none of it.
    /// </summary>
    /// <exception cref="InvalidDataException">The input is not such a frame, or decodes to another length.</exception>
    public static unsafe void Decode(Stream input, Stream output, long length)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Span<byte> word = stackalloc byte[4];
        if (!TryReadExactly(input, word) || !word.SequenceEqual(Magic))
        {
            throw new InvalidDataException("not an LZ4 legacy frame (bad magic)");
        }

        var blockMemory = (byte*)NativeMemory.Alloc(MaxCompressedBlockLength);
        var decodedMemory = (byte*)NativeMemory.Alloc(MaxBlockLength);
        try
        {
            var block = new Span<byte>(blockMemory, MaxCompressedBlockLength);
            var decoded = new Span<byte>(decodedMemory, MaxBlockLength);
            long written = 0;
            while (written < length && TryReadExactly(input, word))
            {
                var size = BinaryPrimitives.ReadUInt32LittleEndian(word);
                if (size == MagicNumber)
                {
                    continue;
                }

                if (size > MaxCompressedBlockLength || !TryReadExactly(input, block[..(int)size]))
                {
                    throw new InvalidDataException($"LZ4 block of {size} bytes after {written} decoded bytes is larger than a block can be or runs past the input");
                }

                var count = DecodeBlock(block[..(int)size], decoded);
                output.Write(decoded[..(int)Math.Min(count, length - written)]);
                written += count;
            }

            if (written != length)
            {
                throw new InvalidDataException($"LZ4 frame decoded to {written} bytes, expected {length}");
            }
        }
        finally
        {
            NativeMemory.Free(blockMemory);
            NativeMemory.Free(decodedMemory);
        }
    }

    private static bool TryReadExactly(Stream input, Span<byte> buffer) =>
        input.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length;

    /// <summary>Decodes one LZ4 block into the start of <paramref name="output"/> and returns the bytes written.</summary>
    /// <exception cref="InvalidDataException">The block is malformed or does not fit.</exception>
    internal static int DecodeBlock(ReadOnlySpan<byte> block, Span<byte> output)
    {
        var input = 0;
        var written = 0;
        try
        {
            while (true)
            {
                var token = block[input++];
                var literals = ReadLength(block, ref input, token >> 4);
                block.Slice(input, literals).CopyTo(output[written..]);
                input += literals;
                written += literals;
                if (input == block.Length)
                {
                    return written;
                }

                var offset = BinaryPrimitives.ReadUInt16LittleEndian(block[input..]);
                input += 2;
                if (offset == 0 || offset > written)
                {
                    throw new InvalidDataException($"LZ4 match offset {offset} reaches before the block's start ({written} bytes written)");
                }

                var length = ReadLength(block, ref input, token & 0xF) + 4;
                var from = written - offset;
                if (offset >= length)
                {
                    output.Slice(from, length).CopyTo(output[written..]);
                }
                else
                {
                    // The match overlaps what it writes (a repeated run): byte by byte, in order.
                    var target = output.Slice(written, length);
                    for (var i = 0; i < length; i++)
                    {
                        target[i] = output[from + i];
                    }
                }

                written += length;
            }
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"LZ4 block is truncated or decodes past {output.Length} bytes (at input byte {input})", ex);
        }
    }

    private static int ReadLength(ReadOnlySpan<byte> block, ref int input, int nibble)
    {
        var length = nibble;
        if (nibble == 15)
        {
            byte more;
            do
            {
                more = block[input++];
                length = checked(length + more);
            }
            while (more == 255);
        }

        return length;
    }
}
