// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Tests.Common;

/// <summary>A fresh, short state root under /tmp (socket paths stay far from sun_path); deleted on dispose.</summary>
public sealed class TempStateRoot : IDisposable
{
    /// <summary>
    /// When set, boxes' logs are copied under this directory before their state is removed, so a
    /// failure seen only in a CI or fresh-clone run can be read afterwards (<c>scripts/test</c> sets it).
    /// </summary>
    public const string KeepLogsVariable = "COCOON_TEST_LOGS";

    private static readonly string[] LogFiles = ["supervisor.log", "console.log", "box.log"];

    /// <summary>Creates the directory.</summary>
    public TempStateRoot()
    {
        Path = Directory.CreateTempSubdirectory("cct-").FullName;
    }

    /// <summary>The root directory.</summary>
    public string Path { get; }

    /// <summary>
    /// Copies every box's logs to <c>$COCOON_TEST_LOGS/&lt;root&gt;/&lt;box&gt;/</c> when that variable is
    /// set; a no-op otherwise. Call it before removing boxes; <see cref="Dispose"/> calls it too.
    /// </summary>
    public void KeepLogs()
    {
        var keep = Environment.GetEnvironmentVariable(KeepLogsVariable);
        var boxes = System.IO.Path.Combine(Path, "boxes");
        if (string.IsNullOrEmpty(keep) || !Directory.Exists(boxes))
        {
            return;
        }

        foreach (var box in Directory.EnumerateDirectories(boxes))
        {
            var target = System.IO.Path.Combine(keep, System.IO.Path.GetFileName(Path), System.IO.Path.GetFileName(box));
            foreach (var log in LogFiles.Select(name => System.IO.Path.Combine(box, name)).Where(File.Exists))
            {
                Directory.CreateDirectory(target);
                File.Copy(log, System.IO.Path.Combine(target, System.IO.Path.GetFileName(log)), overwrite: true);
            }
        }
    }

    /// <summary>Keeps the logs (see <see cref="KeepLogs"/>), then deletes the directory and everything in it.</summary>
    public void Dispose()
    {
        KeepLogs();
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
