// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;
using Cocoon.Vsock.Streams;

namespace Cocoon.Supervisor.Tests;

public sealed class PortDialMethodTests
{
    [Fact]
    public void Parse_AllFields_DialRequest()
    {
        var dial = PortDialMethod.Parse(Params("""{"network":"udp","port":53,"address":"::1","container":"web"}"""));

        Assert.Equal(new DialRequest(DialNetwork.Udp, 53, "::1", "web"), dial);
    }

    [Fact]
    public void Parse_OnlyRequired_DefaultsLeftToTheAgent()
    {
        Assert.Equal(new DialRequest(DialNetwork.Tcp, 80), PortDialMethod.Parse(Params("""{"network":"tcp","port":80,"address":null}""")));
    }

    [Theory]
    [InlineData("""{"port":80}""", "network")]
    [InlineData("""{"network":"sctp","port":80}""", "network")]
    [InlineData("""{"network":6,"port":80}""", "network")]
    [InlineData("""{"network":"tcp"}""", "port")]
    [InlineData("""{"network":"tcp","port":0}""", "port")]
    [InlineData("""{"network":"tcp","port":65536}""", "port")]
    [InlineData("""{"network":"tcp","port":80.5}""", "port")]
    [InlineData("""{"network":"tcp","port":"80"}""", "port")]
    [InlineData("""{"network":"tcp","port":80,"address":"not-an-ip"}""", "address")]
    [InlineData("""{"network":"tcp","port":80,"address":7}""", "address")]
    [InlineData("""{"network":"tcp","port":80,"container":"a/b"}""", "container")]
    [InlineData("""[80]""", "params")]
    public void Parse_BadField_InvalidParamsNamingIt(string parameters, string field)
    {
        var e = Assert.Throws<ControlException>(() => PortDialMethod.Parse(Params(parameters)));

        Assert.Equal(ControlErrorCodes.InvalidParams, e.Code);
        Assert.Equal(field, e.Field);
        Assert.StartsWith("pod.portDial: ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(StreamStatusCode.Refused, ControlErrorCodes.DialRefused, "refused")]
    [InlineData(StreamStatusCode.BoxNotRunning, ControlErrorCodes.BoxNotRunning, "box-not-running")]
    [InlineData(StreamStatusCode.Unreachable, ControlErrorCodes.DialFailed, "unreachable")]
    [InlineData(StreamStatusCode.Timeout, ControlErrorCodes.DialFailed, "timeout")]
    public void ToControlException_DialStatus_ServerCodeAndStatusWord(StreamStatusCode status, int code, string word)
    {
        var e = PortDialMethod.ToControlException(new StreamException(status, "dial tcp port 81: no"));

        Assert.Equal(code, e.Code);
        Assert.Equal(word, e.Status);
        Assert.Equal("pod.portDial: dial tcp port 81: no", e.Message);
    }

    private static JsonElement Params(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
