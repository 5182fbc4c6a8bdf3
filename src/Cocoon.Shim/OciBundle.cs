// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json;

namespace Cocoon.Shim;

/// <summary>The process of an OCI runtime spec: what the shim runs in the box.</summary>
internal sealed record OciProcess(IReadOnlyList<string> Args, IReadOnlyList<string> Env, string Cwd, string User, bool Terminal)
{
    /// <summary>Reads a runtime spec's <c>process</c> object (config.json's, or an exec's whole spec).</summary>
    /// <exception cref="CocoonException">InvalidArgument naming what is missing or malformed.</exception>
    public static OciProcess Parse(JsonElement process, string where)
    {
        if (process.ValueKind != JsonValueKind.Object)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{where} has no process object");
        }

        var args = Strings(process, "args");
        if (args.Count == 0)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"{where}: process.args is empty; there is nothing to run");
        }

        var cwd = process.TryGetProperty("cwd", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "/";
        var user = "";
        if (process.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.Object)
        {
            var uid = u.TryGetProperty("uid", out var uidValue) && uidValue.TryGetUInt32(out var x) ? x : 0;
            var gid = u.TryGetProperty("gid", out var gidValue) && gidValue.TryGetUInt32(out var y) ? y : 0;
            user = $"{uid}:{gid}";
        }

        var terminal = process.TryGetProperty("terminal", out var t) && t.ValueKind == JsonValueKind.True;
        return new OciProcess(args, Strings(process, "env"), cwd, user, terminal);
    }

    private static List<string> Strings(JsonElement parent, string name)
        => parent.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array
            ? [.. array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)]
            : [];
}

/// <summary>A task's bundle: config.json (its process and annotations) and the rootfs directory.</summary>
internal sealed record OciBundle(string Directory, OciProcess Process, IReadOnlyDictionary<string, string> Annotations)
{
    /// <summary>The annotation CRI puts on every container of a pod: the pod sandbox's id.</summary>
    public const string SandboxIdAnnotation = "io.kubernetes.cri.sandbox-id";

    /// <summary>The rootfs directory the container's root file system is mounted on.</summary>
    public string Rootfs => Path.Combine(Directory, "rootfs");

    /// <summary>The pod sandbox this task belongs to (itself when it is the sandbox or not in a pod).</summary>
    public string SandboxOf(string id) => Annotations.TryGetValue(SandboxIdAnnotation, out var sandbox) && sandbox.Length > 0 ? sandbox : id;

    /// <summary>Reads <c>config.json</c> in <paramref name="directory"/>.</summary>
    /// <exception cref="CocoonException">InvalidArgument when it is missing or not a runtime spec.</exception>
    public static OciBundle Load(string directory)
    {
        var path = Path.Combine(directory, "config.json");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"the bundle's runtime spec {path} cannot be read: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            var process = OciProcess.Parse(root.TryGetProperty("process", out var p) ? p : default, path);
            var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in a.EnumerateObject().Where(x => x.Value.ValueKind == JsonValueKind.String))
                {
                    annotations[property.Name] = property.Value.GetString()!;
                }
            }

            return new OciBundle(directory, process, annotations);
        }
    }

    /// <summary>The sandbox named by the annotations of the bundle in <paramref name="directory"/>, without failing on a bad spec.</summary>
    public static string? PeekSandboxId(string directory)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "config.json")));
            return document.RootElement.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object
                && a.TryGetProperty(SandboxIdAnnotation, out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
