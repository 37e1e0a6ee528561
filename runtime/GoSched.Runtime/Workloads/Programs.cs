// The workloads' goroutines. Parameter names and defaults match datasets/go/workload.
using HdrHistogram;

namespace GoSched.Workloads;

/// <summary>A parent spawns workers with very unequal CPU work (unit &lt;&lt; (i % 8)), so stealing matters.</summary>
internal static class Fanout
{
    public static readonly Workload Workload = new("fanout",
        "a parent spawns `workers` goroutines per round; worker i spins for unit << (i % 8) (very unequal work, so stealing matters)",
        new WorkloadParam[]
        {
            new("rounds", ParamKind.Int, "3", "rounds; each spawns the workers and waits for them", 1, 1_000_000),
            new("workers", ParamKind.Int, "256", "goroutines spawned per round", 1, 10_000_000),
            new("unit", ParamKind.Duration, "50us", "worker i spins for unit << (i % 8)", 0, 1_000_000_000),
        },
        Main);

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int rounds = a.Int("rounds"), workers = a.Int("workers");
        long unit = a["unit"];
        long busy = 0;
        for (int i = 0; i < workers; i++) busy += unit << (i % 8);
        long start = WorkloadRun.Now(), startProcNs = WorkloadRun.ProcNs();
        var wg = new WaitGroup();
        for (int r = 0; r < rounds; r++)
        {
            wg.Add(workers);
            for (int i = 0; i < workers; i++) Worker(unit << (i % 8), wg);
            await wg.Wait();
        }
        ReportEfficiency(run, busy * rounds, start, startProcNs);
    }

    /// <summary>
    /// The figures of CPU work timed from <paramref name="start"/>: busy_ms (the work asked for),
    /// wall_ms and their efficiency. fanout and imbalance report the same three, as their Go
    /// programs do, so that an efficiency can be checked against the figures it comes from.
    /// </summary>
    internal static void ReportEfficiency(WorkloadRun run, long busyNs, long start, long startProcNs)
    {
        long wall = WorkloadRun.Now() - start;
        run.Report("busy_ms", busyNs / 1e6);
        run.Report("wall_ms", wall / 1e6);
        // Ideal time over wall time, with the Ps the run really had (GOMAXPROCS may change mid-run):
        // busy_ms / (GOMAXPROCS x wall_ms) while GOMAXPROCS stays the same.
        run.Report("efficiency", (double)busyNs / (WorkloadRun.ProcNs() - startProcNs));
    }

    private static async GoTask Worker(long ns, WaitGroup wg)
    {
        await Go.WorkNs(ns);
        wg.Done();
    }
}

/// <summary>All work spawned from one goroutine, hence one P: the others must steal it.</summary>
internal static class Imbalance
{
    public static readonly Workload Workload = new("imbalance",
        "one goroutine spawns `goroutines` equal workers per round, all from its own P (the others must steal)",
        new WorkloadParam[]
        {
            new("rounds", ParamKind.Int, "3", "rounds; each spawns the workers and waits for them", 1, 1_000_000),
            new("goroutines", ParamKind.Int, "1000", "goroutines spawned per round", 1, 10_000_000),
            new("work", ParamKind.Duration, "200us", "CPU work per goroutine", 0, 1_000_000_000),
        },
        Main);

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int rounds = a.Int("rounds"), n = a.Int("goroutines");
        long work = a["work"];
        long start = WorkloadRun.Now(), startProcNs = WorkloadRun.ProcNs();
        var wg = new WaitGroup();
        for (int r = 0; r < rounds; r++)
        {
            wg.Add(n);
            for (int i = 0; i < n; i++) Worker(work, wg);
            await wg.Wait();
        }
        // busy_ms as well: efficiency was reported without the work it was computed from.
        Fanout.ReportEfficiency(run, work * n * rounds, start, startProcNs);
    }

    private static async GoTask Worker(long ns, WaitGroup wg)
    {
        await Go.WorkNs(ns);
        wg.Done();
    }
}

/// <summary>Two goroutines bounce a value over two unbuffered channels.</summary>
internal static class PingPong
{
    public static readonly Workload Workload = new("pingpong",
        "two goroutines bounce a value over two unbuffered channels `rounds` times",
        new WorkloadParam[] { new("rounds", ParamKind.Int, "100000", "round trips", 1, 1_000_000_000) },
        Main);

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int rounds = a.Int("rounds");
        var ping = new Chan<int>();
        var pong = new Chan<int>();
        var done = new WaitGroup();
        done.Add(1);
        Echo(ping, pong, rounds, done);
        long start = WorkloadRun.Now();
        for (int i = 0; i < rounds; i++)
        {
            await ping.Send(i);
            int v = await pong.Recv();
            if (v != i) throw new InvalidOperationException($"pingpong: sent {i}, got {v} back");
        }
        run.Report("ns_per_roundtrip", (double)(WorkloadRun.Now() - start) / rounds);
        await done.Wait(); // every goroutine started also finishes
    }

    private static async GoTask Echo(Chan<int> ping, Chan<int> pong, int rounds, WaitGroup done)
    {
        for (int i = 0; i < rounds; i++) await pong.Send(await ping.Recv());
        done.Done();
    }
}

