// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Agent.Init;

/// <summary>
/// Loads kernel modules with finit_module(2): the boot configuration's lean set at boot
/// (<see cref="GuestInit.Configure"/>), and a module set the initramfs carries but loads only when
/// something first needs it (<see cref="Protocol.GuestModuleSets"/>: a container with the Docker profile).
/// A module that is already loaded (EEXIST) counts as loaded.
/// </summary>
internal static class KernelModules
{
    private static readonly Lock SetLock = new();
    private static readonly HashSet<string> LoadedSets = new(StringComparer.Ordinal);

    /// <summary>Loads <paramref name="paths"/> in order; returns how many loaded and each failure.</summary>
    public static (uint Loaded, List<(string Module, CocoonException Error)> Failures) Load(IEnumerable<string> paths)
    {
        uint loaded = 0;
        var failures = new List<(string, CocoonException)>();
        foreach (var module in paths)
        {
            try
            {
                using var file = Interop.OpenFile(module, Interop.OpenFlags.O_RDONLY);
                var result = Interop.FinitModule(file);
                if (result.Error != Interop.Errno.EEXIST)
                {
                    result.ThrowIfFailed($"finit_module '{module}'");
                }

                loaded++;
            }
            catch (CocoonException ex)
            {
                failures.Add((module, ex));
            }
        }

        return (loaded, failures);
    }

    /// <summary>
    /// Loads the module set listed in <paramref name="listPath"/> (guest paths, one a line, in load
    /// order) once per boot; later calls return at once. <paramref name="missingHint"/> says what to do
    /// when this box carries no such set.
    /// </summary>
    /// <exception cref="CocoonException">InvalidState when the list is missing or a module fails to load.</exception>
    public static void EnsureSet(string listPath, string missingHint)
    {
        lock (SetLock)
        {
            if (LoadedSets.Contains(listPath))
            {
                return;
            }

            if (!File.Exists(listPath))
            {
                throw new CocoonException(CocoonErrorCode.InvalidState, $"This box carries no module set '{listPath}': {missingHint}");
            }

            var (_, failures) = Load(File.ReadLines(listPath).Where(line => line.Length > 0));
            if (failures.Count > 0)
            {
                throw new CocoonException(
                    CocoonErrorCode.InvalidState,
                    $"Loading the module set '{listPath}' failed: {string.Join("; ", failures.Select(f => f.Error.Message))}");
            }

            LoadedSets.Add(listPath);
        }
    }
}
