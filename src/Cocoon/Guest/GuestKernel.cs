// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest;

/// <summary>A guest kernel image and the module tree that belongs to it.</summary>
/// <param name="KernelPath">The bzImage (<c>vmlinuz-&lt;version&gt;</c>) QEMU loads with <c>-kernel</c>.</param>
/// <param name="Version">The kernel release (<c>uname -r</c> in the guest), e.g. <c>6.1.0-56-cloud-amd64</c>.</param>
/// <param name="ModulesDirectory">The directory holding <c>modules.dep</c> for this kernel.</param>
internal sealed record GuestKernel(string KernelPath, string Version, string ModulesDirectory)
{
    /// <summary>Where the modules of this kernel live inside the guest.</summary>
    public string GuestModulesDirectory => "/lib/modules/" + Version;
}
