// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Cocoon.Agent.Internal;

/// <summary>
/// The one place a <see cref="CocoonException"/> becomes a gRPC status. Anything else is left to
/// grpc-dotnet, which reports Unknown "Exception was thrown by handler." (details only with
/// EnableDetailedErrors).
/// </summary>
internal sealed class ErrorInterceptor : Interceptor
{
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

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (CocoonException ex)
        {
            throw ToRpcException(ex);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (CocoonException ex)
        {
            throw ToRpcException(ex);
        }
    }

    private static RpcException ToRpcException(CocoonException ex) => new(new Status(ToStatusCode(ex.Code), ex.Message));
}
