// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Formats.Tar;
using System.Security.Cryptography;
using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;
using Cocoon.Vsock.Streams;

namespace Cocoon.EndToEnd.Tests.Files;

/// <summary>One real box (1 GiB, so /tmp holds 256 MiB) for the copy tests.</summary>
public sealed class CopyFixture : IAsyncLifetime
{
    internal BoxTestEnvironment Environment { get; } = new();

    public Box Box { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Box = await Environment.CreateRuntime().CreateBoxAsync(new BoxOptions("copies").WithMemory(1024)).WaitAsync(TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync()
    {
        // Disposing the box removes it: its logs are kept first.
        Environment.KeepLogs();
        if (Box is not null)
        {
            await Box.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        }

        await Environment.DisposeAsync();
    }
}

/// <summary><c>cocoon cp</c> and <c>Box.CopyToAsync</c>/<c>CopyFromAsync</c> against one real box, over the copy data stream.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CopyTests(CopyFixture fixture) : IClassFixture<CopyFixture>, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private readonly string _host = Directory.CreateTempSubdirectory("cocoon-cp-").FullName;

    private Box Box => fixture.Box;

    public void Dispose() => Directory.Delete(_host, recursive: true);

    [Fact]
    public async Task CopyTo_File_IntoDirectoryAndAsNewName()
    {
        var file = Path.Combine(_host, "in.txt");
        File.WriteAllText(file, "to the box\n");

        await Box.CopyToAsync(file, "/tmp/").WaitAsync(Timeout);
        var cli = await fixture.Environment.CocoonAsync("cp", file, Box.Name + ":/tmp/renamed.txt");
        var result = await Box.RunAsync(["cat", "/tmp/in.txt", "/tmp/renamed.txt"]).WaitAsync(Timeout);

        Assert.True(cli.ExitCode == 0, cli.Stderr);
        Assert.Equal("to the box\nto the box\n", result.Stdout);
    }

    [Fact]
    public async Task CopyFrom_File_WrittenOnHost()
    {
        var made = await Box.RunAsync(["sh", "-c", "echo from the box > /tmp/out.txt"]).WaitAsync(Timeout);
        Assert.True(made.ExitCode == 0, made.Stderr);

        await Box.CopyFromAsync("/tmp/out.txt", Path.Combine(_host, "sdk.txt")).WaitAsync(Timeout);
        var cli = await fixture.Environment.CocoonAsync("cp", Box.Name + ":/tmp/out.txt", _host);

        Assert.True(cli.ExitCode == 0, cli.Stderr);
        Assert.Equal("from the box\n", File.ReadAllText(Path.Combine(_host, "sdk.txt")));
        Assert.Equal("from the box\n", File.ReadAllText(Path.Combine(_host, "out.txt")));
    }

    [Fact]
    public async Task CopyTree_BothWays_ModesOwnersAndSymlinksKept()
    {
        var tree = Path.Combine(_host, "tree");
        Directory.CreateDirectory(Path.Combine(tree, "sub"));
        File.WriteAllText(Path.Combine(tree, "sub", "run.sh"), "#!/bin/sh\necho ran\n");
        File.SetUnixFileMode(Path.Combine(tree, "sub", "run.sh"), (UnixFileMode)0b111_101_000);
        File.WriteAllText(Path.Combine(tree, "secret"), "s");
        File.SetUnixFileMode(Path.Combine(tree, "secret"), UnixFileMode.UserRead);
        File.CreateSymbolicLink(Path.Combine(tree, "rel"), "sub/run.sh");
        File.CreateSymbolicLink(Path.Combine(tree, "abs"), "/etc/hostname");
        Assert.Equal(0, (await ProcessRunner.RunAsync("chown", ["-R", "1234:2345", tree], Timeout)).ExitCode);

        await Box.CopyToAsync(tree, "/tmp/tree").WaitAsync(Timeout);
        var inBox = await Box.RunAsync(["sh", "-c", "cd /tmp/tree && stat -c '%a %u %g' sub/run.sh secret && readlink rel && readlink abs && ./rel"]).WaitAsync(Timeout);
        await Box.CopyFromAsync("/tmp/tree", Path.Combine(_host, "back")).WaitAsync(Timeout);

        Assert.True(inBox.ExitCode == 0, inBox.Stderr);
        Assert.Equal("750 1234 2345\n400 1234 2345\nsub/run.sh\n/etc/hostname\nran\n", inBox.Stdout);
        var back = Path.Combine(_host, "back");
        Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(Path.Combine(back, "sub", "run.sh")));
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(Path.Combine(back, "secret")));
        Assert.Equal("sub/run.sh", new FileInfo(Path.Combine(back, "rel")).LinkTarget);
        Assert.Equal("/etc/hostname", new FileInfo(Path.Combine(back, "abs")).LinkTarget);
        var owner = await ProcessRunner.RunAsync("stat", ["-c", "%u %g", Path.Combine(back, "sub", "run.sh")], Timeout);
        Assert.Equal("1234 2345\n", owner.Stdout);
    }

    [Fact]
    public async Task Copy256MiB_BothWays_Sha256Matches()
    {
        var source = Path.Combine(_host, "big.bin");
        WriteRandomFile(source, 256L * 1024 * 1024, seed: 256);
        var expected = Sha256(source);

        await Box.CopyToAsync(source, "/tmp/big.bin").WaitAsync(TimeSpan.FromMinutes(5));
        var inBox = await Box.RunAsync(["sha256sum", "/tmp/big.bin"]).WaitAsync(TimeSpan.FromMinutes(5));
        await Box.CopyFromAsync("/tmp/big.bin", Path.Combine(_host, "back.bin")).WaitAsync(TimeSpan.FromMinutes(5));
        var removed = await Box.RunAsync(["rm", "/tmp/big.bin"]).WaitAsync(Timeout);

        Assert.Equal(expected, inBox.Stdout.Split(' ')[0]);
        Assert.Equal(expected, Sha256(Path.Combine(_host, "back.bin")));
        Assert.Equal(0, removed.ExitCode);
    }

    [Fact]
    public async Task TarStreams_ToDirectoryAndFromPath_CliAndSdk()
    {
        using var archive = new MemoryStream();
        using (var writer = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "streamed/a.txt") { DataStream = new MemoryStream("a\n"u8.ToArray()) });
        }

        archive.Position = 0;
        await Box.CopyToAsync(archive, "/tmp").WaitAsync(Timeout);
        using var back = new MemoryStream();
        await Box.CopyFromAsync("/tmp/streamed", back).WaitAsync(Timeout);
        var piped = Path.Combine(_host, "piped.tar");
        var cli = await ProcessRunner.RunAsync(
            "sh", ["-c", $"'{BoxTestEnvironment.Cli}' cp {Box.Name}:/tmp/streamed/a.txt - > '{piped}'"], Timeout, fixture.Environment.CliEnvironment());

        back.Position = 0;
        using var reader = new TarReader(back);
        var names = new List<string>();
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name.TrimEnd('/'));
        }

        Assert.Equal(["streamed", "streamed/a.txt"], names);
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        using var pipedReader = new TarReader(File.OpenRead(piped));
        var single = pipedReader.GetNextEntry();
        Assert.Equal("a.txt", single!.Name);
        Assert.Equal("a\n", new StreamReader(single.DataStream!).ReadToEnd());
        Assert.Null(pipedReader.GetNextEntry());

        // And the CLI's other direction: that archive on stdin, unpacked into a directory of the box.
        var made = await Box.RunAsync(["mkdir", "/tmp/from-stdin"]).WaitAsync(Timeout);
        Assert.True(made.ExitCode == 0, made.Stderr);
        var fromStdin = await ProcessRunner.RunAsync(
            "sh", ["-c", $"'{BoxTestEnvironment.Cli}' cp - {Box.Name}:/tmp/from-stdin < '{piped}'"], Timeout, fixture.Environment.CliEnvironment());
        var unpacked = await Box.RunAsync(["cat", "/tmp/from-stdin/a.txt"]).WaitAsync(Timeout);
        Assert.True(fromStdin.ExitCode == 0, fromStdin.Stderr);
        Assert.Equal("a\n", unpacked.Stdout);
    }

    [Fact]
    public async Task CopyTo_ArchiveThroughGuestSymlink_RefusedAndTargetUntouched()
    {
        var made = await Box.RunAsync(["sh", "-c", "mkdir -p /tmp/jail && ln -sfn /root /tmp/jail/trap"]).WaitAsync(Timeout);
        Assert.True(made.ExitCode == 0, made.Stderr);
        using var archive = new MemoryStream();
        using (var writer = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "trap/pwned") { DataStream = new MemoryStream("x"u8.ToArray()) });
        }

        archive.Position = 0;
        var e = await Assert.ThrowsAsync<StreamException>(() => Box.CopyToAsync(archive, "/tmp/jail").WaitAsync(Timeout));
        var check = await Box.RunAsync(["sh", "-c", "test -e /root/pwned && echo present || echo absent"]).WaitAsync(Timeout);

        Assert.Equal(StreamStatusCode.BadPath, e.Status);
        Assert.Contains("links are never followed", e.Message, StringComparison.Ordinal);
        Assert.Equal("absent\n", check.Stdout);
    }

    [Fact]
    public async Task CopyFrom_MissingSource_NotFoundNamingIt()
    {
        var sdk = await Assert.ThrowsAsync<StreamException>(() => Box.CopyFromAsync("/no/such/file", _host).WaitAsync(Timeout));
        var cli = await fixture.Environment.CocoonAsync("cp", Box.Name + ":/no/such/file", _host);

        Assert.Equal(StreamStatusCode.NotFound, sdk.Status);
        Assert.Contains("no such file or directory: /no/such/file", sdk.Message, StringComparison.Ordinal);
        Assert.Equal(3, cli.ExitCode);
        Assert.Contains("no such file or directory: /no/such/file", cli.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CopyTo_MissingDestinationDirectory_NotFoundNamingIt()
    {
        var file = Path.Combine(_host, "f.txt");
        File.WriteAllText(file, "x");

        var e = await Assert.ThrowsAsync<StreamException>(() => Box.CopyToAsync(file, "/no/such/dir/f.txt").WaitAsync(Timeout));

        Assert.Equal(StreamStatusCode.NotFound, e.Status);
        Assert.Contains("destination directory /no/such/dir does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CopyTo_DirectoryOntoFile_BadPath()
    {
        Directory.CreateDirectory(Path.Combine(_host, "d"));
        var made = await Box.RunAsync(["sh", "-c", "echo f > /tmp/plain.txt"]).WaitAsync(Timeout);
        Assert.True(made.ExitCode == 0, made.Stderr);

        var e = await Assert.ThrowsAsync<StreamException>(() => Box.CopyToAsync(Path.Combine(_host, "d"), "/tmp/plain.txt").WaitAsync(Timeout));

        Assert.Equal(StreamStatusCode.BadPath, e.Status);
        Assert.Contains("cannot copy a directory onto the file /tmp/plain.txt", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{host}/missing.txt", "{box}:/tmp/", 3, "no such file or directory: {host}/missing.txt")]
    [InlineData("{host}", "{host}/x", 2, "one of SRC and DST must name a box")]
    [InlineData("{box}:/init", "{box}:/tmp/x", 2, "copying between two boxes is not supported")]
    [InlineData("{box}:init", "{host}", 2, "must be absolute")]
    [InlineData("{box}:/init", "{host}/no/such/dir/x", 3, "destination directory {host}/no/such/dir does not exist")]
    [InlineData("{host}", "nosuchbox:/tmp", 3, "nosuchbox")]
    public async Task Cli_BadInput_ClearErrorAndExitCode(string source, string destination, int exitCode, string message)
    {
        string Fill(string s) => s.Replace("{host}", _host, StringComparison.Ordinal).Replace("{box}", Box.Name, StringComparison.Ordinal);

        var result = await fixture.Environment.CocoonAsync("cp", Fill(source), Fill(destination));

        Assert.Equal(exitCode, result.ExitCode);
        Assert.Contains(Fill(message), result.Stderr, StringComparison.Ordinal);
    }

    private static void WriteRandomFile(string path, long size, int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[1024 * 1024];
        using var file = File.Create(path);
        for (long written = 0; written < size; written += buffer.Length)
        {
            random.NextBytes(buffer);
            file.Write(buffer);
        }
    }

    private static string Sha256(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }
}
