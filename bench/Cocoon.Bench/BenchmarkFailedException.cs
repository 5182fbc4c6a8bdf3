// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Bench;

/// <summary>A benchmark saw something wrong (a duplicate CID, a leak): the run fails, whatever the figures.</summary>
internal sealed class BenchmarkFailedException(string message) : Exception(message);
