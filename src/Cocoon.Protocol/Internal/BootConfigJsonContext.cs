// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;

namespace Cocoon.Protocol.Internal;

/// <summary>Source-generated JSON metadata for <see cref="BootConfig"/>: snake_case, nulls omitted, unknown fields skipped.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(BootConfig))]
internal sealed partial class BootConfigJsonContext : JsonSerializerContext;
