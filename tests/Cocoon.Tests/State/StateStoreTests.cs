// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.State;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.State;

public sealed class StateStoreTests : IDisposable
{
    private readonly TempStateRoot _root = new();

    private string FilePath => Path.Combine(_root.Path, "table.json");

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Update_MissingFile_CreatesItFromFactory()
    {
        var result = StateStore.Update(FilePath, StateJsonContext.Default.DictionaryUInt32String, () => [], t =>
        {
            t[7] = "seven";
            return (t, t.Count);
        });

        Assert.Equal(1, result);
        Assert.Equal("seven", StateStore.Read(FilePath, StateJsonContext.Default.DictionaryUInt32String)![7]);
    }

    [Fact]
    public void Update_SecondUpdate_SeesFirst()
    {
        StateStore.Update(FilePath, StateJsonContext.Default.DictionaryUInt32String, () => [], t => { t[3] = "a"; return (t, 0); });

        var seen = StateStore.Update(FilePath, StateJsonContext.Default.DictionaryUInt32String, () => [], t =>
        {
            var before = t.Count;
            t[4] = "b";
            return (t, before);
        });

        Assert.Equal(1, seen);
        Assert.Equal(2, StateStore.Read(FilePath, StateJsonContext.Default.DictionaryUInt32String)!.Count);
    }

    [Fact]
    public void Update_MutateThrows_LeavesFileUnchanged()
    {
        StateStore.Update(FilePath, StateJsonContext.Default.DictionaryUInt32String, () => [], t => { t[3] = "a"; return (t, 0); });
        var before = File.ReadAllText(FilePath);

        Assert.Throws<InvalidOperationException>(() =>
            StateStore.Update<Dictionary<uint, string>, int>(FilePath, StateJsonContext.Default.DictionaryUInt32String, () => [], _ => throw new InvalidOperationException("boom")));

        Assert.Equal(before, File.ReadAllText(FilePath));
    }

    [Fact]
    public void WriteAtomically_StaleTempFiles_AreRemovedAndNoneLeft()
    {
        File.WriteAllText(FilePath + ".123.deadbeef.tmp", "{half");

        using (StateStore.Lock(FilePath))
        {
            StateStore.WriteAtomically(FilePath, "{}"u8);
        }

        Assert.Equal(["table.json", "table.json.lock"], Directory.GetFiles(_root.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void WriteAtomically_FileAndItsLockAreOwnerOnly()
    {
        using (StateStore.Lock(FilePath))
        {
            StateStore.WriteAtomically(FilePath, "{}"u8);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath + ".lock"));
    }

    [Fact]
    public void Read_CorruptFile_ThrowsNamingTheFile()
    {
        File.WriteAllText(FilePath, "{\"3\": \"a\",");

        var e = Assert.Throws<CocoonException>(() => StateStore.Read(FilePath, StateJsonContext.Default.DictionaryUInt32String));

        Assert.Equal(CocoonErrorCode.InvalidState, e.Code);
        Assert.Contains(FilePath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Update_CorruptFile_ThrowsAndKeepsFile()
    {
        File.WriteAllText(FilePath, "null");

        var e = Assert.Throws<CocoonException>(() =>
            StateStore.Update(FilePath, StateJsonContext.Default.DictionaryUInt32String, () => [], t => (t, 0)));

        Assert.Contains("corrupt", e.Message, StringComparison.Ordinal);
        Assert.Equal("null", File.ReadAllText(FilePath));
    }

    [Fact]
    public async Task Update_ConcurrentThreads_LoseNoUpdate()
    {
        const int Threads = 4, Each = 25;
        var tasks = Enumerable.Range(0, Threads).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < Each; i++)
            {
                StateStore.Update(FilePath, StateJsonContext.Default.DictionaryUInt32String, () => [], t =>
                {
                    t[(uint)t.Count] = "x";
                    return (t, 0);
                });
            }
        }));

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Threads * Each, StateStore.Read(FilePath, StateJsonContext.Default.DictionaryUInt32String)!.Count);
    }
}
