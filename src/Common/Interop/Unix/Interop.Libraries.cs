// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>
/// Every native call Cocoon makes, host and guest. The files under <c>src/Common/Interop/Unix</c>
/// are compiled into each project that needs them (<c>&lt;Compile Include Link&gt;</c>, as
/// dotnet/runtime shares <c>Common/src/Interop/Unix</c>), one file per syscall family, so each libc
/// import is written once. Imports are private and return raw results; the wrappers retry EINTR
/// through <see cref="Call{TState}"/> and turn errno into a <see cref="CocoonException"/> through
/// the one table in <see cref="ErrorCodeOf"/>.
/// </summary>
/// <remarks>
/// Each assembly gets its own internal copy, so no assembly that compiles these files may see
/// another's internals (that would make <c>Cocoon.Interop</c> ambiguous, CS0436).
/// </remarks>
internal static partial class Interop
{
    /// <summary>The C library every import binds to (glibc on the hosts and in the guest image).</summary>
    internal const string Libc = "libc";
}
