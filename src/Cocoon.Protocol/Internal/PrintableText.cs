// Copyright (c) Cocoon contributors. Licensed under the MIT License.

namespace Cocoon.Protocol.Internal;

/// <summary>Quotes untrusted text in an error message with its control characters shown as '?'.</summary>
internal static class PrintableText
{
    /// <summary>The text with every control character replaced by '?'.</summary>
    /// <param name="text">The text to quote.</param>
    /// <returns>Text of the same length that cannot break a log or status line.</returns>
    public static string Of(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
}
