// TimerCharts: timer recordings in, chart descriptions out (issue 3). Reads only Recording's public
// tables: the lateness histogram (HdrHistogram), the individual firings and the sampled heaps.
//
// The histogram and the CDF are read off the recording's HdrHistogram with the library's own
// iterations, never by re-bucketing raw values: RecordedValues() walks the histogram's buckets
// (a few thousand at 3 significant digits), which are summed into 10 bins per decade so that the
// shape is readable on a log axis; Percentiles() walks the distribution the way HdrHistogram's
// percentile plots do, denser towards the tail, and each step's Percentile is the exact share of
// firings at or below that value.
using GoSched.Charts;
using HdrHistogram;

namespace GoSched.Interactive.Workbench;

internal static class TimerCharts
{
    /// <summary>Histogram bins per factor of ten of lateness.</summary>
    public const int BinsPerDecade = 10;

    /// <summary>Percentile steps per halving of the distance to 100% (HdrHistogram's own default is 5).</summary>
    private const int PercentileTicksPerHalfDistance = 5;

    /// <summary>Lateness over time: aim for this many firings per time bin, and at most this many bins.</summary>
    private const int FiringsPerTimeBin = 50, MaxTimeBins = 120;

    /// <summary>Lateness is kept up to 100 s (as the runtime's own histograms do).</summary>
    private const long HighestTrackableNs = 100_000_000_000;

    private const string TimeTitle = "time since start (ms)";
    private const string LatenessTitle = "lateness: fired - due (ms)";

    /// <summary>
    /// Lateness distribution, two panels side by side on a log lateness axis: the share of firings
    /// per bin (a step outline, so that runs overlay), and the CDF. One colour per run.
    /// </summary>
    public static ChartSpec LatenessDistribution(IReadOnlyList<NamedRecording> runs)
    {
        var series = new List<SeriesSpec>();
        foreach (var run in runs)
        {
            var h = Lateness(run);
            var (hx, hy) = LogBinned(h);
            series.Add(new SeriesSpec { Name = run.Label, Group = run.Label, X = hx, Y = hy, Panel = 0, Shape = LineShapes.Step });
            var (cx, cy) = Cdf(h);
            series.Add(new SeriesSpec { Name = run.Label, Group = run.Label, X = cx, Y = cy, Panel = 1 });
        }
        return new ChartSpec
        {
            Title = runs.Count == 1 ? $"Timer lateness: {runs[0].Label}" : "Timer lateness",
            XTitle = LatenessTitle,
            XScale = AxisScales.Log,
            PanelTitles = [$"histogram ({BinsPerDecade} bins per decade)", "CDF"],
            PanelYTitles = ["% of firings", "% of firings at most this late"],
            Columns = 2,
            ShareX = false,
            Height = 440,
            Series = series.ToArray(),
        };
    }

    /// <summary>
    /// Lateness over the run: the firings cut into time bins, each bin's p50 (dashed) and p99
    /// (solid), on a log lateness axis. Bin percentiles come from an HdrHistogram per bin.
    /// </summary>
    public static ChartSpec LatenessOverTime(IReadOnlyList<NamedRecording> runs)
    {
        var series = new List<SeriesSpec>();
        bool one = runs.Count == 1;
        foreach (var run in runs)
        {
            var (t, p50, p99) = BinnedOverTime(run.Recording.TimerFirings);
            series.Add(new SeriesSpec { Name = one ? "p99" : run.Label, Group = one ? "" : run.Label, X = t, Y = p99 });
            series.Add(new SeriesSpec { Name = one ? "p50" : run.Label, Group = one ? "" : run.Label, X = t, Y = p50, Dashed = true });
        }
        return new ChartSpec
        {
            Title = (one ? $"Timer lateness over time: {runs[0].Label}" : "Timer lateness over time")
                + " (per time bin; solid: p99, dashed: p50)",
            XTitle = TimeTitle,
            YTitle = LatenessTitle,
            YScale = AxisScales.Log,
            Series = series.ToArray(),
        };
    }

