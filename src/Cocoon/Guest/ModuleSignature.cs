// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;

namespace Cocoon.Guest;

/// <summary>
/// The signature a signed kernel module carries at its end, and whether a guest kernel needs it.
/// </summary>
/// <remarks>
/// A signed <c>.ko</c> is the ELF file followed by a PKCS#7 signature, a 12-byte
/// <c>struct module_signature</c> whose last field is the signature's length (big-endian), and the
/// 28-byte marker <c>"~Module signature appended~\n"</c> (<c>include/linux/module_signature.h</c>).
/// The bytes before the signature are the module exactly as it was before signing.
/// <para>
/// Cocoon's guests load modules unsigned where the kernel allows it. A kernel built without
/// <c>CONFIG_MODULE_SIG_FORCE</c> (Debian's) checks a signature when there is one and loads a module
/// without one anyway, tainting itself ('E'). Inside a box the check protects nothing: the modules
/// come from the host's own module tree through the initramfs, and guest root can load any module it
/// likes. Under TCG it is costly: measured on the CI host, loading and unloading overlay.ko took
/// 80–84 ms signed and 63–66 ms unsigned, and the ten modules of a boot took a median 211 ms signed
/// and 132 ms unsigned (six paired boots).
/// </para>
/// </remarks>
internal static class ModuleSignature
{
    private const int DescriptorLength = 12;

    private static ReadOnlySpan<byte> Marker => "~Module signature appended~\n"u8;

    /// <summary>
    /// The length of the module in <paramref name="path"/> without its appended signature: the file's
    /// length when it carries none or its trailer does not add up.
    /// </summary>
    public static long UnsignedLength(string path)
    {
        using var file = File.OpenHandle(path);
        var length = RandomAccess.GetLength(file);
        Span<byte> tail = stackalloc byte[DescriptorLength + Marker.Length];
        if (length < tail.Length || RandomAccess.Read(file, tail, length - tail.Length) != tail.Length)
        {
            return length;
        }

        return UnsignedLength(tail, length);
    }

    /// <summary>
    /// The unsigned length of a module of <paramref name="length"/> bytes whose last
    /// <c>40</c> bytes are <paramref name="tail"/>.
    /// </summary>
    internal static long UnsignedLength(ReadOnlySpan<byte> tail, long length)
    {
        if (tail.Length != DescriptorLength + Marker.Length || !tail[DescriptorLength..].SequenceEqual(Marker))
        {
            return length;
        }

        var signatureLength = BinaryPrimitives.ReadUInt32BigEndian(tail[(DescriptorLength - 4)..DescriptorLength]);
        var unsigned = length - tail.Length - signatureLength;
        return unsigned > 0 ? unsigned : length;
    }

    /// <summary>
    /// Whether <paramref name="kernel"/> refuses unsigned modules: its build configuration
    /// (<c>config-VERSION</c> beside the kernel image) sets <c>CONFIG_MODULE_SIG_FORCE=y</c>. A kernel
    /// whose configuration cannot be read is taken to refuse them.
    /// </summary>
    public static bool Required(GuestKernel kernel)
    {
        try
        {
            return File.ReadLines(KernelConfigPath(kernel)).Any(line => line == "CONFIG_MODULE_SIG_FORCE=y");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>Where a Debian kernel's build configuration lies: <c>config-VERSION</c> beside its image.</summary>
    public static string KernelConfigPath(GuestKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return Path.Combine(Path.GetDirectoryName(kernel.KernelPath) ?? "/", "config-" + kernel.Version);
    }
}
