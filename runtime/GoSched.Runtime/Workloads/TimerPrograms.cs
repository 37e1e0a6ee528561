// Timer workloads (issue 3): sleepers, tickers, sleepers under CPU load, and timer churn.
namespace GoSched.Workloads;

/// <summary>N goroutines sleeping random durations in a range, repeatedly.</summary>
internal static class Timers
{
    public static readonly Workload Workload = new("timers",
        "`goroutines` goroutines each sleep `sleeps` times for a random duration in [min, max]",
        Params(), (a, run) => Main(a, run, load: false)) { Check = CheckRange };

    public static readonly Workload UnderLoad = new("timers-under-load",
        "the timers workload while GOMAXPROCS CPU-bound goroutines keep every P busy",
        Params(), (a, run) => Main(a, run, load: true)) { Check = CheckRange };

    private static WorkloadParam[] Params() => new WorkloadParam[]
    {
        new("goroutines", ParamKind.Int, "1000", "sleeping goroutines", 1, 10_000_000),
        new("sleeps", ParamKind.Int, "20", "sleeps per goroutine", 1, 1_000_000),
        new("min", ParamKind.Duration, "1ms", "shortest sleep", 1, 100_000_000_000),
        new("max", ParamKind.Duration, "50ms", "longest sleep", 1, 100_000_000_000),
        new("seed", ParamKind.Int, "1", "seed of the sleep durations", 0, long.MaxValue),
    };

    /// <summary>The sleeps are drawn from [min, max]: refused before the run when max is below min.</summary>
    private static void CheckRange(WorkloadArgs a)
    {
        if (a["max"] < a["min"])
            throw new WorkloadException($"max={WorkloadParam.FormatDuration(a["max"])} is below min={WorkloadParam.FormatDuration(a["min"])}");
    }

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run, bool load)
    {
        int n = a.Int("goroutines"), sleeps = a.Int("sleeps");
        long min = a["min"], max = a["max"];
        var stop = new Chan<bool>();
        var loadDone = new WaitGroup();
        if (load)
        {
            loadDone.Add(Go.Gomaxprocs);
            for (int i = 0; i < Go.Gomaxprocs; i++) Burner(stop, loadDone);
        }
        var wg = new WaitGroup();
        wg.Add(n);
        var rng = new Random((int)a["seed"]);
        var woke = new HdrHistogram.LongConcurrentHistogram(1, Observability.Latency.HighestTrackableNs, 3);
        for (int i = 0; i < n; i++) Sleeper(rng.Next(), sleeps, min, max, woke, wg);
        await wg.Wait();
        if (load)
        {
            stop.Close();
            await loadDone.Wait();
        }
        run.Report("timers_fired", (double)n * sleeps);
        // The recording's lateness is fired - due, taken when the timer runs; a sleeper then waits
        // in a run queue until its P runs it. What the sleeper sees (as Go programs measure it:
        // time after the sleep - (time before it + duration)) includes that wait.
        run.Report("woke_late_p50_ms", woke.GetValueAtPercentile(50) / 1e6);
        run.Report("woke_late_p99_ms", woke.GetValueAtPercentile(99) / 1e6);
    }

    private static async GoTask Sleeper(int seed, int sleeps, long min, long max, HdrHistogram.HistogramBase woke, WaitGroup wg)
    {
        var rng = new Random(seed);
        for (int k = 0; k < sleeps; k++)
        {
            long d = min + (long)(rng.NextDouble() * (max - min));
            long t0 = Go.Nanotime();
            await Go.SleepNs(d);
            Observability.Latency.Record(woke, Go.Nanotime() - t0 - d);
        }
        wg.Done();
    }

    /// <summary>CPU-bound until stop is closed: 1 ms slices of work, checking stop in between.</summary>
    private static async GoTask Burner(Chan<bool> stop, WaitGroup done)
    {
        while (true)
        {
            await Go.WorkNs(1_000_000);
            var sel = Go.Select();
            var r = sel.Recv(stop);
            sel.Default();
            if (await sel == r.Index) break;
        }
        done.Done();
    }
}

