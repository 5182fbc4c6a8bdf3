// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Oci;

/// <summary>The Unix file-mode calls of the image code, behind one platform check (Cocoon runs on Linux only).</summary>
internal static class UnixFiles
{
    /// <summary>rwx------.</summary>
    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw-------.</summary>
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates a directory (and its parents) with <paramref name="mode"/>.</summary>
    public static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Cocoon runs on Linux only");
        }

        Directory.CreateDirectory(path, mode);
    }

    /// <summary>chmod(2).</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Cocoon runs on Linux only");
        }

        File.SetUnixFileMode(path, mode);
    }

    /// <summary>Creates a new file readable and writable by its owner only.</summary>
    public static FileStream CreatePrivate(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Cocoon runs on Linux only");
        }

        return new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = PrivateFile });
    }
}
