// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.Versioning;
using System.Text.Json;
using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Supervisor;

/// <summary>control.sock of one shared real box: good and bad requests against its real supervisor.</summary>
public sealed class ControlSocketTests(SharedBoxFixture fixture) : IClassFixture<SharedBoxFixture>
{
    private string ControlSocket => Path.Combine(fixture.Environment.StateRoot, "boxes", fixture.Box.Name, "control.sock");

    [Fact]
    [SupportedOSPlatform("linux")]
    public void ControlSocket_Permissions_OwnerOnly()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ControlSocket));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(ControlSocket)!));
    }

    [Fact]
    public async Task PodInfo_RunningBox_DescribesIt()
    {
        using var client = await LineSocketClient.ConnectAsync(ControlSocket);

        var answer = await client.CallAsync("""{"jsonrpc":"2.0","id":1,"method":"pod.info"}""");

        var result = answer.GetProperty("result");
        var record = await fixture.Environment.InspectAsync(fixture.Box.Name);
        Assert.Equal(1, answer.GetProperty("id").GetInt32());
        Assert.Equal(fixture.Box.Name, result.GetProperty("name").GetString());
        Assert.Equal("running", result.GetProperty("state").GetString());
        Assert.Equal(fixture.Box.Cid, result.GetProperty("cid").GetUInt32());
        Assert.Equal(record.GetProperty("pid").GetInt32(), result.GetProperty("pid").GetInt32());
        Assert.Equal(record.GetProperty("vmm_pid").GetInt32(), result.GetProperty("vmmPid").GetInt32());
    }

    [Fact]
    public async Task UnknownMethod_MethodNotFound_ThenServesTheSameConnection()
    {
        using var client = await LineSocketClient.ConnectAsync(ControlSocket);

        var unknown = await client.CallAsync("""{"jsonrpc":"2.0","id":"u","method":"pod.reboot"}""");
        var info = await client.CallAsync("""{"jsonrpc":"2.0","id":"i","method":"pod.info"}""");

        Assert.Equal(-32601, ErrorCode(unknown));
        Assert.Equal("u", unknown.GetProperty("id").GetString());
        Assert.Equal("running", info.GetProperty("result").GetProperty("state").GetString());
    }

    [Fact]
    public async Task MalformedJson_ParseError_ThenServesTheSameConnection()
    {
        using var client = await LineSocketClient.ConnectAsync(ControlSocket);

        var malformed = await client.CallAsync("""{"jsonrpc":"2.0","id":1,"method":"pod.info""");
        var info = await client.CallAsync("""{"jsonrpc":"2.0","id":2,"method":"pod.info"}""");

        Assert.Equal(-32700, ErrorCode(malformed));
        Assert.Equal(JsonValueKind.Null, malformed.GetProperty("id").ValueKind);
        Assert.Equal(2, info.GetProperty("id").GetInt32());
    }

    [Theory]
    [InlineData("""{"timeout":"soon"}""")]
    [InlineData("""{"timeout":-1}""")]
    public async Task PodStop_InvalidTimeout_InvalidParamsNamingTimeoutAndTheBoxRuns(string parameters)
    {
        using var client = await LineSocketClient.ConnectAsync(ControlSocket);

        var answer = await client.CallAsync($$"""{"jsonrpc":"2.0","id":1,"method":"pod.stop","params":{{parameters}}}""");
        var info = await client.CallAsync("""{"jsonrpc":"2.0","id":2,"method":"pod.info"}""");

        Assert.Equal(-32602, ErrorCode(answer));
        Assert.Equal("timeout", answer.GetProperty("error").GetProperty("data").GetProperty("field").GetString());
        Assert.Equal("running", info.GetProperty("result").GetProperty("state").GetString());
    }

    [Fact]
    public async Task LineOverOneMiB_ErrorAndDropped_ThenServesNewConnections()
    {
        using var client = await LineSocketClient.ConnectAsync(ControlSocket);
        var huge = new byte[(1024 * 1024) + 1];
        huge.AsSpan().Fill((byte)'x');

        try
        {
            await client.SendAsync(huge);
        }
        catch (IOException)
        {
            // The supervisor may close before the last bytes arrive.
        }

        var error = await client.ReadAnswerAsync();
        var closed = await client.ReadAnswerAsync();
        using var next = await LineSocketClient.ConnectAsync(ControlSocket);
        var info = await next.CallAsync("""{"jsonrpc":"2.0","id":1,"method":"pod.info"}""");

        Assert.Equal(-32600, ErrorCode(error!.Value));
        Assert.Null(closed);
        Assert.Equal("running", info.GetProperty("result").GetProperty("state").GetString());
    }

    [Fact]
    public async Task ClientLeavesMidRequest_Dropped_ThenServesNewConnections()
    {
        using (var client = await LineSocketClient.ConnectAsync(ControlSocket))
        {
            await client.SendAsync("""{"jsonrpc":"2.0","id":1,"method":"pod.""");
        }

        using var next = await LineSocketClient.ConnectAsync(ControlSocket);
        var info = await next.CallAsync("""{"jsonrpc":"2.0","id":1,"method":"pod.info"}""");

        Assert.Equal("running", info.GetProperty("result").GetProperty("state").GetString());
    }

    private static int ErrorCode(JsonElement answer) => answer.GetProperty("error").GetProperty("code").GetInt32();
}