/// <summary>N tickers, each read for a number of ticks.</summary>
internal static class Tickers
{
    public static readonly Workload Workload = new("ticker",
        "`tickers` goroutines each read `ticks` ticks from a Ticker of period `period`",
        new WorkloadParam[]
        {
            new("tickers", ParamKind.Int, "100", "tickers (one goroutine each)", 1, 1_000_000),
            new("ticks", ParamKind.Int, "50", "ticks read from each", 1, 1_000_000),
            new("period", ParamKind.Duration, "5ms", "ticker period", 10_000, 100_000_000_000),
        },
        Main);

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int n = a.Int("tickers"), ticks = a.Int("ticks");
        long period = a["period"];
        var wg = new WaitGroup();
        wg.Add(n);
        for (int i = 0; i < n; i++) Reader(period, ticks, wg);
        await wg.Wait();
        run.Report("ticks_read", (double)n * ticks);
    }

    private static async GoTask Reader(long period, int ticks, WaitGroup wg)
    {
        var t = Go.NewTicker(TimeSpan.FromTicks(period / 100));
        for (int k = 0; k < ticks; k++) await t.C.Recv();
        t.Stop();
        wg.Done();
    }
}

/// <summary>Timers reset and stopped far more often than they fire: what makes the deleted-timer rule matter.</summary>
internal static class TimerChurn
{
    public static readonly Workload Workload = new("timer-churn",
        "`goroutines` goroutines each create a timer and reset or stop it `resets` times before letting it fire (the 1/4 rule's case)",
        new WorkloadParam[]
        {
            new("goroutines", ParamKind.Int, "100", "churning goroutines", 1, 1_000_000),
            new("rounds", ParamKind.Int, "20", "timers each goroutine lets fire", 1, 1_000_000),
            new("resets", ParamKind.Int, "100", "renewals per round, in turn Stop+NewTimer (old entry left deleted) and Stop+Reset (entry moved later, or earlier)", 0, 1_000_000),
            new("timeout", ParamKind.Duration, "20ms", "the timeout each timer is set to", 1_000, 100_000_000_000),
            new("pause", ParamKind.Duration, "20us", "sleep between resets", 0, 1_000_000_000),
        },
        Main);

    /// <summary>What the churners did, summed: every timer armed and not stopped fires exactly once.</summary>
    private sealed class Counts
    {
        public long Created, Reset, Stopped, Sleeps;
    }

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int n = a.Int("goroutines");
        var wg = new WaitGroup();
        wg.Add(n);
        var c = new Counts();
        for (int i = 0; i < n; i++) Churner(a.Int("rounds"), a.Int("resets"), a["timeout"], a["pause"], c, wg);
        await wg.Wait();
        run.Report("timers_created", c.Created);
        run.Report("timers_reset", c.Reset);
        run.Report("timers_stopped", c.Stopped);
        // Every timer firing of the run (the recording's count), by conservation: each NewTimer
        // and each Reset arms a timer once, each Stop that returned true disarmed one, and the
        // churners' own sleeps are timers too.
        run.Report("timer_firings_expected", c.Created + c.Reset - c.Stopped + c.Sleeps);
    }

    private static async GoTask Churner(int rounds, int resets, long timeout, long pause, Counts c, WaitGroup wg)
    {
        var d = TimeSpan.FromTicks(timeout / 100);
        var half = TimeSpan.FromTicks(timeout / 200);
        long created = 0, reset = 0, stopped = 0, sleeps = 0;
        for (int r = 0; r < rounds; r++)
        {
            // A request with a timeout that is renewed on every bit of progress. Go programs do it
            // in two ways, taken in turn here. Stop + a new timer leaves the old entry on its heap,
            // deleted (deltimer), until its P removes it: what the 1/4 rule clears. Stop, drain and
            // Reset (time.Timer.Reset's documented use) moves the same entry (modtimer: the deleted
            // timer revived as ModifiedLater, or ModifiedEarlier when renewed for half the
            // timeout), which its P re-positions later (cleantimers, adjusttimers).
            var t = Go.NewTimer(d);
            created++;
            for (int k = 0; k < resets; k++)
            {
                if (pause > 0) { await Go.SleepNs(pause); sleeps++; }
                bool wasActive = t.Stop();
                if (wasActive) stopped++;
                if (k % 2 == 0)
                {
                    t = Go.NewTimer(d); // a missed Stop's value stays in the abandoned channel
                    created++;
                }
                else
                {
                    if (!wasActive) await t.C!.Recv(); // it fired: drain its value before Reset
                    t.Reset(k % 4 == 1 ? half : d);
                    reset++;
                }
            }
            await t.C!.Recv();
        }
        lock (c)
        {
            c.Created += created;
            c.Reset += reset;
            c.Stopped += stopped;
            c.Sleeps += sleeps;
        }
        wg.Done();
    }
}
