// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.State;
using Cocoon.Supervisor;
using Cocoon.Tests.Common;

namespace Cocoon.Tests.Supervisor;

public sealed class ConsoleTailTests : IDisposable
{
    private readonly TempStateRoot _root = new();
    private readonly CocoonPaths _paths;

    public ConsoleTailTests()
    {
        _paths = new CocoonPaths(_root.Path);
        Directory.CreateDirectory(_paths.BoxDirectory("b"));
    }

    public void Dispose() => _root.Dispose();

    [Fact]
    public void ConsoleTail_PanicPushedOutByItsStackTrace_ComesFirst()
    {
        var trace = Enumerable.Range(0, 30).Select(i => $" frame {i}");
        File.WriteAllLines(_paths.ConsoleLog("b"), ["booting", "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", .. trace, "---[ end Kernel panic ]---"]);

        var lines = BoxProcesses.ConsoleTail(_paths, "b", lines: 5).Split('\n');

        Assert.Equal("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", lines[0]);
        Assert.Equal("...", lines[1]);
        Assert.Equal([" frame 26", " frame 27", " frame 28", " frame 29", "---[ end Kernel panic ]---"], lines[2..]);
    }

    [Fact]
    public void ConsoleTail_NoPanic_LastLinesOnly()
    {
        File.WriteAllLines(_paths.ConsoleLog("b"), Enumerable.Range(0, 10).Select(i => $"line {i}"));

        Assert.Equal("line 8\nline 9", BoxProcesses.ConsoleTail(_paths, "b", lines: 2));
    }

    [Fact]
    public void ConsoleTail_PanicInsideTheTail_NotRepeated()
    {
        File.WriteAllLines(_paths.ConsoleLog("b"), ["a", "Kernel panic - not syncing: VFS", "b"]);

        Assert.Equal("Kernel panic - not syncing: VFS\nb", BoxProcesses.ConsoleTail(_paths, "b", lines: 2));
    }
}
