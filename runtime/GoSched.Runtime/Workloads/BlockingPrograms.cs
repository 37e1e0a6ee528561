// Workloads of issue 4 that block threads or stop the world: goroutines in blocking system calls
// beside CPU-bound ones (syscall-block), a ping-pong with one side locked to its thread (locked),
// GOMAXPROCS changed while goroutines run (resize), and synthetic stop-the-world pauses while
// goroutines run and timers fire (stw). Each checks its own conservation and throws (a panic that
// ends the run with an error) if anything was lost, so a run that succeeds proves it.
namespace GoSched.Workloads;

internal static class Blocking
{
    /// <summary>A non-blocking check whether stop is closed (select with a default case).</summary>
    public static async GoFrame<bool> Closed(Chan<bool> stop)
    {
        var sel = Go.Select();
        var done = sel.Recv(stop);
        sel.Default();
        return await sel == done.Index;
    }
}

/// <summary>Goroutines blocked in system calls while others need CPU: sysmon must hand their Ps off.</summary>
internal static class SyscallBlock
{
    public static readonly Workload Workload = new("syscall-block",
        "`blockers` goroutines make `calls` blocking calls of `block` each (Go.Syscall, or Go.SyscallBlock with handoff=1) while 2×GOMAXPROCS goroutines need `work` of CPU each",
        new WorkloadParam[]
        {
            new("blockers", ParamKind.Int, "4", "goroutines making blocking calls", 1, 10_000),
            new("calls", ParamKind.Int, "20", "blocking calls per blocker", 1, 1_000_000),
            new("block", ParamKind.Duration, "2ms", "how long each call blocks its thread", 1_000_000, 10_000_000_000),
            new("work", ParamKind.Duration, "20ms", "CPU work per CPU-bound goroutine (in 100us slices)", 0, 100_000_000_000),
            new("handoff", ParamKind.Int, "0", "0: Go.Syscall (sysmon retakes the P); 1: Go.SyscallBlock (P handed off at once)", 0, 1),
        },
        Main);

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int blockers = a.Int("blockers"), calls = a.Int("calls"), workers = 2 * Go.Gomaxprocs;
        long block = a["block"], work = a["work"];
        bool handoff = a["handoff"] == 1;
        var rt = GoRuntime.Current;
        long retakes0 = rt.SyscallRetakes;
        long start = WorkloadRun.Now(), startProcNs = WorkloadRun.ProcNs();
        var wg = new WaitGroup();
        int callsDone = 0, workDone = 0;
        long cpuEnd = 0, cpuEndProcNs = 0;
        wg.Add(blockers + workers);
        for (int i = 0; i < blockers; i++) Blocker(calls, block, handoff, wg, () => Interlocked.Increment(ref callsDone));
        for (int i = 0; i < workers; i++)
            Worker(work, wg, () =>
            {
                if (Interlocked.Increment(ref workDone) != workers) return;
                Volatile.Write(ref cpuEndProcNs, WorkloadRun.ProcNs());
                Volatile.Write(ref cpuEnd, WorkloadRun.Now());
            });
        await wg.Wait();
        long wall = WorkloadRun.Now() - start, cpuWall = cpuEnd - start;
        if (callsDone != blockers * calls || workDone != workers)
            throw new InvalidOperationException($"syscall-block lost work: {callsDone} of {blockers * calls} calls, {workDone} of {workers} workers");
        long retakes = rt.SyscallRetakes - retakes0;
        run.Report("sysmon_retakes", retakes);
        // Every SyscallBlock call hands its P off at once; with Go.Syscall, only those sysmon retook.
        run.Report("handoffs", handoff ? blockers * calls : retakes);
        run.Report("blocked_ms", blockers * calls * block / 1e6);
        run.Report("wall_ms", wall / 1e6);
        run.Report("cpu_wall_ms", cpuWall / 1e6);
        // CPU work done per P-second until the CPU-bound goroutines finished: near 1 when blocked
        // threads do not hold Ps (P-time, so GOMAXPROCS may change mid-run).
        run.Report("efficiency", (double)work * workers / (cpuEndProcNs - startProcNs));
    }

    private static async GoTask Blocker(int calls, long block, bool handoff, WaitGroup wg, Action done)
    {
        var d = TimeSpan.FromTicks(block / 100);
        for (int i = 0; i < calls; i++)
        {
            if (handoff) await Go.SyscallBlock(() => Thread.Sleep(d));
            else await Go.Syscall(() => Thread.Sleep(d));
            done();
        }
        wg.Done();
    }

    private static async GoTask Worker(long work, WaitGroup wg, Action done)
    {
        for (long left = work; left > 0; left -= 100_000) await Go.WorkNs(Math.Min(left, 100_000));
        done();
        wg.Done();
    }
}

