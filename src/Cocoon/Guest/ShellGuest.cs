// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;

namespace Cocoon.Guest;

/// <summary>
/// A guest without the agent, for tests and benchmarks that need the bare kernel and a shell:
/// busybox (and whatever the caller adds) with a <c>/init</c> script that mounts /proc, /sys and
/// /dev, loads the named modules with their dependencies, then runs the caller's script.
/// </summary>
internal static class ShellGuest
{
    /// <summary>Builds the image; add executables to the returned builder before building it.</summary>
    /// <param name="kernel">The guest kernel, whose modules.dep resolves <paramref name="modules"/>.</param>
    /// <param name="modules">Module names to load, in order (dependencies come first by themselves).</param>
    /// <param name="name">Prefixes the script's own console lines (insmod failures).</param>
    /// <param name="script">busybox sh lines to run after the modules are loaded; PATH is set.</param>
    public static InitramfsBuilder Create(GuestKernel kernel, IEnumerable<string> modules, string name, string script)
    {
        var builder = new InitramfsBuilder()
            .AddConsoleDevices()
            .AddDirectory("/proc")
            .AddDirectory("/sys")
            .AddDirectory("/tmp", 0x3FF) // 01777
            .AddBusybox();
        var paths = builder.AddModules(kernel, modules);

        var init = new StringBuilder();
        init.Append("""
            #!/bin/busybox sh
            export PATH=/bin:/sbin:/usr/bin:/usr/sbin
            mount -t proc proc /proc
            mount -t sysfs sys /sys
            mount -t devtmpfs dev /dev
            for m in
            """);
        foreach (var path in paths)
        {
            init.Append(' ').Append(path);
        }

        init.Append($"""
            ; do
              insmod "$m" || echo "{name}: insmod $m failed"
            done

            """).Append(script);
        builder.AddText("/init", init.ToString(), InitramfsBuilder.ExecutableMode);
        return builder;
    }
}
