// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Cocoon.Configuration;

/// <summary>
/// Reads a <c>box.yaml</c> file into <see cref="BoxOptions"/> by walking YamlDotNet's
/// representation model by hand (no reflection, so NativeAOT-safe). Unknown keys and wrong types
/// are errors that name the key, the file and the line. Example:
/// <code>
/// name: web
/// image: busybox
/// cpus: 2
/// memory: 1G            # or 1024 (MiB), 512M
/// network: user         # or none (loopback only)
/// disk_size: 8G         # the scratch disk of a box with an image (sparse)
/// volumes: [/srv/data:/data, /srv/cfg:/etc/app:ro]
/// mounts:               # host sockets seen in every container, spelled as --mount
///   - type=uds,source=/run/user/1000/ssh-agent.sock,destination=/run/ssh-agent.sock
/// socket_forwards: [/tmp/web-db.sock:/run/postgresql/.s.PGSQL.5432]   # box sockets on the host
/// support_docker: false
/// vsock_ports:
///   - port: 2000
///     path: /run/app/agent.sock
/// entrypoint: [/bin/sh, -c]
/// cmd: ["echo hi"]
/// env:                  # a map, or a list of KEY=VALUE
///   LOG_LEVEL: debug
/// </code>
/// </summary>
internal static class BoxConfigYaml
{
    /// <summary>The keys a box file may contain.</summary>
    public static readonly IReadOnlyList<string> Keys =
        ["name", "image", "cpus", "memory", "disk_size", "network", "vsock_ports", "publish", "volumes", "mounts", "socket_forwards", "support_docker", "entrypoint", "cmd", "working_dir", "user", "env"];

