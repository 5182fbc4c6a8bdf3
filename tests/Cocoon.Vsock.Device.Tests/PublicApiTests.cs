// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Reflection;

namespace Cocoon.Vsock.Device.Tests;

/// <summary>Makes public surface changes visible in review: the API must match the approved list.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApi_Surface_MatchesApprovedList()
    {
        var lines = new List<string>();
        foreach (var type in typeof(VsockDevice).Assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            lines.Add($"type {type.FullName}");
            var members = type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => m is not MethodInfo { IsSpecialName: true })
                .Select(m => $"  {m.MemberType} {m}")
                .Where(m => !m.Contains("<Clone>$", StringComparison.Ordinal))
                .OrderBy(m => m, StringComparer.Ordinal);
            lines.AddRange(members);
        }

        string actual = string.Join('\n', lines) + "\n";
        string approvedPath = Path.Combine(AppContext.BaseDirectory, "PublicApi.approved.txt");
        string approved = File.ReadAllText(approvedPath);
        if (approved != actual)
        {
            File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "PublicApi.received.txt"), actual);
        }

        Assert.Equal(approved, actual);
    }
}
