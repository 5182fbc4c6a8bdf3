// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Grpc.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Cocoon.Agent.Rpc;

/// <summary>
/// The agent's gRPC server on top of Kestrel's HTTP/2, without the ASP.NET Core host, DI or routing.
/// </summary>
/// <remarks>
/// The agent is PID 1 and every box waits for it: under TCG the generic host, DI container, endpoint
/// routing and grpc-aspnetcore cost about a second of guest time before the first call, most of it
/// translating code that runs once. This class is what the agent needs of them: the generated
/// <c>BindService</c> methods register each service's unary and duplex handlers here, a request is
/// matched on its exact path, messages are framed by <see cref="GrpcFraming"/>, and the outcome
/// becomes grpc-status/grpc-message trailers. <see cref="CocoonException"/> maps to its status in
/// <see cref="ToStatusCode"/>, the one place that happens; any other exception is Unknown.
/// </remarks>
internal sealed class GrpcDispatcher : ServiceBinderBase, IHttpApplication<IFeatureCollection>
{
    private readonly Dictionary<string, Func<GrpcCall, Task>> _methods = new(StringComparer.Ordinal);
    private readonly int _maxMessageLength;
    private readonly bool _detailedErrors;
    private readonly ILogger _logger;

    public GrpcDispatcher(int maxMessageLength, bool detailedErrors, ILogger logger)
    {
        _maxMessageLength = maxMessageLength;
        _detailedErrors = detailedErrors;
        _logger = logger;
    }

    public static StatusCode ToStatusCode(CocoonErrorCode code) => code switch
    {
        CocoonErrorCode.InvalidArgument => StatusCode.InvalidArgument,
        CocoonErrorCode.NotFound => StatusCode.NotFound,
        CocoonErrorCode.AlreadyExists => StatusCode.AlreadyExists,
        CocoonErrorCode.InvalidState => StatusCode.FailedPrecondition,
        CocoonErrorCode.Timeout => StatusCode.DeadlineExceeded,
        CocoonErrorCode.Unsupported => StatusCode.Unimplemented,
        CocoonErrorCode.ResourceExhausted => StatusCode.ResourceExhausted,
        CocoonErrorCode.Unavailable => StatusCode.Unavailable,
        _ => StatusCode.Internal,
    };

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _methods.Add(method.FullName, async call =>
        {
            var (read, request) = await call.ReadMessageAsync(method.RequestMarshaller, _maxMessageLength, call.CancellationToken);
            if (!read)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"{method.FullName} needs one request message; the stream ended without one."));
            }

            var response = await handler(request!, call);
            await call.WriteMessageAsync(method.ResponseMarshaller, response, call.CancellationToken);
        });
    }

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _methods.Add(method.FullName, call => handler(
            new GrpcRequestStream<TRequest>(call, method.RequestMarshaller, _maxMessageLength),
            new GrpcResponseStream<TResponse>(call, method.ResponseMarshaller),
            call));
    }

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        throw new NotSupportedException($"{method.FullName}: the agent's server has no client-streaming calls; add support here first.");

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _methods.Add(method.FullName, async call =>
        {
            var (read, request) = await call.ReadMessageAsync(method.RequestMarshaller, _maxMessageLength, call.CancellationToken);
            if (!read)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"{method.FullName} needs one request message; the stream ended without one."));
            }

            await handler(request!, new GrpcResponseStream<TResponse>(call, method.ResponseMarshaller), call);
        });
    }

    public IFeatureCollection CreateContext(IFeatureCollection contextFeatures) => contextFeatures;

    public void DisposeContext(IFeatureCollection context, Exception? exception)
    {
    }

    public async Task ProcessRequestAsync(IFeatureCollection context)
    {
        var request = context.GetRequiredFeature<IHttpRequestFeature>();
        var response = context.GetRequiredFeature<IHttpResponseFeature>();
        if (!HttpMethods.IsPost(request.Method) || !request.Headers.ContentType.ToString().StartsWith("application/grpc", StringComparison.Ordinal))
        {
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.ContentType = "application/grpc";
        var trailers = context.GetRequiredFeature<IHttpResponseTrailersFeature>().Trailers;
        Status status;
        if (_methods.TryGetValue(request.Path, out var run))
        {
            using var call = new GrpcCall(context, request.Path);
            status = await RunAsync(run, call);
        }
        else
        {
            status = new Status(StatusCode.Unimplemented, $"The agent has no method {request.Path}.");
        }

        trailers["grpc-status"] = ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (status.Detail.Length > 0)
        {
            trailers["grpc-message"] = GrpcFraming.EncodeStatusMessage(status.Detail);
        }
    }

    private async Task<Status> RunAsync(Func<GrpcCall, Task> run, GrpcCall call)
    {
        try
        {
            await run(call);
            return Status.DefaultSuccess;
        }
        catch (CocoonException ex)
        {
            return new Status(ToStatusCode(ex.Code), ex.Message);
        }
        catch (RpcException ex)
        {
            return ex.Status;
        }
        catch (OperationCanceledException) when (call.CancellationToken.IsCancellationRequested)
        {
            return new Status(StatusCode.Cancelled, "The client cancelled the call.");
        }
        catch (Exception ex)
        {
            AgentLog.CallFailed(_logger, call.Method, ex);
            return new Status(StatusCode.Unknown, _detailedErrors ? $"Exception was thrown by handler. {ex.GetType().Name}: {ex.Message}" : "Exception was thrown by handler.");
        }
    }
}
