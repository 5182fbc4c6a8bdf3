// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Containers;

namespace Cocoon.Agent.Tests.Containers;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ContainerCgroupTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("cgroup-");

    [Theory]
    [InlineData("42\n", 42ul)]
    [InlineData("max\n", ulong.MaxValue)]
    [InlineData("", 0ul)]
    [InlineData("-1", 0ul)]
    [InlineData("18446744073709551616", 0ul)]
    [InlineData("12abc", 0ul)]
    public void Value_ReadsCountersAndMaxAndRefusesTheRest(string text, ulong expected)
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "pids.current"), text);

        Assert.Equal(expected, ContainerCgroup.Value(_dir.FullName, "pids.current"));
    }

    [Fact]
    public void Value_MissingFile_IsZero() => Assert.Equal(0ul, ContainerCgroup.Value(_dir.FullName, "memory.swap.current"));

    [Fact]
    public void KeyValues_ReadsFlatKeyedLinesAndSkipsMalformedOnes()
    {
        var path = Path.Combine(_dir.FullName, "cpu.stat");
        File.WriteAllText(path, "usage_usec 1500\nuser_usec 1000\nnonsense\n system_usec 9\nnr_periods x\n");

        var values = ContainerCgroup.KeyValues(path);

        Assert.Equal(1500ul, values["usage_usec"]);
        Assert.Equal(1000ul, values["user_usec"]);
        Assert.Equal(0ul, values["nr_periods"]);
        Assert.False(values.ContainsKey("nonsense"));
        Assert.False(values.ContainsKey("system_usec"));
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
