// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Vsock.Device.Interop;

/// <summary>
/// Every native call the device makes, one file per syscall family. Imports are private and
/// return raw results; the wrappers retry EINTR and return an <see cref="IoResult"/> so hot paths
/// treat failures as values. <see cref="IoResult.ThrowIfFailed"/> is the one place errno becomes
/// an exception.
/// </summary>
internal static partial class Interop
{
    /// <summary>The C library every import binds to (glibc on the hosts Cocoon supports).</summary>
    internal const string Libc = "libc";
}
