// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.GuestAgent;
using Grpc.Core;

namespace Cocoon.Tests.GuestAgent;

public sealed class GrpcErrorMappingTests
{
    [Fact]
    public void ToCocoonException_Cancelled_IsOperationCanceled()
    {
        var error = GrpcGuestAgent.ToCocoonException(new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client.")), "GetInfo");

        Assert.IsType<OperationCanceledException>(error, exactMatch: false);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable, CocoonErrorCode.Unavailable)]
    [InlineData(StatusCode.NotFound, CocoonErrorCode.NotFound)]
    [InlineData(StatusCode.DeadlineExceeded, CocoonErrorCode.Timeout)]
    public void ToCocoonException_OtherStatus_IsCocoonExceptionWithItsCode(StatusCode status, CocoonErrorCode expected)
    {
        var error = GrpcGuestAgent.ToCocoonException(new RpcException(new Status(status, "detail")), "GetInfo");

        Assert.Equal(expected, Assert.IsType<CocoonException>(error).Code);
    }
}
