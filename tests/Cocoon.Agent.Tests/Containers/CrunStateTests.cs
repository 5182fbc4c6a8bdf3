// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Agent.Containers;

namespace Cocoon.Agent.Tests.Containers;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CrunStateTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("crun-state-");
    private readonly TaskCompletionSource _crunExited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>crun's root does not exist before the box's first container; the wait makes it.</summary>
    private string Root => Path.Combine(_dir.FullName, "run", "crun");

    [Fact]
    public async Task WhenCreated_WaitsForTheStateFileCrunRenamesIntoPlace()
    {
        var state = new CrunState(Root);

        var created = state.WhenCreatedAsync("web", _crunExited.Task, CancellationToken.None);

        // What crun does, in its order: the directory, then status.tmp renamed to status.
        await WaitForDirectoryAsync(Root);
        var directory = Directory.CreateDirectory(Path.Combine(Root, "web")).FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "status.tmp"), "{\"pid\": 42}");
        Assert.False(created.IsCompleted, "the wait ended before the state file was in place");
        File.Move(Path.Combine(directory, "status.tmp"), state.StatusPath("web"));

        await created.WaitAsync(Patience);
        Assert.True(File.Exists(state.StatusPath("web")));
    }

    [Fact]
    public async Task WhenCreated_EndsWhenCrunExitsWithoutCreatingTheContainer()
    {
        var state = new CrunState(Root);
        var created = state.WhenCreatedAsync("web", _crunExited.Task, CancellationToken.None);

        _crunExited.SetResult();

        await created.WaitAsync(Patience);
        Assert.False(File.Exists(state.StatusPath("web")));
    }

    [Fact]
    public async Task WhenCreated_CancelledCallerReturnsAtOnce()
    {
        var state = new CrunState(Root);
        using var cancel = new CancellationTokenSource();
        var created = state.WhenCreatedAsync("web", _crunExited.Task, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => created.WaitAsync(Patience));
        _crunExited.SetResult(); // ends the waiting thread, as crun's exit does in the box
    }

    [Fact]
    public void WhenCreated_StateAlreadyThere_IsDone()
    {
        var state = new CrunState(Root);
        Directory.CreateDirectory(Path.Combine(Root, "web"));
        File.WriteAllText(state.StatusPath("web"), "{}");

        Assert.True(state.WhenCreatedAsync("web", _crunExited.Task, CancellationToken.None).IsCompletedSuccessfully);
    }

    public void Dispose()
    {
        _crunExited.TrySetResult();
        _dir.Delete(recursive: true);
    }

    private static async Task WaitForDirectoryAsync(string path)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!Directory.Exists(path))
        {
            await Task.Delay(10, deadline.Token);
        }
    }
}
