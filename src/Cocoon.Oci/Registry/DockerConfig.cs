// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cocoon.Oci.Registry;

/// <summary>
/// Registry credentials in Docker's client file, <c>$DOCKER_CONFIG/config.json</c> (else
/// <c>~/.docker/config.json</c>): the <c>auths</c> table maps a registry to
/// <c>{"auth": base64("user:password")}</c>. Credential helpers (<c>credsStore</c>) are not run;
/// such registries are reached anonymously unless <c>cocoon login</c> writes an <c>auths</c> entry.
/// </summary>
internal sealed class DockerConfig
{
    /// <summary>The key Docker files Docker Hub credentials under.</summary>
    public const string DockerHubKey = "https://index.docker.io/v1/";

    public DockerConfig(string path) => FilePath = path;

    /// <summary>config.json's path.</summary>
    public string FilePath { get; }

    /// <summary>The file the environment names: <c>$DOCKER_CONFIG/config.json</c>, else <c>$HOME/.docker/config.json</c>.</summary>
    public static DockerConfig FromEnvironment()
    {
        var directory = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(directory))
        {
            var home = Environment.GetEnvironmentVariable("HOME");
            directory = Path.Combine(string.IsNullOrEmpty(home) ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) : home, ".docker");
        }

        return new DockerConfig(Path.Combine(directory, "config.json"));
    }

    /// <summary>The credentials stored for <paramref name="registry"/>, or null.</summary>
    public NetworkCredential? Find(string registry)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllBytes(FilePath));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException e)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"'{FilePath}' is not valid JSON ({e.Message}); fix or remove it", e);
        }

        if (root?["auths"] is not JsonObject auths)
        {
            return null;
        }

        foreach (var key in KeysFor(registry))
        {
            if (auths[key]?["auth"]?.GetValue<string>() is { Length: > 0 } encoded)
            {
                return Decode(encoded, key);
            }
        }

        return null;
    }

    /// <summary>Writes <paramref name="credential"/> for <paramref name="registry"/>, keeping every other setting; the file is 0600.</summary>
    public void Save(string registry, NetworkCredential credential)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllBytes(FilePath)) as JsonObject ?? [];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            root = [];
        }

        if (root["auths"] is not JsonObject auths)
        {
            auths = [];
            root["auths"] = auths;
        }

        var key = registry == ImageReference.DockerHub ? DockerHubKey : registry;
        var token = Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.UserName + ":" + credential.Password));
        auths[key] = new JsonObject { ["auth"] = token };

        var directory = Path.GetDirectoryName(FilePath)!;
        UnixFiles.CreateDirectory(directory, UnixFiles.Private);
        var temp = FilePath + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var file = UnixFiles.CreatePrivate(temp))
            {
                file.Write(Encoding.UTF8.GetBytes(root.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, FilePath, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static IEnumerable<string> KeysFor(string registry)
    {
        if (registry == ImageReference.DockerHub)
        {
            return [DockerHubKey, "index.docker.io", "docker.io", "registry-1.docker.io", "https://registry-1.docker.io"];
        }

        return [registry, "https://" + registry, "http://" + registry, "https://" + registry + "/v1/", "https://" + registry + "/v2/"];
    }

    private NetworkCredential Decode(string encoded, string key)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException e)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"'{FilePath}': auths['{key}'].auth is not base64; run 'cocoon login' again", e);
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? throw new CocoonException(CocoonErrorCode.InvalidArgument, $"'{FilePath}': auths['{key}'].auth is not 'user:password'; run 'cocoon login' again")
            : new NetworkCredential(text[..colon], text[(colon + 1)..]);
    }
}
