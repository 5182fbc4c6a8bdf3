// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;

namespace Cocoon.Guest.Tests;

/// <summary>A minimal newc reader for checking <see cref="CpioWriter"/> output; asserts the format as it goes.</summary>
internal static class CpioReader
{
    public sealed record Entry(string Name, uint Inode, uint Mode, uint Uid, uint Gid, uint Nlink, uint Mtime, uint RdevMajor, uint RdevMinor, byte[] Data);

    public static List<Entry> Read(byte[] archive)
    {
        var entries = new List<Entry>();
        var position = 0;
        while (true)
        {
            Assert.Equal(0, position % 4);
            var header = Encoding.ASCII.GetString(archive, position, 110);
            Assert.StartsWith("070701", header, StringComparison.Ordinal);
            uint Field(int index) => uint.Parse(header.AsSpan(6 + (index * 8), 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var nameSize = (int)Field(11);
            var name = Encoding.UTF8.GetString(archive, position + 110, nameSize - 1);
            Assert.Equal(0, archive[position + 110 + nameSize - 1]);
            position = Align(position + 110 + nameSize);
            var size = (int)Field(6);
            var data = archive.AsSpan(position, size).ToArray();
            position = Align(position + size);
            if (name == "TRAILER!!!")
            {
                Assert.Equal(archive.Length, position);
                return entries;
            }

            entries.Add(new Entry(name, Field(0), Field(1), Field(2), Field(3), Field(4), Field(5), Field(9), Field(10), data));
        }
    }

    private static int Align(int value) => (value + 3) & ~3;
}
