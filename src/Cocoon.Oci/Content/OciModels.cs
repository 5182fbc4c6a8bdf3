// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;

namespace Cocoon.Oci.Content;

// The OCI image-spec documents Cocoon reads and writes (and their Docker schema 2 twins, which use
// the same field names). Unknown fields are ignored; everything is validated where it is used.

/// <summary>A content descriptor: what a blob is, its digest and size.</summary>
internal sealed class OciDescriptor
{
    [JsonPropertyName("mediaType")]
    public string? MediaType { get; set; }

    [JsonPropertyName("digest")]
    public string? Digest { get; set; }

    [JsonPropertyName("size")]
    public long Size { get; set; }

    [JsonPropertyName("platform")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public OciPlatform? Platform { get; set; }

    [JsonPropertyName("annotations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Annotations { get; set; }
}

/// <summary>The platform of one manifest in an index.</summary>
internal sealed class OciPlatform
{
    [JsonPropertyName("architecture")]
    public string? Architecture { get; set; }

    [JsonPropertyName("os")]
    public string? Os { get; set; }

    [JsonPropertyName("variant")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; set; }
}

/// <summary>An image index or Docker manifest list (also the layout's index.json).</summary>
internal sealed class OciIndex
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; set; } = 2;

    [JsonPropertyName("mediaType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MediaType { get; set; }

    [JsonPropertyName("manifests")]
    public List<OciDescriptor>? Manifests { get; set; }
}

/// <summary>An image manifest: one config and the layers, bottom first.</summary>
internal sealed class OciManifest
{
    [JsonPropertyName("schemaVersion")]
    public int SchemaVersion { get; set; } = 2;

    [JsonPropertyName("mediaType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MediaType { get; set; }

    [JsonPropertyName("config")]
    public OciDescriptor? Config { get; set; }

    [JsonPropertyName("layers")]
    public List<OciDescriptor>? Layers { get; set; }
}

/// <summary>The parts of an image configuration Cocoon uses.</summary>
internal sealed class OciImageConfigFile
{
    [JsonPropertyName("architecture")]
    public string? Architecture { get; set; }

    [JsonPropertyName("os")]
    public string? Os { get; set; }

    [JsonPropertyName("config")]
    public OciContainerConfig? Config { get; set; }

    [JsonPropertyName("rootfs")]
    public OciRootfs? Rootfs { get; set; }
}

/// <summary>The defaults a container of the image runs with.</summary>
internal sealed class OciContainerConfig
{
    [JsonPropertyName("User")]
    public string? User { get; set; }

    [JsonPropertyName("Env")]
    public List<string>? Env { get; set; }

    [JsonPropertyName("Entrypoint")]
    public List<string>? Entrypoint { get; set; }

    [JsonPropertyName("Cmd")]
    public List<string>? Cmd { get; set; }

    [JsonPropertyName("WorkingDir")]
    public string? WorkingDir { get; set; }

    [JsonPropertyName("ExposedPorts")]
    public Dictionary<string, System.Text.Json.JsonElement>? ExposedPorts { get; set; }
}

/// <summary>The uncompressed layer digests (diff ids).</summary>
internal sealed class OciRootfs
{
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    [JsonPropertyName("diff_ids")]
    public List<string>? DiffIds { get; set; }
}

/// <summary>One image of a <c>docker save</c> archive's manifest.json.</summary>
internal sealed class DockerArchiveImage
{
    [JsonPropertyName("Config")]
    public string? Config { get; set; }

    [JsonPropertyName("RepoTags")]
    public List<string>? RepoTags { get; set; }

    [JsonPropertyName("Layers")]
    public List<string>? Layers { get; set; }
}

/// <summary>images/index.json: every named image the store holds.</summary>
internal sealed class ImageIndexFile
{
    [JsonPropertyName("images")]
    public List<ImageRecord> Images { get; set; } = [];
}

/// <summary>One reference (name:tag or name@digest) and the manifest it resolves to.</summary>
internal sealed class ImageRecord
{
    /// <summary>The normalised reference, e.g. <c>docker.io/library/busybox:latest</c>.</summary>
    [JsonPropertyName("reference")]
    public required string Reference { get; set; }

    /// <summary>The linux/amd64 image manifest's digest.</summary>
    [JsonPropertyName("digest")]
    public required string Digest { get; set; }

    /// <summary>When this reference was last pulled or loaded.</summary>
    [JsonPropertyName("created")]
    public DateTimeOffset Created { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(OciIndex))]
[JsonSerializable(typeof(OciManifest))]
[JsonSerializable(typeof(OciImageConfigFile))]
[JsonSerializable(typeof(List<DockerArchiveImage>))]
[JsonSerializable(typeof(ImageIndexFile))]
[JsonSerializable(typeof(RegistryToken))]
internal sealed partial class OciJsonContext : JsonSerializerContext;

/// <summary>A token endpoint's answer (distribution token auth).</summary>
internal sealed class RegistryToken
{
    [JsonPropertyName("token")]
    public string? Token { get; set; }

    [JsonPropertyName("access_token")]
    public string? AccessToken { get; set; }
}
