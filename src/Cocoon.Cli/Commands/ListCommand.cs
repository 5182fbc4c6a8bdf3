// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Cocoon.Cli.Commands;

/// <summary><c>cocoon ls</c>: every box, as a table or as JSON.</summary>
internal static class ListCommand
{
    private static readonly Option<string> FormatOption = new("--format")
    {
        Description = "Output format.",
        DefaultValueFactory = _ => "table",
    };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliContext context)
    {
        FormatOption.AcceptOnlyFromAmong("table", "json");
        var command = new Command("ls", "List boxes.") { FormatOption };
        command.SetAction(parseResult =>
        {
            var boxes = context.Runtime.ListBoxes();
            var damaged = context.Runtime.ListDamagedBoxes();
            foreach (var box in damaged)
            {
                context.Error.WriteLine($"warning: box '{box.Name}' is damaged ({box.Problem}); remove it with 'cocoon rm -f {box.Name}'");
            }

            if (parseResult.GetValue(FormatOption) == "json")
            {
                var views = boxes.Select(BoxView.From).ToList();
                context.Out.WriteLine(JsonSerializer.Serialize(views, CliJsonContext.Default.ListBoxView));
                return (int)ExitCode.Ok;
            }

            var rows = new List<string[]> { new[] { "NAME", "STATE", "CID", "CPUS", "MEMORY", "IMAGE", "CREATED" } };
            rows.AddRange(boxes.Select(b => new[]
            {
                b.Name,
                b.State.ToString().ToLowerInvariant(),
                b.Cid.ToString(CultureInfo.InvariantCulture),
                b.Config.Cpus.ToString(CultureInfo.InvariantCulture),
                b.Config.MemoryMiB.ToString(CultureInfo.InvariantCulture) + "M",
                b.Config.Image ?? "-",
                b.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            }));
            rows.AddRange(damaged.Select(d => new[] { d.Name, "damaged", "-", "-", "-", "-", "-" }));
            WriteTable(context.Out, rows);
            return (int)ExitCode.Ok;
        });
        return command;
    }

    /// <summary>Writes rows as columns padded to their widest cell (the first row is the header).</summary>
    internal static void WriteTable(TextWriter output, List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("   ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }
    }
}