    /// <summary>Reads and parses <paramref name="path"/>.</summary>
    public static (BoxOptions Options, FieldNames Names) Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var code = e is FileNotFoundException or DirectoryNotFoundException ? CocoonErrorCode.NotFound : CocoonErrorCode.InvalidArgument;
            throw new CocoonException(code, $"cannot read box file '{path}': {e.Message}", e);
        }

        return Parse(text, path);
    }

    /// <summary>Parses box YAML; <paramref name="source"/> names the file in messages.</summary>
    public static (BoxOptions Options, FieldNames Names) Parse(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw Error(source, e.Start.Line, $"not valid YAML: {e.Message}");
        }

        var options = new BoxOptions();
        var lines = new Dictionary<string, long>(StringComparer.Ordinal);
        var names = new FieldNames(key =>
        {
            var top = key.Split('[', '.')[0];
            return lines.TryGetValue(top, out var line)
                ? $"'{key}' ({source}:{line.ToString(CultureInfo.InvariantCulture)})"
                : $"'{key}' ({source})";
        });

        if (stream.Documents.Count == 0)
        {
            return (options, names);
        }

        if (stream.Documents.Count > 1)
        {
            throw Error(source, stream.Documents[1].RootNode.Start.Line, "more than one YAML document; put one box in a file");
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw Error(source, stream.Documents[0].RootNode.Start.Line, "the top level must be a mapping of keys (name, image, cpus, ...)");
        }

        // Every unknown key at once, so a file with several typos takes one round trip.
        var unknown = root.Children.Keys.Where(k => !Keys.Contains(KeyText(k))).ToList();
        if (unknown.Count > 0)
        {
            var list = string.Join(", ", unknown.Select(k => unknown.Count == 1 ? $"'{KeyText(k)}'" : $"'{KeyText(k)}' (line {k.Start.Line.ToString(CultureInfo.InvariantCulture)})"));
            throw Error(source, unknown[0].Start.Line, $"unknown key{(unknown.Count > 1 ? "s" : "")} {list}; known keys: {string.Join(", ", Keys)}");
        }

        foreach (var (keyNode, value) in root.Children)
        {
            var key = KeyText(keyNode);
            lines[key] = keyNode.Start.Line;
            switch (key)
            {
                case "name":
                    options.Name = String(source, key, value);
                    break;
                case "image":
                    options.Image = String(source, key, value);
                    break;
                case "cpus":
                    options.Cpus = Integer(source, key, value);
                    break;
                case "memory":
                    options.MemoryMiB = Memory(source, key, value);
                    break;
                case "network":
                    options.Network = BoxConfigValidator.ParseNetwork(String(source, key, value), $"'{key}' ({source}:{keyNode.Start.Line.ToString(CultureInfo.InvariantCulture)})");
                    break;
                case "disk_size":
                    options.DiskSizeMiB = Memory(source, key, value);
                    break;
                case "support_docker":
                    options.SupportDocker = Boolean(source, key, value);
                    break;
                case "entrypoint":
                    options.Entrypoint = StringList(source, key, value);
                    break;
                case "cmd":
                    options.Cmd = StringList(source, key, value);
                    break;
                case "working_dir":
                    options.WorkingDir = String(source, key, value);
                    break;
                case "user":
                    options.User = String(source, key, value);
                    break;
                case "env":
                    ReadEnv(source, key, value, options.Env);
                    break;
                case "vsock_ports":
                    ReadPorts(source, key, value, options.VsockPorts);
                    break;
                case "publish":
                    foreach (var spec in StringList(source, key, value))
                    {
                        options.Publish.Add(PublishedPort.Parse(spec, names[$"publish[{options.Publish.Count.ToString(CultureInfo.InvariantCulture)}]"]));
                    }

                    break;
                case "volumes":
                    foreach (var spec in StringList(source, key, value))
                    {
                        options.Volumes.Add(VolumeMount.Parse(spec, $"'{key}' ({source}:{value.Start.Line.ToString(CultureInfo.InvariantCulture)})"));
                    }

                    break;
                case "mounts":
                    foreach (var spec in StringList(source, key, value))
                    {
                        options.SocketMounts.Add(UnixSocketMount.Parse(spec, names[$"mounts[{options.SocketMounts.Count.ToString(CultureInfo.InvariantCulture)}]"]));
                    }

                    break;
                case "socket_forwards":
                    foreach (var spec in StringList(source, key, value))
                    {
                        options.SocketForwards.Add(PublishedSocket.Parse(spec, names[$"socket_forwards[{options.SocketForwards.Count.ToString(CultureInfo.InvariantCulture)}]"]));
                    }

                    break;
                default:
                    throw Error(source, keyNode.Start.Line, $"unknown key '{key}'; known keys: {string.Join(", ", Keys)}");
            }
        }

        return (options, names);
    }

    private static string String(string source, string key, YamlNode node) =>
        node is YamlScalarNode { Value: { } value } && !IsNull(node)
            ? value
            : throw WrongType(source, key, node, "a string");

    private static int Integer(string source, string key, YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: { } value }
        && int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw WrongType(source, key, node, "an integer");

    private static int Memory(string source, string key, YamlNode node)
    {
        var text = String(source, key, node);
        return MemorySize.Parse(text, $"'{key}' ({source}:{node.Start.Line.ToString(CultureInfo.InvariantCulture)})");
    }

    private static bool Boolean(string source, string key, YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "false" } scalar
            ? scalar.Value == "true"
            : throw WrongType(source, key, node, "a boolean (true or false)");

    private static List<string> StringList(string source, string key, YamlNode node)
    {
        if (node is YamlScalarNode scalar && !IsNull(node))
        {
            // A single string is a one-element list, as in `cmd: sleep`.
            return [scalar.Value!];
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw WrongType(source, key, node, "a list of strings");
        }

        return [.. sequence.Children.Select(item => String(source, key + "[]", item))];
    }

    private static void ReadEnv(string source, string key, YamlNode node, IDictionary<string, string> env)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    env[String(source, key, k)] = v is YamlScalarNode { Value: { } text } && !IsNull(v)
                        ? text
                        : throw WrongType(source, $"{key}.{k}", v, "a string");
                }

                break;
            case YamlSequenceNode list:
                foreach (var item in list.Children)
                {
                    var pair = String(source, key + "[]", item);
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                    {
                        throw Error(source, item.Start.Line, $"'{key}' entry '{pair}' is not KEY=VALUE");
                    }

                    env[pair[..equals]] = pair[(equals + 1)..];
                }

                break;
            default:
                throw WrongType(source, key, node, "a map of KEY: VALUE or a list of KEY=VALUE");
        }
    }

    private static void ReadPorts(string source, string key, YamlNode node, IList<VsockPort> ports)
    {
        if (node is not YamlSequenceNode sequence)
        {
            throw WrongType(source, key, node, "a list of {port, path} maps");
        }

        foreach (var item in sequence.Children)
        {
            var entryKey = $"{key}[{ports.Count.ToString(CultureInfo.InvariantCulture)}]";
            if (item is not YamlMappingNode map)
            {
                throw WrongType(source, entryKey, item, "a map with 'port' and 'path'");
            }

            int? port = null;
            string? path = null;
            foreach (var (k, v) in map.Children)
            {
                var name = k is YamlScalarNode { Value: { } s } ? s : k.ToString();
                switch (name)
                {
                    case "port":
                        port = Integer(source, $"{entryKey}.port", v);
                        break;
                    case "path":
                        path = String(source, $"{entryKey}.path", v);
                        break;
                    default:
                        throw Error(source, k.Start.Line, $"unknown key '{entryKey}.{name}'; a vsock port has 'port' and 'path'");
                }
            }

            if (port is null || path is null)
            {
                throw Error(source, item.Start.Line, $"'{entryKey}' needs both 'port' and 'path'");
            }

            ports.Add(new VsockPort(port.Value, path));
        }
    }

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a map",
        YamlSequenceNode => "a list",
        _ when IsNull(node) => "null",
        YamlScalarNode scalar => $"'{scalar.Value}'",
        _ => node.NodeType.ToString(),
    };

    private static CocoonException WrongType(string source, string key, YamlNode node, string expected) =>
        Error(source, node.Start.Line, $"'{key}' must be {expected}, not {Describe(node)}");

    private static string KeyText(YamlNode keyNode) => keyNode is YamlScalarNode { Value: { } k } ? k : keyNode.ToString();

    private static CocoonException Error(string source, long line, string message) =>
        new(CocoonErrorCode.InvalidArgument, $"box file '{source}' line {line.ToString(CultureInfo.InvariantCulture)}: {message}");
}
