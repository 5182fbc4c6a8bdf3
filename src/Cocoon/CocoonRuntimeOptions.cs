// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Microsoft.Extensions.Logging;

namespace Cocoon;

/// <summary>Settings of a <see cref="CocoonRuntime"/>.</summary>
public sealed class CocoonRuntimeOptions
{
    /// <summary>The state directory; null for <c>COCOON_HOME</c>, else <c>~/.local/state/cocoon</c>.</summary>
    public string? StateRoot { get; set; }

    /// <summary>
    /// The <c>cocoon</c> executable that runs each box's supervisor; null to look for
    /// <c>COCOON_PATH</c>, the running program when it is cocoon, <c>cocoon</c> next to this
    /// library, then the repository's <c>artifacts/cocoon/cocoon</c>.
    /// </summary>
    public string? CocoonPath { get; set; }

    /// <summary>Where the runtime logs; null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Registries (host[:port]) that may be reached over plain HTTP when HTTPS fails, as Docker's
    /// <c>insecure-registries</c>; loopback registries always may. <c>COCOON_INSECURE_REGISTRIES</c>
    /// (comma-separated) adds to this list.
    /// </summary>
    public IList<string> InsecureRegistries { get; set; } = [];

    /// <summary>How long starting a box may take until its agent answers (TCG boots are slow).</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
