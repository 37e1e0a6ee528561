// TimerCharts: timer recordings in, chart descriptions out (issue 3). Reads only Recording's public
// tables: the lateness histogram (HdrHistogram), the individual firings and the sampled heaps.
//
// The histogram and the CDF are LatencyCharts' (read off the HdrHistogram with the library's own
// iterations); lateness over time cuts the individual firings into time bins.
using GoSched.Charts;
using HdrHistogram;

namespace GoSched.Interactive.Workbench;

internal static class TimerCharts
{
    /// <summary>Lateness over time: aim for this many firings per time bin, and at most this many bins.</summary>
    private const int FiringsPerTimeBin = 50, MaxTimeBins = 120;

    /// <summary>Lateness is kept up to 100 s (as the runtime's own histograms do).</summary>
    private const long HighestTrackableNs = 100_000_000_000;

    private const string TimeTitle = "time since start (ms)";
    private const string LatenessTitle = "lateness: fired - due (ms)";

    /// <summary>Lateness distribution: histogram and CDF side by side on a log lateness axis, one colour per run.</summary>
    public static ChartSpec LatenessDistribution(IReadOnlyList<NamedRecording> runs) =>
        LatencyCharts.Distribution(runs, Lateness, "Timer lateness", LatenessTitle, "firings", "late");

    /// <summary>
    /// Lateness over the run: the firings cut into time bins, each bin's p50 (dashed) and p99
    /// (solid), on a log lateness axis. Bin percentiles come from an HdrHistogram per bin.
    /// </summary>
    public static ChartSpec LatenessOverTime(IReadOnlyList<NamedRecording> runs)
    {
        var series = new List<SeriesSpec>();
        var bands = new List<BandSpec>();
        bool one = runs.Count == 1;
        foreach (var run in runs)
        {
            var (t, p50, p99) = BinnedOverTime(run.Recording.TimerFirings);
            series.Add(new SeriesSpec { Name = one ? "p99" : run.Label, Group = one ? "" : run.Label, X = t, Y = p99 });
            series.Add(new SeriesSpec { Name = one ? "p50" : run.Label, Group = one ? "" : run.Label, X = t, Y = p50, Dashed = true });
            bands.AddRange(RecordingCharts.PauseBands(run.Recording, 0, one ? "" : run.Label));
        }
        return new ChartSpec
        {
            Title = (one ? $"Timer lateness over time: {runs[0].Label}" : "Timer lateness over time")
                + " (per time bin; solid: p99, dashed: p50)" + RecordingCharts.PauseNote(bands),
            XTitle = TimeTitle,
            YTitle = LatenessTitle,
            YScale = AxisScales.Log,
            Series = series.ToArray(),
            Bands = bands.ToArray(),
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
        var bands = new List<BandSpec>();
        foreach (var (run, samples) in sampled)
        {
            double[] t = samples.Select(s => s.TimeNs / 1e6).ToArray();
            void Add(int panel, Func<int[], double> value)
            {
                series.Add(RecordingCharts.Step(one ? OnHeap : run.Label, one ? OnHeap : run.Label, t,
                    samples.Select(s => value(s.TimersLen!)).ToArray(), panel, dashed: false));
                series.Add(RecordingCharts.Step(one ? Deleted : run.Label, one ? Deleted : run.Label, t,
                    samples.Select(s => value(s.DeletedTimers!)).ToArray(), panel, dashed: true));
            }
            Add(0, perP => perP.Sum());
            int runProcs = samples.Max(s => s.TimersLen!.Length);
            for (int p = 0; p < runProcs; p++)
            {
                int id = p;
                Add(p + 1, perP => id < perP.Length ? perP[id] : 0); // a P missing from a sample counts 0
            }
            // A pause shows on every panel the run draws on, as on the run-queue chart.
            for (int panel = 0; panel <= runProcs; panel++)
                bands.AddRange(RecordingCharts.PauseBands(run.Recording, panel, one ? "" : run.Label));
        }
        return new ChartSpec
        {
            Title = (one ? $"Timer heaps: {sampled[0].Run.Label}" : "Timer heaps") + " (solid: timers on the heap, dashed: deleted ones among them)"
                + RecordingCharts.PauseNote(bands),
            XTitle = TimeTitle,
            YTitle = "timers",
            PanelTitles = panels,
            Columns = 2,
            Series = series.ToArray(),
            Bands = bands.ToArray(),
        };
    }

    private static LongHistogram Lateness(NamedRecording run) =>
        run.Recording.TimerLateness ?? throw new InvalidOperationException($"{run.Name} has no timer lateness");

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
}
