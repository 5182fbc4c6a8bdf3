// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.IO.Pipelines;
using System.Runtime.Versioning;
using Cocoon.Agent.Rpc;
using Cocoon.Protocol.Agent.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cocoon.Agent.Tests;

/// <summary>
/// The dispatcher on fake Kestrel features, in the window Kestrel leaves on a reset: the stream's
/// body is already dead while <c>RequestAborted</c> is not cancelled yet (Kestrel cancels it later,
/// from the thread pool). A client leaving there is a cancelled call, not a failure of the agent.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class GrpcDispatcherTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly Method<GetInfoResponse, GetInfoResponse> Duplex = new(MethodType.DuplexStreaming, "test.Svc", "Duplex", GrpcFramingTests.Marshaller, GrpcFramingTests.Marshaller);

    [Fact]
    public async Task Duplex_ResponseClosedBeforeRequestAborted_CancelledAndTokenCancelled()
    {
        var call = new FakeCall();
        await call.ResponseBody.Reader.CompleteAsync();
        var token = new TaskCompletionSource<CancellationToken>();
        var dispatcher = Dispatcher(async (_, responses, context) =>
        {
            try
            {
                await responses.WriteAsync(new GetInfoResponse { Hostname = "x" });
            }
            finally
            {
                token.SetResult(context.CancellationToken);
            }
        });

        await dispatcher.ProcessRequestAsync(call.Features).WaitAsync(Timeout);

        Assert.Equal(((int)StatusCode.Cancelled).ToString(System.Globalization.CultureInfo.InvariantCulture), call.Trailers["grpc-status"].ToString());
        Assert.True((await token.Task.WaitAsync(Timeout)).IsCancellationRequested);
    }

    [Fact]
    public async Task Duplex_RequestBodyResetBeforeRequestAborted_Cancelled()
    {
        var call = new FakeCall();
        await call.RequestBody.Writer.CompleteAsync(new IOException("The client reset the request stream."));
        var dispatcher = Dispatcher(async (requests, _, _) => await requests.MoveNext(CancellationToken.None));

        await dispatcher.ProcessRequestAsync(call.Features).WaitAsync(Timeout);

        Assert.Equal(((int)StatusCode.Cancelled).ToString(System.Globalization.CultureInfo.InvariantCulture), call.Trailers["grpc-status"].ToString());
    }

    [Fact]
    public async Task Duplex_HandlerCancelsItsOwnWork_StaysUnknown()
    {
        // An OperationCanceledException the client did not cause is still the agent's failure.
        var call = new FakeCall();
        var dispatcher = Dispatcher((_, _, _) => Task.FromCanceled(new CancellationToken(canceled: true)));

        await dispatcher.ProcessRequestAsync(call.Features).WaitAsync(Timeout);

        Assert.Equal(((int)StatusCode.Unknown).ToString(System.Globalization.CultureInfo.InvariantCulture), call.Trailers["grpc-status"].ToString());
    }

    private static GrpcDispatcher Dispatcher(DuplexStreamingServerMethod<GetInfoResponse, GetInfoResponse> handler)
    {
        var dispatcher = new GrpcDispatcher(1024, detailedErrors: false, NullLogger.Instance);
        dispatcher.AddMethod(Duplex, handler);
        return dispatcher;
    }

    /// <summary>The features Kestrel gives a request, with pipes for bodies and a RequestAborted that never fires.</summary>
    private sealed class FakeCall : IHttpResponseBodyFeature, IRequestBodyPipeFeature, IHttpResponseTrailersFeature
    {
        public FakeCall()
        {
            var request = new HttpRequestFeature { Method = "POST", Path = Duplex.FullName };
            request.Headers.ContentType = "application/grpc";
            Features.Set<IHttpRequestFeature>(request);
            Features.Set<IHttpResponseFeature>(new HttpResponseFeature());
            Features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature());
            Features.Set<IHttpResponseBodyFeature>(this);
            Features.Set<IRequestBodyPipeFeature>(this);
            Features.Set<IHttpResponseTrailersFeature>(this);
        }

        public FeatureCollection Features { get; } = new();

        public Pipe RequestBody { get; } = new();

        public Pipe ResponseBody { get; } = new();

        public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();

        public Stream Stream => throw new NotSupportedException();

        public PipeWriter Writer => ResponseBody.Writer;

        public PipeReader Reader => RequestBody.Reader;

        public Task CompleteAsync() => Task.CompletedTask;

        public void DisableBuffering()
        {
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
