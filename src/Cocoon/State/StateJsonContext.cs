// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;

namespace Cocoon.State;

/// <summary>Source-generated JSON contracts for every state file (snake_case keys, enums as strings).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BoxRecord))]
[JsonSerializable(typeof(Dictionary<uint, string>))]
[JsonSerializable(typeof(CidTable))]
[JsonSerializable(typeof(Cocoon.Guest.ImageRecipe))]
internal sealed partial class StateJsonContext : JsonSerializerContext
{
}
