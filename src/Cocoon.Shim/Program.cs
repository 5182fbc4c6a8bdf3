// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Shim;

internal static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine($"containerd-shim-cocoon-v1: the shim's commands come with the Task service; got '{string.Join(' ', args)}'");
        return 2;
    }
}
