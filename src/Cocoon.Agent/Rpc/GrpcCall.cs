// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace Cocoon.Agent.Rpc;

/// <summary>
/// One gRPC call on one HTTP/2 stream, as the generated service base classes see it. Deadlines
/// (grpc-timeout) are the client's to enforce; the call is cancelled when the client resets the
/// stream or the connection drops.
/// </summary>
internal sealed class GrpcCall(IFeatureCollection features, string method) : ServerCallContext
{
    private readonly IHttpRequestFeature _request = features.GetRequiredFeature<IHttpRequestFeature>();
    private readonly IHttpResponseFeature _response = features.GetRequiredFeature<IHttpResponseFeature>();
    private readonly IHttpResponseBodyFeature _responseBody = features.GetRequiredFeature<IHttpResponseBodyFeature>();
    private readonly Metadata _trailers = [];
    private Metadata? _requestHeaders;

    public System.IO.Pipelines.PipeReader RequestBody { get; } = features.GetRequiredFeature<IRequestBodyPipeFeature>().Reader;

    public System.IO.Pipelines.PipeWriter ResponseBody => _responseBody.Writer;

    protected override string MethodCore => method;

    protected override string HostCore => _request.Headers.Host.ToString();

    protected override string PeerCore => "vsock";

    protected override DateTime DeadlineCore => DateTime.MaxValue;

    protected override Metadata RequestHeadersCore => _requestHeaders ??= CopyRequestHeaders();

    protected override CancellationToken CancellationTokenCore { get; } = features.GetRequiredFeature<IHttpRequestLifetimeFeature>().RequestAborted;

    protected override Metadata ResponseTrailersCore => _trailers;

    protected override Status StatusCore { get; set; }

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => new(null, []);

    /// <summary>The <see cref="GrpcCall"/> behind a context the server passed to a service.</summary>
    public static GrpcCall From(ServerCallContext context) =>
        context as GrpcCall ?? throw new InvalidOperationException("The call did not come through the agent's gRPC server.");

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
        (var read, _current) = await GrpcFraming.ReadMessageAsync(call.RequestBody, marshaller, maxMessageLength, cancellationToken);
        return read;
    }
}

/// <summary>The response side of a streaming call. One write at a time, as gRPC requires.</summary>
internal sealed class GrpcResponseStream<T>(GrpcCall call, Marshaller<T> marshaller) : IServerStreamWriter<T>
{
    public WriteOptions? WriteOptions { get; set; }

    public Task WriteAsync(T message) => WriteAsync(message, call.CancellationToken);

    public Task WriteAsync(T message, CancellationToken cancellationToken) =>
        GrpcFraming.WriteMessageAsync(call.ResponseBody, marshaller, message, cancellationToken).AsTask();
}
