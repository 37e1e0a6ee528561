// RecordingCharts: recordings in, chart descriptions out. Reads only Recording's public tables.
using GoSched.Charts;
using GoSched.Observability;

namespace GoSched.Interactive.Workbench;

/// <summary>A recording with the name it is plotted under.</summary>
internal sealed record NamedRecording(string Name, Recording Recording)
{
    /// <summary>Legend and panel label: the name, and what the run was ("gosched fanout gomaxprocs=2").</summary>
    public string Label => Name == Recording.Label ? Name : $"{Name}: {Recording.Label}";
}

internal static class RecordingCharts
{
    private const string TimeTitle = "time since start (ms)";
    private const string GlobalQueue = "global queue";

    /// <summary>
    /// Run-queue depth over time as steps (a depth holds until the next sample). One run: a panel
    /// per P and one for the global queue. Several: a panel per run with its Ps and its global queue
    /// (dashed), side by side; or, with <paramref name="overlay"/>, a panel per P (and one for the
    /// global queue) with the runs drawn over each other.
    /// </summary>
    public static ChartSpec Runq(IReadOnlyList<NamedRecording> runs, bool overlay)
    {
        int procs = runs.Max(r => r.Recording.MaxProcs());
        var series = new List<SeriesSpec>();
        var bands = new List<BandSpec>();
        string[] panels;

        if (runs.Count == 1 || overlay)
        {
            panels = Enumerable.Range(0, procs).Select(p => $"P{p}").Append(GlobalQueue).ToArray();
            foreach (var run in runs)
            {
                double[] t = run.Recording.TimesMs();
                string group = runs.Count == 1 ? "" : run.Label;
                for (int p = 0; p < run.Recording.MaxProcs(); p++)
                    series.Add(Step(runs.Count == 1 ? $"P{p}" : run.Label, t, run.Recording.RunqDepth(p), p, group));
                series.Add(Step(runs.Count == 1 ? GlobalQueue : run.Label, t, run.Recording.GlobalRunq(), procs, group));
                for (int panel = 0; panel <= procs; panel++)
                    bands.AddRange(PauseBands(run.Recording, panel, group));
            }
            return new ChartSpec
            {
                Title = (runs.Count == 1 ? $"Run-queue depth: {runs[0].Label}" : "Run-queue depth per P") + PauseNote(bands),
                XTitle = TimeTitle,
                YTitle = "goroutines",
                PanelTitles = panels,
                Series = series.ToArray(),
                Bands = bands.ToArray(),
            };
        }

        panels = runs.Select(r => r.Label).ToArray();
        for (int i = 0; i < runs.Count; i++)
        {
            var rec = runs[i].Recording;
            double[] t = rec.TimesMs();
            for (int p = 0; p < rec.MaxProcs(); p++)
                series.Add(Step($"P{p}", t, rec.RunqDepth(p), i, $"P{p}"));
            var global = Step(GlobalQueue, t, rec.GlobalRunq(), i, GlobalQueue);
            global.Dashed = true;
            series.Add(global);
            bands.AddRange(PauseBands(rec, i, ""));
        }
        // Colours go to series groups in the order they first appear: P0, P1, ... and the global
        // queue last, whatever the first run's GOMAXPROCS, so that P1 has the same colour on every
        // chart (a first run with one P put the global queue's colour on P1 in the next chart).
        var ordered = series.OrderBy(x => x.Group == GlobalQueue ? int.MaxValue : int.Parse(x.Group.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new ChartSpec
        {
            Title = "Run-queue depth per P and global queue" + PauseNote(bands),
            XTitle = TimeTitle,
            YTitle = "goroutines",
            PanelTitles = panels,
            Columns = 2,
            Series = ordered,
            Bands = bands.ToArray(),
        };
    }

    /// <summary>A band on <paramref name="panel"/> for each stop-the-world of the run: from the request until the world started again.</summary>
    public static IEnumerable<BandSpec> PauseBands(Recording recording, int panel, string group) =>
        recording.Pauses.Select(p => new BandSpec { X0 = p.TimeNs / 1e6, X1 = (p.TimeNs + p.DurationNs) / 1e6, Panel = panel, Group = group });

    /// <summary>What the shading means, for a chart's title; empty when there is none.</summary>
    public static string PauseNote(IReadOnlyCollection<BandSpec> bands) => bands.Count > 0 ? " (shaded: stop-the-world pauses)" : "";

    /// <summary>The per-P counters at the end of each run, a panel per counter, a bar colour per run.</summary>
    public static ChartSpec Counters(IReadOnlyList<NamedRecording> runs)
    {
        (string Title, Func<ProcCounters, long> Value)[] counters =
        [
            ("schedticks", c => c.SchedTicks),
            ("steal operations", c => c.StealOps),
            ("goroutines stolen", c => c.StolenGs),
            ("runnext hits", c => c.RunNextHits),
            ("global-queue takes", c => c.GlobalRunqTakes),
            ("parks", c => c.Parks),
        ];
        var series = new List<SeriesSpec>();
        foreach (var run in runs)
        {
            var perP = run.Recording.Counters;
            double[] x = perP.Select(c => (double)c.P).ToArray();
            for (int i = 0; i < counters.Length; i++)
                series.Add(new SeriesSpec
                {
                    Name = run.Label,
                    Group = run.Label,
                    Panel = i,
                    X = x,
                    Y = perP.Select(c => (double)counters[i].Value(c)).ToArray(),
                });
        }
        return new ChartSpec
        {
            Title = "Scheduler counters per P",
            XTitle = "P",
            YTitle = "count",
            PanelTitles = counters.Select(c => c.Title).ToArray(),
            Columns = 2,
            ShareX = false,
            Series = series.ToArray(),
        };
    }

    private static SeriesSpec Step(string name, double[] t, int[] y, int panel, string group) =>
        Step(name, group, t, y.Select(v => (double)v).ToArray(), panel);

    /// <summary>A series of readings that each hold until the next (a queue length, a count so far).</summary>
    internal static SeriesSpec Step(string name, string group, double[] t, double[] y, int panel, bool dashed = false) => new()
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
