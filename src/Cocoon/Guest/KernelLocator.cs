// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest;

/// <summary>
/// Finds the guest kernel: by default the host's Debian cloud kernel (the newest
/// <c>/boot/vmlinuz-*-cloud-amd64</c> that has a <c>/lib/modules/&lt;version&gt;</c> tree), or a kernel
/// the user names.
/// </summary>
internal static class KernelLocator
{
    internal const string DefaultBootDirectory = "/boot";
    internal const string DefaultModulesRoot = "/lib/modules";
    private const string KernelPrefix = "vmlinuz-";
    private const string CloudSuffix = "-cloud-amd64";
    private const string InstallHint = "Install the Debian cloud kernel with 'apt-get install linux-image-cloud-amd64', or name a kernel explicitly.";

    /// <summary>Returns the newest cloud kernel under <paramref name="bootDirectory"/> with a module tree.</summary>
    public static GuestKernel FindDefault(string bootDirectory = DefaultBootDirectory, string modulesRoot = DefaultModulesRoot)
    {
        var candidates = Directory.Exists(bootDirectory)
            ? Directory.GetFiles(bootDirectory, KernelPrefix + "*" + CloudSuffix)
            : [];
        if (candidates.Length == 0)
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"No guest kernel found: there is no {bootDirectory}/{KernelPrefix}*{CloudSuffix}. {InstallHint}");
        }

        var versions = candidates
            .Select(path => Path.GetFileName(path)[KernelPrefix.Length..])
            .OrderByDescending(v => v, KernelVersionComparer.Instance)
            .ToList();
        foreach (var version in versions)
        {
            var modules = Path.Combine(modulesRoot, version);
            if (File.Exists(Path.Combine(modules, "modules.dep")))
            {
                return FromPath(Path.Combine(bootDirectory, KernelPrefix + version), modules);
            }
        }

        throw new CocoonException(CocoonErrorCode.NotFound, $"Found kernel {bootDirectory}/{KernelPrefix}{versions[0]} but no module tree {modulesRoot}/{versions[0]}/modules.dep. Reinstall the package: 'apt-get install --reinstall linux-image-{versions[0]}'.");
    }

    /// <summary>
    /// Describes a kernel the user named. The version comes from the file name <c>vmlinuz-&lt;version&gt;</c>
    /// unless <paramref name="modulesDirectory"/> is given, in which case its last path component is used.
    /// </summary>
    public static GuestKernel FromPath(string kernelPath, string? modulesDirectory = null, string modulesRoot = DefaultModulesRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(kernelPath);
        kernelPath = Path.GetFullPath(kernelPath);
        if (!File.Exists(kernelPath))
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"Guest kernel '{kernelPath}' does not exist. {InstallHint}");
        }

        try
        {
            using var probe = File.OpenRead(kernelPath);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Guest kernel '{kernelPath}' is not readable by this user (Debian installs kernels mode 0600). Make it readable ('chmod 0644 {kernelPath}') or copy it somewhere readable and name that file.", ex);
        }

        string version;
        if (modulesDirectory is not null)
        {
            modulesDirectory = Path.GetFullPath(modulesDirectory);
            version = Path.GetFileName(Path.TrimEndingDirectorySeparator(modulesDirectory));
        }
        else
        {
            var name = Path.GetFileName(kernelPath);
            if (!name.StartsWith(KernelPrefix, StringComparison.Ordinal) || name.Length == KernelPrefix.Length)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"Cannot tell the version of guest kernel '{kernelPath}': its name is not 'vmlinuz-<version>'. Name its module directory (the one holding modules.dep) explicitly.");
            }

            version = name[KernelPrefix.Length..];
            modulesDirectory = Path.Combine(modulesRoot, version);
        }

        if (!File.Exists(Path.Combine(modulesDirectory, "modules.dep")))
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"Guest kernel '{kernelPath}' (version {version}) has no module tree: '{modulesDirectory}/modules.dep' does not exist. Install the matching modules ('apt-get install linux-image-{version}') or name the module directory.");
        }

        return new GuestKernel(kernelPath, version, modulesDirectory);
    }
}

/// <summary>Orders kernel releases like "6.1.0-56-cloud-amd64" by their numeric parts, then ordinally.</summary>
internal sealed class KernelVersionComparer : IComparer<string>
{
    public static readonly KernelVersionComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var si = i;
                var sj = j;
                while (i < x.Length && char.IsAsciiDigit(x[i]))
                {
                    i++;
                }

                while (j < y.Length && char.IsAsciiDigit(y[j]))
                {
                    j++;
                }

                var a = x.AsSpan(si, i - si).TrimStart('0');
                var b = y.AsSpan(sj, j - sj).TrimStart('0');
                var byLength = a.Length.CompareTo(b.Length);
                if (byLength != 0)
                {
                    return byLength;
                }

                var byDigits = a.SequenceCompareTo(b);
                if (byDigits != 0)
                {
                    return byDigits;
                }
            }
            else
            {
                var byChar = x[i].CompareTo(y[j]);
                if (byChar != 0)
                {
                    return byChar;
                }

                i++;
                j++;
            }
        }

        return (x.Length - i).CompareTo(y.Length - j);
    }
}
