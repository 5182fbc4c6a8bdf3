// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Globalization;
using Cocoon.Oci;

namespace Cocoon.Cli.Commands;

/// <summary>
/// Shows a pull's progress: on a terminal, one line per blob redrawn in place (bytes and rate);
/// otherwise one plain line each time a blob changes state, so logs stay readable.
/// </summary>
internal sealed class PullProgressView : IProgress<PullProgress>
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    private readonly TextWriter _output;
    private readonly bool _terminal;
    private readonly Lock _lock = new();
    private readonly List<string> _order = [];
    private readonly Dictionary<string, (PullProgress Last, long StartTicks)> _blobs = new(StringComparer.Ordinal);
    private int _drawnLines;
    private long _lastDraw;

    public PullProgressView(TextWriter output, bool terminal)
    {
        _output = output;
        _terminal = terminal;
    }

    /// <inheritdoc/>
    public void Report(PullProgress value)
    {
        lock (_lock)
        {
            if (value.Status is PullStatus.Resolving or PullStatus.BuildingRootfs or PullStatus.Done)
            {
                Flush();
                var line = value.Status switch
                {
                    PullStatus.Resolving => $"{value.Id}: resolving",
                    PullStatus.BuildingRootfs => $"{value.Id}: building root file system",
                    _ => null,
                };
                if (line is not null)
                {
                    _output.WriteLine(line);
                    _drawnLines = 0;
                    _order.Clear();
                }

                return;
            }

            var known = _blobs.TryGetValue(value.Id, out var previous);
            if (!known)
            {
                _order.Add(value.Id);
            }

            var start = known && previous.Last.Status == PullStatus.Downloading ? previous.StartTicks : Stopwatch.GetTimestamp();
            _blobs[value.Id] = (value, start);
            if (_terminal)
            {
                if (value.Status != PullStatus.Downloading || Stopwatch.GetElapsedTime(_lastDraw) >= RedrawInterval)
                {
                    Draw();
                }
            }
            else if (!known || previous.Last.Status != value.Status)
            {
                if (value.Status != PullStatus.Waiting)
                {
                    _output.WriteLine(Describe(value.Id));
                }
            }
        }
    }

    /// <summary>Draws the final state (terminal only).</summary>
    public void Flush()
    {
        lock (_lock)
        {
            if (_terminal && _order.Count > 0)
            {
                Draw();
            }
        }
    }

    private void Draw()
    {
        _lastDraw = Stopwatch.GetTimestamp();
        if (_drawnLines > 0)
        {
            _output.Write($"\x1b[{_drawnLines}A");
        }

        foreach (var id in _order)
        {
            _output.Write("\x1b[2K");
            _output.WriteLine(Describe(id));
        }

        _drawnLines = _order.Count;
        _output.Flush();
    }

    private string Describe(string id)
    {
        var (last, start) = _blobs[id];
        return last.Status switch
        {
            PullStatus.Waiting => $"{id}: waiting ({MiB(last.Total)})",
            PullStatus.AlreadyExists => $"{id}: already exists",
            PullStatus.Downloading => $"{id}: downloading {MiB(last.Current)} / {MiB(last.Total)} {Rate(last.Current, start)}",
            PullStatus.Complete => $"{id}: pull complete ({MiB(last.Total)})",
            _ => $"{id}: {last.Status}",
        };
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    private static string Rate(long bytes, long start)
    {
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return seconds <= 0 ? string.Empty : (bytes / 1048576.0 / seconds).ToString("0.0", CultureInfo.InvariantCulture) + " MiB/s";
    }
}