/// <summary>Ping-pong over unbuffered channels with one side wired to its thread (LockOSThread).</summary>
internal static class Locked
{
    public static readonly Workload Workload = new("locked",
        "ping-pong of `rounds` round trips over unbuffered channels; with locked=1 the ponger calls LockOSThread, so every hop is a thread hand-off (startlockedm/stoplockedm)",
        new WorkloadParam[]
        {
            new("rounds", ParamKind.Int, "10000", "round trips", 1, 100_000_000),
            new("locked", ParamKind.Int, "1", "1: the ponger is locked to its thread; 0: neither side is (for comparison)", 0, 1),
        },
        Main);

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int rounds = a.Int("rounds");
        bool locked = a["locked"] == 1;
        var ping = new Chan<int>();
        var pong = new Chan<int>();
        var done = new Chan<int>(1);
        Ponger(ping, pong, done, locked);
        long start = WorkloadRun.Now();
        for (int i = 0; i < rounds; i++)
        {
            await ping.Send(i);
            if (await pong.Recv() != i) throw new InvalidOperationException($"locked: round {i} came back out of order");
        }
        long wall = WorkloadRun.Now() - start;
        ping.Close();
        int threadChanges = await done.Recv();
        if (locked && threadChanges != 0) throw new InvalidOperationException($"locked: the locked goroutine ran on {threadChanges + 1} threads");
        run.Report("ns_per_roundtrip", (double)wall / rounds);
        run.Report("locked", locked ? 1 : 0);
    }

    private static async GoTask Ponger(Chan<int> ping, Chan<int> pong, Chan<int> done, bool locked)
    {
        if (locked) Go.LockOSThread();
        int thread = Environment.CurrentManagedThreadId, changes = 0;
        while (true)
        {
            var (v, ok) = await ping.RecvOk();
            if (!ok) break;
            if (Environment.CurrentManagedThreadId != thread)
            {
                changes++;
                thread = Environment.CurrentManagedThreadId;
            }
            await pong.Send(v);
        }
        await done.Send(changes);
        if (locked) Go.UnlockOSThread();
    }
}

/// <summary>GOMAXPROCS changed mid-run while goroutines compute, talk over channels and sleep.</summary>
internal static class Resize
{
    public static readonly Workload Workload = new("resize",
        "`goroutines` goroutines pass values over a channel, compute and sleep while GOMAXPROCS changes `changes` times (each time to another value in 1..`maxprocs`, every `interval`); checks that no goroutine, value or timer is lost",
        new WorkloadParam[]
        {
            new("goroutines", ParamKind.Int, "64", "worker goroutines", 1, 1_000_000),
            new("changes", ParamKind.Int, "20", "GOMAXPROCS changes", 1, 100_000),
            new("interval", ParamKind.Duration, "5ms", "time between changes", 0, 10_000_000_000),
            // At least 2: each change goes to another value in 1..maxprocs, and with 1 there is
            // none (maxprocs=1 made at most one change and still echoed changes=20).
            new("maxprocs", ParamKind.Int, "4", "largest GOMAXPROCS chosen, at least 2", 2, GoConfig.MaxGomaxprocs),
            new("seed", ParamKind.Int, "1", "seed of the GOMAXPROCS sequence", 0, long.MaxValue),
        },
        Main);

