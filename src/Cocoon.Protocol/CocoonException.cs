// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// The one exception type Cocoon throws for expected failures. <see cref="Code"/> is closed (see
/// <see cref="CocoonErrorCode"/>); the message says what was wrong and what to do about it.
/// </summary>
public class CocoonException : Exception
{
    /// <summary>Creates an exception with a code and a message that names the bad input.</summary>
    /// <param name="code">What kind of failure this is.</param>
    /// <param name="message">What was wrong, naming the input, and what to do.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public CocoonException(CocoonErrorCode code, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
    }

    /// <summary>The kind of failure.</summary>
    public CocoonErrorCode Code { get; }
}
