// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using System.Text;

namespace Cocoon.Guest;

/// <summary>
/// Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst). Streaming: entries go straight to
/// the output stream. Output is deterministic: inode numbers count up from 1 in write order and
/// uid, gid and mtime are always 0, so the same entries give the same bytes.
/// </summary>
/// <remarks>
/// Each entry is a 110-byte ASCII header ("070701" and 13 eight-digit hex fields), the NUL-terminated
/// name padded to a multiple of 4 bytes (header included), then the data padded to a multiple of 4.
/// The archive ends with an entry named <c>TRAILER!!!</c>.
/// </remarks>
internal sealed class CpioWriter : IDisposable
{
    /// <summary>File type bits of <c>st_mode</c> (S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR in linux/stat.h).</summary>
    internal const uint TypeRegular = 0x8000;
    internal const uint TypeDirectory = 0x4000;
    internal const uint TypeSymlink = 0xA000;
    internal const uint TypeCharDevice = 0x2000;

    private const int HeaderSize = 110;
    private const string Trailer = "TRAILER!!!";

    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly byte[] _copyBuffer = new byte[81920];
    private uint _nextInode = 1;
    private long _position;
    private bool _finished;

    public CpioWriter(Stream output, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _leaveOpen = leaveOpen;
    }

    /// <summary>Bytes written so far.</summary>
    public long Position => _position;

    public void AddDirectory(string name, uint permissions)
    {
        WriteHeader(name, TypeDirectory | (permissions & 0xFFF), nlink: 2, fileSize: 0, rdevMajor: 0, rdevMinor: 0);
    }

    public void AddSymlink(string name, string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        var bytes = Encoding.UTF8.GetBytes(target);
        WriteHeader(name, TypeSymlink | 0x1FF, nlink: 1, fileSize: (uint)bytes.Length, rdevMajor: 0, rdevMinor: 0);
        WriteData(bytes);
        WritePadding();
    }

    public void AddCharDevice(string name, uint permissions, uint major, uint minor)
    {
        WriteHeader(name, TypeCharDevice | (permissions & 0xFFF), nlink: 1, fileSize: 0, rdevMajor: major, rdevMinor: minor);
    }

    public void AddFile(string name, uint permissions, ReadOnlySpan<byte> content)
    {
        WriteHeader(name, TypeRegular | (permissions & 0xFFF), nlink: 1, fileSize: CheckedSize(name, content.Length), rdevMajor: 0, rdevMinor: 0);
        WriteData(content);
        WritePadding();
    }

    /// <summary>Adds a regular file whose content is copied from <paramref name="content"/> (exactly <paramref name="length"/> bytes).</summary>
    public void AddFile(string name, uint permissions, Stream content, long length)
    {
        ArgumentNullException.ThrowIfNull(content);
        WriteHeader(name, TypeRegular | (permissions & 0xFFF), nlink: 1, fileSize: CheckedSize(name, length), rdevMajor: 0, rdevMinor: 0);
        var remaining = length;
        while (remaining > 0)
        {
            var read = content.Read(_copyBuffer, 0, (int)Math.Min(_copyBuffer.Length, remaining));
            if (read == 0)
            {
                throw new CocoonException(CocoonErrorCode.InvalidState, $"The file for initramfs entry '{name}' shrank while it was being copied; expected {length} bytes. Retry once nothing is writing to it.");
            }

            WriteData(_copyBuffer.AsSpan(0, read));
            remaining -= read;
        }

        WritePadding();
    }

    /// <summary>Writes the trailer entry. The archive is complete after this call.</summary>
    public void Finish()
    {
        if (_finished)
        {
            return;
        }

        WriteHeader(Trailer, 0, nlink: 1, fileSize: 0, rdevMajor: 0, rdevMinor: 0, inode: 0);
        _output.Flush();
        _finished = true;
    }

    public void Dispose()
    {
        if (!_leaveOpen)
        {
            _output.Dispose();
        }
    }

    private static uint CheckedSize(string name, long length)
    {
        if (length is < 0 or > uint.MaxValue)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Initramfs entry '{name}' is {length} bytes; newc cpio entries are limited to 4 GiB.");
        }

        return (uint)length;
    }

    private void WriteHeader(string name, uint mode, uint nlink, uint fileSize, uint rdevMajor, uint rdevMinor, uint? inode = null)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.StartsWith('/') || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"cpio entry names are relative and contain no NUL: '{name}'.", nameof(name));
        }

        var nameBytes = Encoding.UTF8.GetBytes(name);
        var header = new StringBuilder(HeaderSize);
        header.Append("070701");
        Hex(header, inode ?? _nextInode++);
        Hex(header, mode);
        Hex(header, 0); // uid
        Hex(header, 0); // gid
        Hex(header, nlink);
        Hex(header, 0); // mtime
        Hex(header, fileSize);
        Hex(header, 0); // devmajor
        Hex(header, 0); // devminor
        Hex(header, rdevMajor);
        Hex(header, rdevMinor);
        Hex(header, (uint)nameBytes.Length + 1);
        Hex(header, 0); // check
        WriteData(Encoding.ASCII.GetBytes(header.ToString()));
        WriteData(nameBytes);
        WriteData([0]);
        WritePadding();
    }

    private static void Hex(StringBuilder builder, uint value) =>
        builder.Append(value.ToString("x8", CultureInfo.InvariantCulture));

    private void WriteData(ReadOnlySpan<byte> data)
    {
        _output.Write(data);
        _position += data.Length;
    }

    private void WritePadding()
    {
        var pad = (int)((4 - (_position % 4)) % 4);
        if (pad > 0)
        {
            Span<byte> zeros = stackalloc byte[4];
            zeros.Clear();
            WriteData(zeros[..pad]);
        }
    }
}
