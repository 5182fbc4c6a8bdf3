// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;
using Cocoon.Tests.Common;

namespace Cocoon.Shim.Tests;

/// <summary>
/// The copies between a process's stdio and containerd's FIFOs, on real FIFOs. A client that made
/// the FIFOs may be gone before the shim opens them (<c>ctr run -d</c> exits once Start answers):
/// then the copies must still end, or the task's exit is never reported.
/// </summary>
public sealed class FifoStdioTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly TempStateRoot _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Output_FifoWhoseReaderIsGone_DrainedAndDone()
    {
        var stdout = await FifoAsync("stdout");
        var session = new OutputSession("lost output\n");

        var io = FifoStdio.Start(session, new StdioPaths("", stdout, ""));

        await io.OutputDone.WaitAsync(Timeout);
        Assert.Equal(session.Stdout.Length, session.Stdout.Position);
    }

    [Fact]
    public async Task Output_FifoWithAReader_CopiedToIt()
    {
        var stdout = await FifoAsync("stdout");
        using var reader = new FileStream(stdout, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        var session = new OutputSession("to the client\n");

        var io = FifoStdio.Start(session, new StdioPaths("", stdout, ""));
        await io.OutputDone.WaitAsync(Timeout);

        var read = new byte[session.Stdout.Length];
        await reader.ReadExactlyAsync(read).AsTask().WaitAsync(Timeout);
        Assert.Equal("to the client\n", Encoding.ASCII.GetString(read));
    }

    [Fact]
    public async Task Stdin_FifoWhoseWriterIsGone_ProcessStdinClosed()
    {
        var stdin = await FifoAsync("stdin");
        var session = new OutputSession("");

        FifoStdio.Start(session, new StdioPaths(stdin, "", ""));

        await session.StdinClosed.Task.WaitAsync(Timeout);
        Assert.Empty(session.StdinWritten);
    }

    private async Task<string> FifoAsync(string name)
    {
        var path = Path.Combine(_temp.Path, name);
        var made = await ProcessRunner.RunAsync("mkfifo", [path], Timeout);
        Assert.True(made.ExitCode == 0, made.Stderr);
        return path;
    }

    /// <summary>A process that printed <c>stdout</c> and exited; it records what reached its stdin.</summary>
    private sealed class OutputSession(string stdout) : IExecSession
    {
        public int Pid => 7;

        public Stream Stdout { get; } = new MemoryStream(Encoding.ASCII.GetBytes(stdout));

        public Stream Stderr { get; } = new MemoryStream();

        public Task<ExecExit> Exit { get; } = Task.FromResult(new ExecExit(0, null));

        public List<byte> StdinWritten { get; } = [];

        public TaskCompletionSource StdinClosed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            StdinWritten.AddRange(data.ToArray());
            return Task.CompletedTask;
        }

        public Task CloseStdinAsync(CancellationToken cancellationToken = default)
        {
            StdinClosed.TrySetResult();
            return Task.CompletedTask;
        }

        public Task SignalAsync(int signal, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task ResizeAsync(TerminalSize size, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
