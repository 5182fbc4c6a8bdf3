// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Buffers.Binary;
using System.Text;

namespace Cocoon.Guest.Tests;

public sealed class ModuleSignatureTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cocoon-modsig-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void UnsignedLength_SignedModule_LengthBeforeTheSignature()
    {
        var path = Write("signed.ko", Signed(module: 1000, signature: 300));

        Assert.Equal(1000, ModuleSignature.UnsignedLength(path));
    }

    [Fact]
    public void UnsignedLength_NoMarker_WholeFile()
    {
        var path = Write("plain.ko", new byte[1000]);

        Assert.Equal(1000, ModuleSignature.UnsignedLength(path));
    }

    [Fact]
    public void UnsignedLength_SignatureLongerThanTheFile_WholeFile()
    {
        var bytes = Signed(module: 10, signature: 30);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(bytes.Length - 28 - 4), 5000);
        var path = Write("broken.ko", bytes);

        Assert.Equal(bytes.Length, ModuleSignature.UnsignedLength(path));
    }

    [Fact]
    public void UnsignedLength_ShorterThanATrailer_WholeFile()
    {
        var path = Write("tiny.ko", "~Module"u8.ToArray());

        Assert.Equal(7, ModuleSignature.UnsignedLength(path));
    }

    [Fact]
    public void UnsignedLength_RealSignedModule_StillAnElfFileWithoutTheMarker()
    {
        var kernel = KernelLocator.FindDefault();
        var module = Path.Combine(kernel.ModulesDirectory, new ModuleResolver(kernel.ModulesDirectory).Resolve(["vsock"]).Single().RelativePath);
        var bytes = File.ReadAllBytes(module);
        Assert.True(bytes.AsSpan().EndsWith("~Module signature appended~\n"u8), $"{module} is not signed; this test needs a signed kernel's modules");

        var length = ModuleSignature.UnsignedLength(module);

        Assert.InRange(length, bytes.Length - 4096, bytes.Length - 41);
        Assert.Equal([0x7f, (byte)'E', (byte)'L', (byte)'F'], bytes[..4]);
        Assert.False(bytes.AsSpan(0, (int)length).IndexOf("~Module signature appended~"u8) >= 0);
    }

    [Theory]
    [InlineData("CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_FORCE=y\n", true)]
    [InlineData("CONFIG_MODULE_SIG=y\n# CONFIG_MODULE_SIG_FORCE is not set\n", false)]
    public void Required_FollowsTheKernelsConfiguration(string config, bool required)
    {
        var kernel = Kernel();
        File.WriteAllText(ModuleSignature.KernelConfigPath(kernel), config);

        Assert.Equal(required, ModuleSignature.Required(kernel));
    }

    [Fact]
    public void Required_NoConfiguration_TakenAsRequired()
    {
        Assert.True(ModuleSignature.Required(Kernel()));
    }

    [Fact]
    public void AddModule_WithoutSignature_ArchiveHoldsTheModuleBeforeItsSignature()
    {
        var bytes = Signed(module: 500, signature: 200);
        var path = Write("m.ko", bytes);
        var output = Path.Combine(_root, "out.cpio");
        var unsigned = new InitramfsBuilder().AddModule(path, "/lib/m/m.ko", keepSignature: false);
        var signed = new InitramfsBuilder().AddModule(path, "/lib/m/m.ko", keepSignature: true);

        unsigned.Build(output);

        var entry = CpioReader.Read(File.ReadAllBytes(output)).Single(e => e.Name == "lib/m/m.ko");
        Assert.Equal(bytes.AsSpan(0, 500).ToArray(), entry.Data);
        Assert.NotEqual(signed.ComputeHash(), unsigned.ComputeHash());
        Assert.Contains(path, unsigned.HostFiles);
    }

    private GuestKernel Kernel()
    {
        var boot = Directory.CreateDirectory(Path.Combine(_root, "boot")).FullName;
        return new GuestKernel(Path.Combine(boot, "vmlinuz-6.1.0-test-cloud-amd64"), "6.1.0-test-cloud-amd64", Path.Combine(_root, "modules"));
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A module of <paramref name="module"/> bytes signed the way sign-file appends a signature.</summary>
    private static byte[] Signed(int module, int signature)
    {
        var bytes = new byte[module + signature + 12 + 28];
        Random.Shared.NextBytes(bytes.AsSpan(0, module + signature));
        var descriptor = bytes.AsSpan(module + signature, 12);
        descriptor[2] = 2; // id_type PKEY_ID_PKCS7
        BinaryPrimitives.WriteUInt32BigEndian(descriptor[8..], (uint)signature);
        Encoding.ASCII.GetBytes("~Module signature appended~\n").CopyTo(bytes.AsSpan(module + signature + 12));
        return bytes;
    }
}