    /// <summary>
    /// Timers on each P's heap over time (solid) and how many of them are deleted but not yet
    /// removed (dashed): a panel for all Ps together and one per P. Null when no run has samples
    /// with timer counts (the sampler was off).
    /// </summary>
    public static ChartSpec? Heaps(IReadOnlyList<NamedRecording> runs)
    {
        var sampled = runs
            .Select(r => (Run: r, Samples: r.Recording.Samples.Where(s => s.TimersLen is not null && s.DeletedTimers is not null).ToArray()))
            .Where(r => r.Samples.Length > 0)
            .ToArray();
        if (sampled.Length == 0)
            return null;

        int procs = sampled.Max(r => r.Samples.Max(s => s.TimersLen!.Length));
        string[] panels = Enumerable.Range(0, procs).Select(p => $"P{p}").Prepend("all Ps").ToArray();
        bool one = sampled.Length == 1;
        const string OnHeap = "timers on the heap", Deleted = "of which deleted";
        var series = new List<SeriesSpec>();
        foreach (var (run, samples) in sampled)
        {
            double[] t = samples.Select(s => s.TimeNs / 1e6).ToArray();
            void Add(int panel, Func<int[], double> value)
            {
                series.Add(Step(one ? OnHeap : run.Label, one ? OnHeap : run.Label, t,
                    samples.Select(s => value(s.TimersLen!)).ToArray(), panel, dashed: false));
                series.Add(Step(one ? Deleted : run.Label, one ? Deleted : run.Label, t,
                    samples.Select(s => value(s.DeletedTimers!)).ToArray(), panel, dashed: true));
            }
            Add(0, perP => perP.Sum());
            int runProcs = samples.Max(s => s.TimersLen!.Length);
            for (int p = 0; p < runProcs; p++)
            {
                int id = p;
                Add(p + 1, perP => id < perP.Length ? perP[id] : 0); // a P missing from a sample counts 0
            }
        }
        return new ChartSpec
        {
            Title = (one ? $"Timer heaps: {sampled[0].Run.Label}" : "Timer heaps") + " (solid: timers on the heap, dashed: deleted ones among them)",
            XTitle = TimeTitle,
            YTitle = "timers",
            PanelTitles = panels,
            Columns = 2,
            Series = series.ToArray(),
        };
    }

    private static LongHistogram Lateness(NamedRecording run) =>
        run.Recording.TimerLateness ?? throw new InvalidOperationException($"{run.Name} has no timer lateness");

    /// <summary>
    /// The histogram's recorded buckets summed into log bins, as a closed step outline: x the bins'
    /// lower edges (ms) and y the share of firings (%) in each, from 0 before the first bin to 0 after
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

    /// <summary>The CDF from HdrHistogram's percentile iteration: (lateness in ms, % of firings at or below it).</summary>
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

    /// <summary>Firings cut into equal time bins: each non-empty bin's centre (ms), p50 and p99 lateness (ms).</summary>
    internal static (double[] T, double[] P50, double[] P99) BinnedOverTime(IReadOnlyList<Observability.TimerFiring> firings)
    {
        if (firings.Count == 0)
            return ([], [], []);
        var sorted = firings.OrderBy(f => f.TimeNs).ToArray();
        long start = sorted[0].TimeNs, end = sorted[^1].TimeNs;
        int bins = Math.Clamp(sorted.Length / FiringsPerTimeBin, 1, MaxTimeBins);
        double width = Math.Max(1.0, (end - start + 1) / (double)bins);

        var t = new List<double>();
        var p50 = new List<double>();
        var p99 = new List<double>();
        var h = new LongHistogram(HighestTrackableNs, 3);
        int i = 0;
        for (int b = 0; b < bins && i < sorted.Length; b++)
        {
            double binEnd = start + (b + 1) * width;
            h.Reset();
            while (i < sorted.Length && (sorted[i].TimeNs < binEnd || b == bins - 1))
                h.RecordValue(Math.Clamp(sorted[i++].LatenessNs, 1, HighestTrackableNs));
            if (h.TotalCount == 0)
                continue;
            t.Add((start + (b + 0.5) * width) / 1e6);
            p50.Add(h.GetValueAtPercentile(50) / 1e6);
            p99.Add(h.GetValueAtPercentile(99) / 1e6);
        }
        return (t.ToArray(), p50.ToArray(), p99.ToArray());
    }

    private static SeriesSpec Step(string name, string group, double[] t, double[] y, int panel, bool dashed) => new()
    {
        Name = name,
        Group = group,
        X = t,
        Y = y,
        Panel = panel,
        Shape = LineShapes.Step,
        Dashed = dashed,
    };
}
