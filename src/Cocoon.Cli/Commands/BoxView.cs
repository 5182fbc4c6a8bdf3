// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;

namespace Cocoon.Cli.Commands;

/// <summary>What <c>inspect</c> and <c>ls --format json</c> print for one box.</summary>
internal sealed record BoxView(
    string Name,
    BoxState State,
    int? Pid,
    int? VmmPid,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt,
    string? StopReason,
    BoxConfig Config,
    VsockView Vsock,
    PathsView Paths)
{
    /// <summary>Builds the view of <paramref name="box"/>.</summary>
    public static BoxView From(BoxInfo box) => new(
        box.Name,
        box.State,
        box.SupervisorPid,
        box.VmmPid,
        box.CreatedAt,
        box.StartedAt,
        box.StoppedAt,
        box.StopReason,
        box.Config,
        new VsockView(box.Cid, box.VsockSocketPath),
        new PathsView(box.Directory, box.LogPath, box.ConsoleLogPath, box.ControlSocketPath));
}

/// <summary>The box's vsock identity: its CID and the hybrid vsock UDS.</summary>
internal sealed record VsockView(uint Cid, string UdsPath);

/// <summary>The box's files on the host.</summary>
internal sealed record PathsView(string Directory, string Log, string ConsoleLog, string ControlSocket);

/// <summary>Source-generated JSON for CLI output (snake_case, enums as lowercase strings).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = true,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(BoxView))]
[JsonSerializable(typeof(List<BoxView>))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
}
