// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Shim.Ttrpc;

/// <summary>
/// gRPC status codes, which ttrpc carries in every response and containerd's errdefs reads back
/// (NotFound, AlreadyExists, FailedPrecondition, InvalidArgument, Unimplemented, ...).
/// </summary>
internal enum TtrpcCode
{
    /// <summary>Success.</summary>
    Ok = 0,

    /// <summary>The call was cancelled.</summary>
    Cancelled = 1,

    /// <summary>An error with no better code (errdefs: unknown).</summary>
    Unknown = 2,

    /// <summary>Bad input (errdefs: ErrInvalidArgument).</summary>
    InvalidArgument = 3,

    /// <summary>The deadline passed.</summary>
    DeadlineExceeded = 4,

    /// <summary>No such task, exec or sandbox (errdefs: ErrNotFound).</summary>
    NotFound = 5,

    /// <summary>The id is taken (errdefs: ErrAlreadyExists).</summary>
    AlreadyExists = 6,

    /// <summary>A limit was hit, such as the frame size.</summary>
    ResourceExhausted = 8,

    /// <summary>Not in a state for this (errdefs: ErrFailedPrecondition).</summary>
    FailedPrecondition = 9,

    /// <summary>Not supported by this shim (errdefs: ErrNotImplemented).</summary>
    Unimplemented = 12,

    /// <summary>A bug or a broken invariant.</summary>
    Internal = 13,

    /// <summary>The box or the service cannot be reached now (errdefs: ErrUnavailable).</summary>
    Unavailable = 14,
}

/// <summary>A call that ends with a non-OK ttrpc status: thrown by handlers, and by the client for a failed call.</summary>
internal sealed class TtrpcException(TtrpcCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The status code sent or received.</summary>
    public TtrpcCode Code { get; } = code;

    /// <summary>The status for an exception thrown by a handler: its own, Cocoon's mapped, else Unknown.</summary>
    public static (TtrpcCode Code, string Message) StatusOf(Exception exception) => exception switch
    {
        TtrpcException t => (t.Code, t.Message),
        CocoonException c => (c.Code switch
        {
            CocoonErrorCode.InvalidArgument => TtrpcCode.InvalidArgument,
            CocoonErrorCode.NotFound => TtrpcCode.NotFound,
            CocoonErrorCode.AlreadyExists => TtrpcCode.AlreadyExists,
            CocoonErrorCode.InvalidState => TtrpcCode.FailedPrecondition,
            CocoonErrorCode.Timeout => TtrpcCode.DeadlineExceeded,
            CocoonErrorCode.Unsupported => TtrpcCode.Unimplemented,
            CocoonErrorCode.ResourceExhausted => TtrpcCode.ResourceExhausted,
            CocoonErrorCode.Unavailable => TtrpcCode.Unavailable,
            _ => TtrpcCode.Unknown,
        }, c.Message),
        OperationCanceledException => (TtrpcCode.Cancelled, "the call was cancelled"),
        _ => (TtrpcCode.Unknown, exception.Message),
    };
}
