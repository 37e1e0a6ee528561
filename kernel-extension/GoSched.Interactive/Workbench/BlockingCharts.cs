// BlockingCharts: the netpoller, system calls and the Ms in, chart descriptions out (issue 5).
// Reads only Recording's public tables: the wake-latency histogram, the samples' cumulative
// netpoll and syscall counters and their Ms by state, and the pauses (shaded on every timeline).
using GoSched.Charts;
using GoSched.Observability;

namespace GoSched.Interactive.Workbench;

internal static class BlockingCharts
{
    private const string TimeTitle = "time since start (ms)";

    /// <summary>Netpoll wake latency (poll returned the goroutine → it runs) as a histogram and CDF, one colour per run.</summary>
    public static ChartSpec WakeLatency(IReadOnlyList<NamedRecording> runs) =>
        // The x title is drawn under each of the two panels: short, or the two overlap.
        LatencyCharts.Distribution(runs, r => r.Recording.NetpollWakeLatency!, "Netpoll wake latency (poll returned the goroutine → it runs)",
            "wake latency (ms)", "wakes", "late");

    /// <summary>
    /// Polls, blocking polls and goroutines readied per ms between samples, a panel each, runs
    /// overlaid; pauses shaded. Null when no run has samples with netpoll counters (sampler off).
    /// </summary>
    public static ChartSpec? PollsOverTime(IReadOnlyList<NamedRecording> runs) =>
        CountersOverTime(runs, s => s.Netpoll, perMs: true, "Netpoll over time", "per ms",
        [
            ("netpoll calls per ms", c => c.Polls),
            ("blocking polls per ms (an M slept in epoll)", c => c.BlockingPolls),
            ("goroutines readied per ms", c => c.Readied),
        ]);

    /// <summary>
    /// System calls, immediate hand-offs (Go.SyscallBlock) and sysmon's retakes so far, a panel
    /// each, runs overlaid; pauses shaded. Null when no run has samples with syscall counters.
    /// </summary>
    public static ChartSpec? HandoffsOverTime(IReadOnlyList<NamedRecording> runs) =>
        CountersOverTime(runs, s => s.Syscalls, perMs: false, "System calls and P hand-offs (so far)", "count",
        [
            ("system calls (Go.Syscall, Go.SyscallBlock)", c => c.Syscalls),
            ("Ps handed off at once (Go.SyscallBlock: entersyscallblock)", c => c.BlockHandoffs),
            ("Ps retaken by sysmon from system calls (retake)", c => c.SysmonRetakes),
        ]);

    /// <summary>
    /// Cumulative counters of the samples, a panel per counter (as counts so far, or per ms between
    /// samples), runs overlaid in a colour each; every run's pauses shaded on every panel.
    /// </summary>
    private static ChartSpec? CountersOverTime<T>(IReadOnlyList<NamedRecording> runs, Func<SchedSample, T?> column, bool perMs,
        string title, string yTitle, (string Title, Func<T, long> Value)[] panels)
        where T : class
    {
        var sampled = Sampled(runs, column);
        if (sampled.Length == 0)
            return null;
        bool one = sampled.Length == 1;
        var series = new List<SeriesSpec>();
        var bands = new List<BandSpec>();
        foreach (var (run, samples, counters) in sampled)
        {
            for (int i = 0; i < panels.Length; i++)
            {
                long[] counts = counters.Select(panels[i].Value).ToArray();
                var (t, y) = perMs ? PerMs(samples, counts) : (samples.Select(s => s.TimeNs / 1e6).ToArray(), counts.Select(c => (double)c).ToArray());
                string group = one ? "" : run.Label;
                series.Add(RecordingCharts.Step(one ? panels[i].Title : run.Label, group, t, y, i));
                bands.AddRange(RecordingCharts.PauseBands(run.Recording, i, group));
            }
        }
        return new ChartSpec
        {
            Title = (one ? $"{title}: {sampled[0].Run.Label}" : title) + RecordingCharts.PauseNote(bands),
            XTitle = TimeTitle,
            YTitle = yTitle,
            PanelTitles = panels.Select(p => p.Title).ToArray(),
            Series = series.ToArray(),
            Bands = bands.ToArray(),
        };
    }

    /// <summary>
    /// Ms by state over time, a panel per run (a colour per state on every panel), with the Ms
    /// created so far dashed; each run's pauses shaded on its panel.
    /// </summary>
    public static ChartSpec MachinesOverTime(IReadOnlyList<NamedRecording> runs)
    {
        (string Name, Func<MachineCounts, int> Value)[] states =
        [
            ("running a goroutine", m => m.Running),
            ("in a system call", m => m.Syscall),
            ("spinning", m => m.Spinning),
            ("idle", m => m.Idle),
            ("idle, locked to a goroutine", m => m.IdleLocked),
            ("blocked in netpoll", m => m.Netpoll),
        ];
        const string Threads = "Ms created (threads)";
        var sampled = Sampled(runs, s => s.Machines);
        var series = new List<SeriesSpec>();
        var bands = new List<BandSpec>();
        for (int panel = 0; panel < sampled.Length; panel++)
        {
            var (run, samples, machines) = sampled[panel];
            double[] t = samples.Select(s => s.TimeNs / 1e6).ToArray();
            foreach (var (name, value) in states)
                series.Add(RecordingCharts.Step(name, name, t, machines.Select(m => (double)value(m)).ToArray(), panel));
            series.Add(RecordingCharts.Step(Threads, Threads, t, samples.Select(s => (double)s.Threads).ToArray(), panel, dashed: true));
            bands.AddRange(RecordingCharts.PauseBands(run.Recording, panel, ""));
        }
        return new ChartSpec
        {
            Title = (sampled.Length == 1 ? $"Ms by state: {sampled[0].Run.Label}" : "Ms by state") + RecordingCharts.PauseNote(bands),
            XTitle = TimeTitle,
            YTitle = "Ms",
            PanelTitles = sampled.Length == 1 ? [] : sampled.Select(r => r.Run.Label).ToArray(),
            Series = series.ToArray(),
            Bands = bands.ToArray(),
        };
    }

    /// <summary>Each run's samples that carry <paramref name="column"/>, with that column; runs with none are left out.</summary>
    private static (NamedRecording Run, SchedSample[] Samples, T[] Column)[] Sampled<T>(IReadOnlyList<NamedRecording> runs, Func<SchedSample, T?> column)
        where T : class =>
        runs.Select(r => (Run: r, Samples: r.Recording.Samples.Where(s => column(s) is not null).ToArray()))
            .Where(r => r.Samples.Length > 0)
            .Select(r => (r.Run, r.Samples, r.Samples.Select(s => column(s)!).ToArray()))
            .ToArray();

    /// <summary>
    /// A cumulative counter as a rate per ms between consecutive samples, as steps: each interval's
    /// rate starts at the interval's first sample and holds to the next (the last to the end).
    /// </summary>
    internal static (double[] T, double[] Rate) PerMs(IReadOnlyList<SchedSample> samples, long[] cumulative)
    {
        if (samples.Count < 2)
            return ([], []);
        var t = new double[samples.Count];
        var rate = new double[samples.Count];
        for (int i = 1; i < samples.Count; i++)
        {
            double ms = (samples[i].TimeNs - samples[i - 1].TimeNs) / 1e6;
            t[i - 1] = samples[i - 1].TimeNs / 1e6;
            rate[i - 1] = ms > 0 ? (cumulative[i] - cumulative[i - 1]) / ms : 0;
        }
        t[^1] = samples[^1].TimeNs / 1e6;
        rate[^1] = rate[^2];
        return (t, rate);
    }
}
