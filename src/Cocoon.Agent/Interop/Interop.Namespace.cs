// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Cocoon.Agent;

internal static partial class Interop
{
    // <linux/sched.h>
    internal const int CLONE_NEWNET = 0x40000000;

    [LibraryImport(Libc, EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(SafeFileHandle fd, int nstype);
}
