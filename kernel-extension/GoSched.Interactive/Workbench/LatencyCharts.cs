// LatencyCharts: a latency HdrHistogram in, its distribution out (timer lateness, netpoll wake
// latency): the share of values per log bin and the CDF, side by side, one colour per run.
//
// Both are read off the recording's HdrHistogram with the library's own iterations, never by
// re-bucketing raw values: RecordedValues() walks the histogram's buckets (a few thousand at 3
// significant digits), which are summed into 10 bins per decade so that the shape is readable on
// a log axis; Percentiles() walks the distribution the way HdrHistogram's percentile plots do,
// denser towards the tail, and each step's Percentile is the exact share of values at or below it.
using GoSched.Charts;
using HdrHistogram;

namespace GoSched.Interactive.Workbench;

internal static class LatencyCharts
{
    /// <summary>Histogram bins per factor of ten.</summary>
    public const int BinsPerDecade = 10;

    /// <summary>Percentile steps per halving of the distance to 100% (HdrHistogram's own default is 5).</summary>
    private const int PercentileTicksPerHalfDistance = 5;

    /// <summary>
    /// Two panels side by side on a log x axis: the share of <paramref name="noun"/> per bin (a step
    /// outline, so that runs overlay), and the CDF ("% of firings at most this late"). One colour per run.
    /// </summary>
    public static ChartSpec Distribution(IReadOnlyList<NamedRecording> runs, Func<NamedRecording, LongHistogram> histogram,
        string title, string xTitle, string noun, string adjective)
    {
        var series = new List<SeriesSpec>();
        foreach (var run in runs)
        {
            var h = histogram(run);
            var (hx, hy) = LogBinned(h);
            series.Add(new SeriesSpec { Name = run.Label, Group = run.Label, X = hx, Y = hy, Panel = 0, Shape = LineShapes.Step });
            var (cx, cy) = Cdf(h);
            series.Add(new SeriesSpec { Name = run.Label, Group = run.Label, X = cx, Y = cy, Panel = 1 });
        }
        return new ChartSpec
        {
            Title = runs.Count == 1 ? $"{title}: {runs[0].Label}" : title,
            XTitle = xTitle,
            XScale = AxisScales.Log,
            PanelTitles = [$"histogram ({BinsPerDecade} bins per decade)", "CDF"],
            PanelYTitles = [$"% of {noun}", $"% of {noun} at most this {adjective}"],
            Columns = 2,
            ShareX = false,
            Height = 440,
            Series = series.ToArray(),
        };
    }

    /// <summary>
    /// The histogram's recorded buckets summed into log bins, as a closed step outline: x the bins'
    /// lower edges (ms) and y the share of values (%) in each, from 0 before the first bin to 0 after
    /// the last, empty bins in between included.
    /// </summary>
    internal static (double[] X, double[] Y) LogBinned(LongHistogram h)
    {
        var counts = new SortedDictionary<int, long>();
        foreach (var v in h.RecordedValues())
        {
            int bin = (int)Math.Floor(Math.Log10(Math.Max(1, v.ValueIteratedTo)) * BinsPerDecade);
            counts[bin] = counts.GetValueOrDefault(bin) + v.CountAddedInThisIterationStep;
        }
        if (counts.Count == 0)
            return ([], []);
        int lo = counts.Keys.First(), hi = counts.Keys.Last();
        double total = h.TotalCount;
        var x = new List<double> { EdgeMs(lo) };
        var y = new List<double> { 0 };
        for (int bin = lo; bin <= hi; bin++)
        {
            x.Add(EdgeMs(bin));
            y.Add(100.0 * counts.GetValueOrDefault(bin) / total);
        }
        x.Add(EdgeMs(hi + 1));
        y.Add(0);
        return (x.ToArray(), y.ToArray());
    }

    private static double EdgeMs(int bin) => Math.Pow(10, (double)bin / BinsPerDecade) / 1e6;

    /// <summary>The CDF from HdrHistogram's percentile iteration: (value in ms, % of values at or below it).</summary>
    internal static (double[] X, double[] Y) Cdf(LongHistogram h)
    {
        var x = new List<double>();
        var y = new List<double>();
        foreach (var v in h.Percentiles(PercentileTicksPerHalfDistance))
        {
            double ms = v.ValueIteratedTo / 1e6;
            if (x.Count > 0 && x[^1] == ms)
            {
                y[^1] = Math.Max(y[^1], v.Percentile); // several percentile levels in one bucket: keep the highest
                continue;
            }
            x.Add(ms);
            y.Add(v.Percentile);
        }
        return (x.ToArray(), y.ToArray());
    }
}
