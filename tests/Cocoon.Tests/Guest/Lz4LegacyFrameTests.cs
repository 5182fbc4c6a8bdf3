// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;

namespace Cocoon.Guest.Tests;

public sealed class Lz4LegacyFrameTests
{
    [Fact]
    public void DecodeBlock_LiteralsOnly_TheLiterals()
    {
        byte[] block = [0x50, .. "hello"u8];
        var output = new byte[5];

        var written = Lz4LegacyFrame.DecodeBlock(block, output);

        Assert.Equal(5, written);
        Assert.Equal("hello", Encoding.ASCII.GetString(output));
    }

    [Fact]
    public void DecodeBlock_OverlappingMatch_RepeatsTheRun()
    {
        // "ab", then a match 2 back of 4 + 4 bytes: "abababababab"... then the literal "!"
        byte[] block = [0x24, (byte)'a', (byte)'b', 2, 0, 0x10, (byte)'!'];
        var output = new byte[11];

        var written = Lz4LegacyFrame.DecodeBlock(block, output);

        Assert.Equal(11, written);
        Assert.Equal("ababababab!", Encoding.ASCII.GetString(output));
    }

    [Fact]
    public void DecodeBlock_LongLiteralRun_LengthBytesAdded()
    {
        // 15 + 255 + 3 = 273 literals.
        var literals = Enumerable.Range(0, 273).Select(i => (byte)i).ToArray();
        byte[] block = [0xF0, 255, 3, .. literals];
        var output = new byte[273];

        var written = Lz4LegacyFrame.DecodeBlock(block, output);

        Assert.Equal(273, written);
        Assert.Equal(literals, output);
    }

    [Theory]
    [InlineData(new byte[] { 0x10, (byte)'a', 0, 0, 0x00 })]
    [InlineData(new byte[] { 0x10, (byte)'a', 5, 0, 0x00 })]
    [InlineData(new byte[] { 0x50, (byte)'a' })]
    public void DecodeBlock_Malformed_InvalidData(byte[] block)
    {
        Assert.Throws<InvalidDataException>(() => Lz4LegacyFrame.DecodeBlock(block, new byte[64]));
    }

    [Fact]
    public void Decode_TwoBlocks_Concatenated()
    {
        byte[] frame = [0x02, 0x21, 0x4C, 0x18, 4, 0, 0, 0, 0x30, (byte)'a', (byte)'b', (byte)'c', 3, 0, 0, 0, 0x20, (byte)'d', (byte)'e'];
        using var output = new MemoryStream();

        Lz4LegacyFrame.Decode(new MemoryStream(frame), output, 5);

        Assert.Equal("abcde", Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public void Decode_ShorterThanExpected_InvalidData()
    {
        byte[] frame = [0x02, 0x21, 0x4C, 0x18, 4, 0, 0, 0, 0x30, (byte)'a', (byte)'b', (byte)'c'];

        var ex = Assert.Throws<InvalidDataException>(() => Lz4LegacyFrame.Decode(new MemoryStream(frame), Stream.Null, 5));
        Assert.Contains("3 bytes, expected 5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_BlockSizeBeyondTheInput_InvalidData()
    {
        byte[] frame = [0x02, 0x21, 0x4C, 0x18, 40, 0, 0, 0, 0x30, (byte)'a', (byte)'b', (byte)'c'];

        Assert.Throws<InvalidDataException>(() => Lz4LegacyFrame.Decode(new MemoryStream(frame), Stream.Null, 3));
    }
}
