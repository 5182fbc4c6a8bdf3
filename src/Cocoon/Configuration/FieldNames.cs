// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Configuration;

/// <summary>
/// How a validation message names a field, so that one validator serves every source: the SDK and
/// YAML say <c>cpus</c> (YAML adds the line), the CLI says <c>--cpus</c>.
/// </summary>
/// <param name="describe">Turns a YAML-style key (<c>cpus</c>, <c>vsock_ports[0].path</c>) into the name the user typed.</param>
internal sealed class FieldNames(Func<string, string> describe)
{
    /// <summary>Names fields by their <c>box.yaml</c> keys.</summary>
    public static FieldNames Sdk { get; } = new(key => key);

    /// <summary>The name of <paramref name="key"/> for messages.</summary>
    public string this[string key] => describe(key);
}