    private sealed class Counts { public long Sent, Received, Sleeps, Woke; }

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int n = a.Int("goroutines"), changes = a.Int("changes"), maxprocs = a.Int("maxprocs");
        long interval = a["interval"];
        var rng = new Random((int)a["seed"]);
        var rt = GoRuntime.Current;
        int pauses0 = rt.Recording.Pauses.Count;
        var counts = new Counts();
        var values = new Chan<long>(16);
        var stop = new Chan<bool>();
        var workers = new WaitGroup();
        var consumer = new WaitGroup();
        consumer.Add(1);
        Consumer(values, counts, consumer);
        workers.Add(n);
        for (int i = 0; i < n; i++) Worker(i, values, stop, counts, workers);
        int changed = 0;
        for (int k = 0; k < changes; k++)
        {
            // A target other than the current GOMAXPROCS, so that `changes` asks for that many
            // changes: Go's GOMAXPROCS(n) at the current n stops no world, and 20 random draws in
            // 1..4 made 13 or 14 changes.
            int current = Go.Gomaxprocs, target;
            if (current <= maxprocs)
            {
                target = rng.Next(1, maxprocs);
                if (target >= current) target++;
            }
            else target = rng.Next(1, maxprocs + 1);
            if (await Go.SetGomaxprocs(target) != target) changed++;
            if (Go.Gomaxprocs != target) throw new InvalidOperationException($"resize: GOMAXPROCS is {Go.Gomaxprocs}, not {target}");
            await Go.SleepNs(interval);
        }
        stop.Close();
        await workers.Wait();
        values.Close();
        await consumer.Wait();
        if (counts.Sent != counts.Received || counts.Sleeps != counts.Woke)
            throw new InvalidOperationException($"resize lost work: sent {counts.Sent}, received {counts.Received}; slept {counts.Sleeps}, woke {counts.Woke}");
        var pauses = rt.Recording.Pauses.Skip(pauses0).Where(p => p.Reason == "GOMAXPROCS").ToArray();
        if (pauses.Length != changed) throw new InvalidOperationException($"resize: {changed} changes but {pauses.Length} stop-the-worlds recorded");
        run.Report("changes", changed);
        run.Report("values", counts.Received);
        // The workers' sleeps, not every timer: the summary's timers line counts the runtime's
        // (main's sleep of `interval` after each change as well), and called both timers_fired,
        // 2398 beside 2418 read as timers lost.
        run.Report("worker_sleeps_woken", counts.Woke);
        run.Report("pause_mean_us", pauses.Length == 0 ? 0 : pauses.Average(p => p.DurationNs) / 1e3);
        run.Report("pause_max_us", pauses.Length == 0 ? 0 : pauses.Max(p => p.DurationNs) / 1e3);
    }

    private static async GoTask Worker(int i, Chan<long> values, Chan<bool> stop, Counts counts, WaitGroup wg)
    {
        for (long k = 0; ; k++)
        {
            if (await Blocking.Closed(stop)) break;
            await values.Send(k);
            Interlocked.Increment(ref counts.Sent);
            if ((i + k) % 3 == 0)
            {
                Interlocked.Increment(ref counts.Sleeps);
                await Go.SleepNs(100_000);
                Interlocked.Increment(ref counts.Woke);
            }
            else
            {
                await Go.WorkNs(20_000);
            }
        }
        wg.Done();
    }

    private static async GoTask Consumer(Chan<long> values, Counts counts, WaitGroup wg)
    {
        while (true)
        {
            var (_, ok) = await values.RecvOk();
            if (!ok) break;
            Interlocked.Increment(ref counts.Received);
        }
        wg.Done();
    }
}

