// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.EndToEnd.Tests.Boxes;
using Cocoon.Tests.Common;

namespace Cocoon.EndToEnd.Tests.Sdk;

/// <summary>The README's SDK sample, as printed, in a fresh console project: it must compile and run.</summary>
public sealed class ReadmeSampleTests
{
    [Fact]
    public async Task SdkSample_AsPrinted_CompilesAndRunsWithCocoonOnPath()
    {
        await using var environment = new BoxTestEnvironment();
        var project = Directory.CreateTempSubdirectory("cocoon-sample-");
        try
        {
            File.WriteAllText(Path.Combine(project.FullName, "Program.cs"), ReadmeSample());
            File.WriteAllText(Path.Combine(project.FullName, "Sample.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <ProjectReference Include="{Path.Combine(RepoLayout.Root, "src", "Cocoon", "Cocoon.csproj")}" />
                  </ItemGroup>
                </Project>
                """);

            var build = await ProcessRunner.RunAsync("dotnet", ["build", project.FullName, "-c", "Release", "-o", Path.Combine(project.FullName, "out"), "--nologo", "-v", "quiet"], TimeSpan.FromMinutes(10));
            Assert.True(build.ExitCode == 0, build.Stdout + build.Stderr);

            // No COCOON_PATH: the SDK finds `cocoon` on PATH.
            var run = await ProcessRunner.RunAsync(
                "dotnet",
                [Path.Combine(project.FullName, "out", "Sample.dll")],
                TimeSpan.FromMinutes(3),
                new Dictionary<string, string>
                {
                    ["COCOON_HOME"] = environment.StateRoot,
                    ["PATH"] = Path.GetDirectoryName(BoxTestEnvironment.Cli) + ":" + Environment.GetEnvironmentVariable("PATH"),
                });

            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            Assert.Matches("^hello\n[^\n]+\nping\n0\n$", run.Stdout);
        }
        finally
        {
            project.Delete(recursive: true);
        }
    }

    private static string ReadmeSample()
    {
        var readme = File.ReadAllText(Path.Combine(RepoLayout.Root, "README.md"));
        const string Fence = "```csharp\n";
        var start = readme.IndexOf(Fence, StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no ```csharp sample");
        start += Fence.Length;
        return readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
    }
}
