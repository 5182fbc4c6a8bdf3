// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text.Json.Serialization;

namespace Cocoon;

/// <summary>Where a box is in its life.</summary>
public enum BoxState
{
    /// <summary>Created (state directory and CID exist) but never started.</summary>
    [JsonStringEnumMemberName("created")]
    Created = 0,

    /// <summary>Its supervisor and VM are running.</summary>
    [JsonStringEnumMemberName("running")]
    Running = 1,

    /// <summary>It ran and stopped; see the stop reason.</summary>
    [JsonStringEnumMemberName("stopped")]
    Stopped = 2,
}
