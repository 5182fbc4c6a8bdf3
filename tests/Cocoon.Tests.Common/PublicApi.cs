// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Reflection;
using Xunit;

namespace Cocoon.Tests.Common;

/// <summary>
/// API approval: an assembly's public surface, one line per type and member, compared with a
/// checked-in <c>PublicApi.approved.txt</c>. A change shows in review as a change to that file.
/// </summary>
public static class PublicApi
{
    /// <summary>The public surface of <paramref name="assembly"/>, sorted.</summary>
    public static string Describe(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var lines = new List<string>();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            lines.Add($"type {type.FullName}");
            lines.AddRange(type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(m => m is not MethodInfo { IsSpecialName: true })
                .Select(m => $"  {m.MemberType} {m}")
                .Where(m => !m.Contains("<Clone>$", StringComparison.Ordinal))
                .OrderBy(m => m, StringComparer.Ordinal));
        }

        return string.Join('\n', lines) + "\n";
    }

    /// <summary>
    /// Fails unless the surface of <paramref name="assembly"/> equals the approved file
    /// <c>tests/&lt;testProject&gt;/PublicApi.approved.txt</c>; on a mismatch it writes
    /// <c>PublicApi.received.txt</c> beside it, to review and copy over when the change is meant.
    /// </summary>
    public static void AssertApproved(Assembly assembly, string testProject)
    {
        var directory = Path.Combine(RepoLayout.Root, "tests", testProject);
        var approvedPath = Path.Combine(directory, "PublicApi.approved.txt");
        var receivedPath = Path.Combine(directory, "PublicApi.received.txt");
        var actual = Describe(assembly);
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath) : "";
        if (approved == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        Assert.Fail($"The public API of {assembly.GetName().Name} changed: compare {receivedPath} with {approvedPath} and copy it over if the change is meant.");
    }
}