/// <summary>Synthetic stop-the-world pauses while goroutines compute and sleep.</summary>
internal static class Stw
{
    public static readonly Workload Workload = new("stw",
        "GOMAXPROCS CPU-bound goroutines and `sleepers` goroutines sleeping `sleep` in a loop for `duration`, while the world stops for `pause` every `period` (the stwpauseus/stwperiodms knobs; knobs set in the config win)",
        new WorkloadParam[]
        {
            new("duration", ParamKind.Duration, "200ms", "how long the load runs", 1_000_000, 3_600_000_000_000),
            new("sleepers", ParamKind.Int, "100", "goroutines sleeping in a loop", 0, 1_000_000),
            new("sleep", ParamKind.Duration, "1ms", "each sleep", 1_000, 10_000_000_000),
            new("period", ParamKind.Duration, "10ms", "a pause every period (stwperiodms)", 1_000_000, 3_600_000_000_000),
            new("pause", ParamKind.Duration, "500us", "length of each pause (stwpauseus)", 0, 10_000_000_000),
        },
        Main)
    {
        Configure = (config, a) => config.StwPeriodNs != 0 ? config
            : (config with { StwPeriodNs = a["period"], StwPauseNs = a["pause"] }).Validate(),
        // The world is stopped for pause once every period: a pause as long as the period never lets it run.
        Check = a =>
        {
            if (a["pause"] >= a["period"])
                throw new WorkloadException($"pause={WorkloadParam.FormatDuration(a["pause"])} must be shorter than period={WorkloadParam.FormatDuration(a["period"])}");
        },
    };

    private sealed class Counts { public long Sleeps, Woke; }

    private static double Median(IEnumerable<long> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? 0 : v[v.Length / 2];
    }

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int sleepers = a.Int("sleepers"), burners = Go.Gomaxprocs;
        long duration = a["duration"], sleep = a["sleep"];
        var rt = GoRuntime.Current;
        var counts = new Counts();
        var stop = new Chan<bool>();
        var wg = new WaitGroup();
        wg.Add(sleepers + burners);
        for (int i = 0; i < burners; i++) Burner(stop, wg);
        for (int i = 0; i < sleepers; i++) Sleeper(sleep, stop, counts, wg);
        await Go.SleepNs(duration);
        stop.Close();
        await wg.Wait();
        if (counts.Sleeps != counts.Woke) throw new InvalidOperationException($"stw lost timers: {counts.Sleeps} sleeps, {counts.Woke} woke");
        var pauses = rt.Recording.Pauses.Where(p => p.Reason == "pause").ToArray();
        run.Report("pauses", pauses.Length);
        run.Report("pause_total_ms", pauses.Sum(p => p.DurationNs) / 1e6);
        run.Report("pause_p50_us", Median(pauses.Select(p => p.DurationNs)) / 1e3);
        run.Report("pause_max_us", pauses.Length == 0 ? 0 : pauses.Max(p => p.DurationNs) / 1e3);
        run.Report("time_to_stop_p50_us", Median(pauses.Select(p => p.StopNs)) / 1e3);
        run.Report("time_to_stop_max_us", pauses.Length == 0 ? 0 : pauses.Max(p => p.StopNs) / 1e3);
        // The sleepers' sleeps, not every timer: the runtime's count has main's sleep of `duration` too.
        run.Report("sleeper_sleeps_woken", counts.Woke);
    }

    private static async GoTask Burner(Chan<bool> stop, WaitGroup wg)
    {
        while (true)
        {
            await Go.WorkNs(200_000);
            if (await Blocking.Closed(stop)) break;
        }
        wg.Done();
    }

    private static async GoTask Sleeper(long sleep, Chan<bool> stop, Counts counts, WaitGroup wg)
    {
        while (true)
        {
            if (await Blocking.Closed(stop)) break;
            Interlocked.Increment(ref counts.Sleeps);
            await Go.SleepNs(sleep);
            Interlocked.Increment(ref counts.Woke);
        }
        wg.Done();
    }
}
