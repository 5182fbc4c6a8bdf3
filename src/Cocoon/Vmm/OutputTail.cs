// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Text;

namespace Cocoon.Vmm;

/// <summary>
/// The last few KiB a child process (QEMU, virtiofsd) wrote, drained from its pipes so it never
/// blocks on them; its last line explains a failure.
/// </summary>
/// <param name="limit">How many characters to keep.</param>
internal sealed class OutputTail(int limit)
{
    private readonly StringBuilder _text = new();

    /// <summary>What is kept so far.</summary>
    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    /// <summary>The last non-empty line, or "no output".</summary>
    public string LastLine
    {
        get
        {
            var trimmed = Text.Trim();
            return trimmed.Length == 0 ? "no output" : trimmed[(trimmed.LastIndexOf('\n') + 1)..].Trim();
        }
    }

    /// <summary>Reads <paramref name="reader"/> to its end, keeping the tail.</summary>
    public async Task PumpAsync(StreamReader reader)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            lock (_text)
            {
                _text.Append(buffer, 0, read);
                if (_text.Length > limit)
                {
                    _text.Remove(0, _text.Length - limit);
                }
            }
        }
    }
}
