// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon;

/// <summary>Where a box is in its life.</summary>
public enum BoxState
{
    /// <summary>Created (state directory and CID exist) but never started.</summary>
    Created = 0,

    /// <summary>Its supervisor and VM are running.</summary>
    Running = 1,

    /// <summary>It ran and stopped; see the stop reason.</summary>
    Stopped = 2,
}
