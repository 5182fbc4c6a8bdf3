// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace Cocoon.Agent.Rpc;

/// <summary>
/// One gRPC call on one HTTP/2 stream, as the generated service base classes see it. Deadlines
/// (grpc-timeout) are the client's to enforce; the call is cancelled when the client resets the
/// stream or the connection drops.
/// </summary>
/// <remarks>
/// The call's token is its own, not Kestrel's <c>RequestAborted</c>: on a reset Kestrel stops the
/// stream's output at once but cancels <c>RequestAborted</c> later, from the thread pool. A handler
/// whose write or read meets the dead stream in between must already see the call cancelled, or its
/// <see cref="OperationCanceledException"/> reads as a failure of the agent (logged with its stack,
/// status Unknown). So a closed response or a reset request body cancels the token first.
/// </remarks>
internal sealed class GrpcCall : ServerCallContext, IDisposable
{
    private readonly IHttpRequestFeature _request;
    private readonly IHttpResponseFeature _response;
    private readonly IHttpResponseBodyFeature _responseBody;
    private readonly Metadata _trailers = [];
    private readonly string _method;
    private readonly CancellationTokenSource _clientLeft = new();
    private readonly CancellationTokenRegistration _requestAborted;
    private Metadata? _requestHeaders;

    public GrpcCall(IFeatureCollection features, string method)
    {
        _request = features.GetRequiredFeature<IHttpRequestFeature>();
        _response = features.GetRequiredFeature<IHttpResponseFeature>();
        _responseBody = features.GetRequiredFeature<IHttpResponseBodyFeature>();
        RequestBody = features.GetRequiredFeature<IRequestBodyPipeFeature>().Reader;
        _method = method;
        _requestAborted = features.GetRequiredFeature<IHttpRequestLifetimeFeature>().RequestAborted
            .UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), _clientLeft);
    }

    public System.IO.Pipelines.PipeReader RequestBody { get; }

    public System.IO.Pipelines.PipeWriter ResponseBody => _responseBody.Writer;

    protected override string MethodCore => _method;

    protected override string HostCore => _request.Headers.Host.ToString();

    protected override string PeerCore => "vsock";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore => _requestHeaders ??= CopyRequestHeaders();

    protected override CancellationToken CancellationTokenCore => _clientLeft.Token;

    protected override Metadata ResponseTrailersCore => _trailers;

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => new(null, []);

    /// <summary>The <see cref="GrpcCall"/> behind a context the server passed to a service.</summary>
    public static GrpcCall From(ServerCallContext context) =>
        context as GrpcCall ?? throw new InvalidOperationException("The call did not come through the agent's gRPC server.");

    /// <summary>Reads one request message; false at the clean end of the request stream.</summary>
    public async ValueTask<(bool Read, T? Message)> ReadMessageAsync<T>(Marshaller<T> marshaller, int maxLength, CancellationToken cancellationToken)
    {
        try
        {
            return await GrpcFraming.ReadMessageAsync(RequestBody, marshaller, maxLength, cancellationToken);
        }
        catch (IOException ex)
        {
            // Kestrel fails the request body with an IOException when the client resets the stream.
            throw ClientLeft(ex);
        }
    }

    /// <summary>Writes one response message; throws <see cref="OperationCanceledException"/>, with the call cancelled, once the client is gone.</summary>
    public async ValueTask WriteMessageAsync<T>(Marshaller<T> marshaller, T message, CancellationToken cancellationToken)
    {
        if (!await GrpcFraming.WriteMessageAsync(ResponseBody, marshaller, message, cancellationToken))
        {
            throw ClientLeft(null);
        }
    }

    /// <summary>Stops following the stream's abort; the call's token keeps its state.</summary>
    public void Dispose() => _requestAborted.Dispose();

    /// <summary>Runs <paramref name="action"/> once the response (trailers included) has been sent.</summary>
    public void OnResponseCompleted(Action action) => _response.OnCompleted(
        static state =>
        {
            ((Action)state).Invoke();
            return Task.CompletedTask;
        },
        action);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("The agent does not propagate calls.");

    protected override async Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        foreach (var entry in responseHeaders)
        {
            _response.Headers.Append(entry.Key, entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value);
        }

        await _responseBody.StartAsync(CancellationToken);
    }

    private OperationCanceledException ClientLeft(Exception? cause)
    {
        _clientLeft.Cancel();
        return new OperationCanceledException("The client left the call.", cause, _clientLeft.Token);
    }

    private Metadata CopyRequestHeaders()
    {
        var metadata = new Metadata();
        foreach (var (name, values) in _request.Headers)
        {
            if (!name.StartsWith(':'))
            {
                foreach (var value in values)
                {
                    metadata.Add(name, value ?? string.Empty);
                }
            }
        }

        return metadata;
    }
}

/// <summary>The request side of a streaming call: length-prefixed messages from the request body.</summary>
internal sealed class GrpcRequestStream<T>(GrpcCall call, Marshaller<T> marshaller, int maxMessageLength) : IAsyncStreamReader<T>
{
    private T? _current;

    public T Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        (var read, _current) = await call.ReadMessageAsync(marshaller, maxMessageLength, cancellationToken);
        return read;
    }
}

/// <summary>The response side of a streaming call. One write at a time, as gRPC requires.</summary>
internal sealed class GrpcResponseStream<T>(GrpcCall call, Marshaller<T> marshaller) : IServerStreamWriter<T>
{
    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message) => WriteAsync(message, call.CancellationToken);

    public Task WriteAsync(T message, CancellationToken cancellationToken) =>
        call.WriteMessageAsync(marshaller, message, cancellationToken).AsTask();
}
