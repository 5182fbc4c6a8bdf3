// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Tests.Common;

/// <summary>Writes executable shell scripts that stand in for programs (QEMU, cocoon) in tests.</summary>
public static class ShellScript
{
    /// <summary>Writes <c>#!/bin/sh</c> and <paramref name="body"/> to <paramref name="path"/>, executable by its owner; returns the path.</summary>
    public static string Write(string path, string body)
    {
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }
}