/// <summary>A ring of goroutines joined by unbuffered channels passes one token around.</summary>
internal static class Ring
{
    public static readonly Workload Workload = new("ring",
        "`goroutines` goroutines in a ring of unbuffered channels pass one token `hops` times",
        new WorkloadParam[]
        {
            new("goroutines", ParamKind.Int, "10000", "goroutines in the ring", 2, 10_000_000),
            new("hops", ParamKind.Int, "1000000", "token passes in all", 1, 2_000_000_000),
        },
        Main);

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int n = a.Int("goroutines"), hops = a.Int("hops");
        var chans = new Chan<int>[n];
        for (int i = 0; i < n; i++) chans[i] = new Chan<int>();
        var done = new Chan<int>();
        var exited = new WaitGroup();
        exited.Add(n);
        for (int i = 0; i < n; i++) Node(chans[i], chans[(i + 1) % n], done, exited);
        long start = WorkloadRun.Now();
        await chans[0].Send(hops);
        int last = await done.Recv();
        run.Report("ns_per_hop", (double)(WorkloadRun.Now() - start) / hops);
        if (last != 0) throw new InvalidOperationException($"ring: token ended at {last}, not 0");
        for (int i = 0; i < n; i++) chans[i].Close(); // let the nodes exit
        await exited.Wait();
    }

    private static async GoTask Node(Chan<int> inp, Chan<int> outp, Chan<int> done, WaitGroup exited)
    {
        while (true)
        {
            var (v, ok) = await inp.RecvOk();
            if (!ok) { exited.Done(); return; }
            if (v == 0) { await done.Send(0); continue; }
            await outp.Send(v - 1);
        }
    }
}

/// <summary>Goroutine churn: bursts of short-lived goroutines.</summary>
internal static class Spawn
{
    public static readonly Workload Workload = new("spawn",
        "spawns `goroutines` short-lived goroutines in bursts of `burst`, each only signalling a WaitGroup",
        new WorkloadParam[]
        {
            new("goroutines", ParamKind.Int, "100000", "goroutines in all", 1, 100_000_000),
            new("burst", ParamKind.Int, "1000", "goroutines per burst (waited for before the next)", 1, 10_000_000),
        },
        Main);

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int n = a.Int("goroutines"), burst = a.Int("burst");
        var wg = new WaitGroup();
        long start = WorkloadRun.Now();
        for (int done = 0; done < n; done += burst)
        {
            int k = Math.Min(burst, n - done);
            wg.Add(k);
            for (int i = 0; i < k; i++) Child(wg);
            await wg.Wait();
        }
        run.Report("ns_per_goroutine", (double)(WorkloadRun.Now() - start) / n);
    }

    private static async GoTask Child(WaitGroup wg)
    {
        wg.Done();
    }
}

/// <summary>
/// Goroutines contending for one Mutex: each locks, works `hold` inside, unlocks, works `work`
/// outside. Short holds show normal mode (the running goroutine relocks before a woken waiter
/// gets there, few parks); holds past 1 ms of waiting switch the mutex to starvation mode.
/// </summary>
internal static class MutexContention
{
    public static readonly Workload Workload = new("mutex",
        "`goroutines` goroutines (0: 2×GOMAXPROCS) each lock one shared Mutex `locks` times, working `hold` inside and `work` outside",
        new WorkloadParam[]
        {
            new("goroutines", ParamKind.Int, "0", "contending goroutines; 0: 2×GOMAXPROCS", 0, 100_000),
            new("locks", ParamKind.Int, "10000", "Lock/Unlock pairs per goroutine", 1, 100_000_000),
            new("hold", ParamKind.Duration, "0", "CPU work inside the lock", 0, 1_000_000_000),
            new("work", ParamKind.Duration, "1us", "CPU work outside the lock, after each Unlock", 0, 1_000_000_000),
        },
        Main);

    private sealed class Shared
    {
        public readonly Mutex Mu = new();
        public long Counter;
        public int Inside, Overlaps;
        public readonly LongConcurrentHistogram Wait = new(1, Observability.Latency.HighestTrackableNs, 3);
    }

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int n = a.Int("goroutines"), locks = a.Int("locks");
        if (n == 0) n = 2 * Go.Gomaxprocs;
        long hold = a["hold"], work = a["work"];
        var shared = new Shared();
        var wg = new WaitGroup();
        wg.Add(n);
        long start = WorkloadRun.Now();
        for (int i = 0; i < n; i++) Locker(shared, locks, hold, work, wg);
        await wg.Wait();
        long wall = WorkloadRun.Now() - start;
        long expected = (long)n * locks;
        if (shared.Counter != expected || shared.Overlaps != 0)
            throw new InvalidOperationException($"mutex: {shared.Counter} increments of {expected}, {shared.Overlaps} times two goroutines held the lock");
        run.Report("contenders", n); // "goroutines" is the summary's started/finished line
        run.Report("locks", expected);
        run.Report("ns_per_lock", (double)wall / expected);
        run.Report("parks", shared.Mu.Parks);
        run.Report("parks_per_lock", (double)shared.Mu.Parks / expected);
        run.Report("starvation_switches", shared.Mu.StarvationSwitches);
        run.Report("wait_p50_us", shared.Wait.GetValueAtPercentile(50) / 1e3);
        run.Report("wait_p99_us", shared.Wait.GetValueAtPercentile(99) / 1e3);
        run.Report("wait_max_us", shared.Wait.GetMaxValue() / 1e3);
    }

    private static async GoTask Locker(Shared s, int locks, long hold, long work, WaitGroup wg)
    {
        for (int i = 0; i < locks; i++)
        {
            long t0 = WorkloadRun.Now();
            await s.Mu.Lock();
            Observability.Latency.Record(s.Wait, WorkloadRun.Now() - t0);
            if (Interlocked.Increment(ref s.Inside) != 1) Interlocked.Increment(ref s.Overlaps);
            s.Counter++;
            if (hold > 0) await Go.WorkNs(hold);
            Interlocked.Decrement(ref s.Inside);
            s.Mu.Unlock();
            if (work > 0) await Go.WorkNs(work);
        }
        wg.Done();
    }
}
