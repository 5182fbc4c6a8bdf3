// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Tests.Common;

/// <summary>Finds the repository and the built executables tests spawn.</summary>
public static class RepoLayout
{
    /// <summary>The repository root: the first directory above the test binaries holding Cocoon.slnx.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration of the running tests ("debug" or "release").</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;

    /// <summary>The built <c>cocoon</c> CLI of the same configuration.</summary>
    public static string CliExecutable => Existing(Path.Combine(Root, "artifacts", "bin", "Cocoon.Cli", $"{Configuration}_linux-x64", "cocoon"));

    /// <summary>The built state worker (<c>dotnet</c> runs it).</summary>
    public static string WorkerAssembly => Existing(Path.Combine(Root, "artifacts", "bin", "Cocoon.Tests.Worker", Configuration, "Cocoon.Tests.Worker.dll"));

    private static string Existing(string path) =>
        File.Exists(path) ? path : throw new FileNotFoundException($"'{path}' is not built; build the test project first", path);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Cocoon.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Cocoon.slnx above '{AppContext.BaseDirectory}'");
    }
}
