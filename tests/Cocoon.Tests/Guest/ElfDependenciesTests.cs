// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest.Tests;

public sealed class ElfDependenciesTests
{
    [Fact]
    public void Parse_TypicalOutput_LibrariesAndLoaderWithoutVdso()
    {
        const string Output = """
                linux-vdso.so.1 (0x00007ffd)
                libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f2c)
                libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2c)
                /lib64/ld-linux-x86-64.so.2 (0x00007f2c)
            """;

        var libraries = ElfDependencies.Parse("/bin/x", Output, "", 0);

        Assert.Equal(["/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libssl.so.3", "/lib64/ld-linux-x86-64.so.2"], libraries);
    }

    [Fact]
    public void Parse_LibraryNotFound_NotFoundNamingIt()
    {
        var ex = Assert.Throws<CocoonException>(() => ElfDependencies.Parse("/bin/x", "\tlibgone.so.1 => not found\n", "", 0));

        Assert.Equal(CocoonErrorCode.NotFound, ex.Code);
        Assert.Contains("libgone.so.1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_StaticBusybox_Nothing()
    {
        Assert.Empty(ElfDependencies.Resolve("/bin/busybox"));
    }
}
