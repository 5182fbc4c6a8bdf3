// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Guest;

/// <summary>One loadable kernel module.</summary>
/// <param name="Name">The module name with '-' folded to '_' (what <c>lsmod</c> shows).</param>
/// <param name="RelativePath">Its path relative to the module tree, as in <c>modules.dep</c>.</param>
internal sealed record KernelModule(string Name, string RelativePath);

/// <summary>
/// Resolves module names to the modules to load, dependencies first, through the kernel's
/// <c>modules.dep</c>. Modules in <c>modules.builtin</c> are part of the kernel image and need nothing.
/// </summary>
internal sealed class ModuleResolver
{
    private readonly string _modulesDirectory;
    private readonly Dictionary<string, (string Path, string[] Dependencies)> _modules = new(StringComparer.Ordinal);
    private readonly HashSet<string> _builtin = new(StringComparer.Ordinal);

    public ModuleResolver(string modulesDirectory)
    {
        _modulesDirectory = modulesDirectory;
        var depFile = Path.Combine(modulesDirectory, "modules.dep");
        if (!File.Exists(depFile))
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"Kernel module index '{depFile}' does not exist. Install the kernel's modules or run 'depmod' for it.");
        }

        foreach (var line in File.ReadLines(depFile))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var path = line[..colon].Trim();
            var dependencies = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            _modules[NameOf(path)] = (path, dependencies);
        }

        var builtinFile = Path.Combine(modulesDirectory, "modules.builtin");
        if (File.Exists(builtinFile))
        {
            foreach (var line in File.ReadLines(builtinFile))
            {
                if (line.Length > 0)
                {
                    _builtin.Add(NameOf(line.Trim()));
                }
            }
        }
    }

    /// <summary>The module name for a path or name: file name without <c>.ko</c>(.xz/.zst/.gz), '-' folded to '_'.</summary>
    public static string NameOf(string pathOrName)
    {
        var name = Path.GetFileName(pathOrName);
        var ko = name.IndexOf(".ko", StringComparison.Ordinal);
        if (ko >= 0)
        {
            name = name[..ko];
        }

        return name.Replace('-', '_');
    }

    /// <summary>Whether <paramref name="name"/> is compiled into the kernel image.</summary>
    public bool IsBuiltin(string name) => _builtin.Contains(NameOf(name));

    /// <summary>
    /// Returns the transitive closure of <paramref name="names"/> in load order (every module after
    /// the modules it depends on), without duplicates and without built-in modules.
    /// </summary>
    public IReadOnlyList<KernelModule> Resolve(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var ordered = new List<KernelModule>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var requested in names)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(requested);
            var name = NameOf(requested);
            if (_modules.ContainsKey(name))
            {
                Visit(name, requested, ordered, done, visiting);
            }
            else if (!_builtin.Contains(name))
            {
                throw new CocoonException(CocoonErrorCode.NotFound, $"Kernel module '{requested}' is neither in '{Path.Combine(_modulesDirectory, "modules.dep")}' nor built into the kernel. Check the name ('modinfo {requested}') or use a kernel that provides it.");
            }
        }

        return ordered;
    }

    private void Visit(string name, string requestedBy, List<KernelModule> ordered, HashSet<string> done, HashSet<string> visiting)
    {
        if (done.Contains(name))
        {
            return;
        }

        if (!visiting.Add(name))
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"modules.dep in '{_modulesDirectory}' has a dependency cycle through '{name}'. Regenerate it with 'depmod'.");
        }

        if (!_modules.TryGetValue(name, out var entry))
        {
            throw new CocoonException(CocoonErrorCode.NotFound, $"Kernel module '{name}' (needed by '{requestedBy}') is not listed in '{Path.Combine(_modulesDirectory, "modules.dep")}'. Regenerate it with 'depmod'.");
        }

        if (!entry.Path.EndsWith(".ko", StringComparison.Ordinal))
        {
            throw new CocoonException(CocoonErrorCode.Unsupported, $"Kernel module '{entry.Path}' in '{_modulesDirectory}' is compressed; only uncompressed .ko modules are supported. Use a kernel whose modules are not compressed.");
        }

        foreach (var dependency in entry.Dependencies)
        {
            Visit(NameOf(dependency), name, ordered, done, visiting);
        }

        visiting.Remove(name);
        done.Add(name);
        ordered.Add(new KernelModule(name, entry.Path));
    }
}
