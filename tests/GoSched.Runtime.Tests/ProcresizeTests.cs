// GOMAXPROCS at run time (Procresize.cs): conservation across many resizes under load, with a
// randomised schedule (run queues of 4 slots, randomizeScheduler, a seed), changes made both from
// a goroutine (Go.SetGomaxprocs) and from the host thread at the same time, so that both stopper
// paths and worldsema contention run. What must hold: every goroutine spawned ran exactly once,
// every value sent arrived exactly once, every timer either fired exactly once or was stopped
// before firing (never both), every ticker delivered its ticks, and the run ended without error.
namespace GoSched.Tests;

public class ProcresizeTests
{
    private sealed class Ledger
    {
        public readonly int[] Ran = new int[4096];
        public readonly int[] Delivered = new int[1 << 16];
        public readonly int[] Fired = new int[4096];
        public readonly int[] Stopped = new int[4096];
        public int Spawned, Values, Timers, Changes;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task HundredResizesUnderLoadLoseNoGoroutineAndNoTimer(int seed)
    {
        var rng = new Random(seed);
        int[] sizes = Enumerable.Range(0, 100).Select(_ => rng.Next(1, 7)).ToArray();
        var ledger = new Ledger();
        var hostDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string knobs = $"gomaxprocs=3,runqsize=4,randomizescheduler=1,seed={seed},sampleperiodus=200";
        using var rt = new GoRuntime(GoConfig.Parse(knobs));
        var run = rt.RunAsync(() => ResizeMain(sizes, seed, ledger, hostDone.Task), TimeSpan.FromSeconds(60));

        // The host's half of the changes, concurrently with the goroutine's half.
        Assert.True(SpinWait.SpinUntil(() => rt.IsRunning, TimeSpan.FromSeconds(10)));
        for (int k = 50; k < 100; k++)
        {
            int prev = rt.SetGomaxprocs(sizes[k]);
            if (prev != sizes[k]) Interlocked.Increment(ref ledger.Changes);
            Assert.InRange(prev, 1, 6);
            Thread.Sleep(k % 3);
        }
        hostDone.SetResult();
        var r = await run;

        if (r.Error is RuntimeInvariantException inv) Assert.Fail($"[{knobs}] invariant check fired: {inv.Message}");
        Assert.True(r.Error == null, $"[{knobs}] run failed: {r.Error}");
        for (int i = 0; i < ledger.Spawned; i++) Assert.True(ledger.Ran[i] == 1, $"[{knobs}] goroutine #{i} ran {ledger.Ran[i]} times");
        for (int v = 0; v < ledger.Values; v++) Assert.True(ledger.Delivered[v] == 1, $"[{knobs}] value {v} delivered {ledger.Delivered[v]} times");
        for (int t = 0; t < ledger.Timers; t++)
            Assert.True(ledger.Fired[t] + ledger.Stopped[t] == 1, $"[{knobs}] timer {t}: fired {ledger.Fired[t]}, stopped {ledger.Stopped[t]}");
        Assert.Equal(ledger.Changes, r.Recording.Pauses.Count(p => p.Reason == "GOMAXPROCS"));
        Assert.All(r.Recording.Pauses, p => Assert.InRange(p.ProcsAfter, 1, 6));
        // The sampler coped with the P count changing: samples of several sizes, each consistent.
        Assert.All(r.Recording.Samples, s => Assert.Equal(s.Gomaxprocs, s.LocalRunq.Length));
        // Counters of every P that ever existed are kept.
        Assert.True(r.Recording.Counters.Count >= 6 || sizes.Max() < 6);
    }

    private static async GoTask ResizeMain(int[] sizes, int seed, Ledger ledger, Task hostDone)
    {
        var rng = new Random(seed * 7919);
        var wg = new WaitGroup();
        var ch = new Chan<int>(rng.Next(0, 3));
        // Consumers: receive every value once.
        wg.Add(3);
        for (int c = 0; c < 3; c++) Consumer(ch, ledger, wg);
        // Producers spawn workers, each of which sends values, sleeps, calls into the "OS".
        var producers = new WaitGroup();
        producers.Add(4);
        for (int p = 0; p < 4; p++) Producer(ch, ledger, producers, p);
        // Timers: AfterFunc with random delays, some stopped at once; a ticker read for 20 ticks.
        wg.Add(2);
        Timers(ledger, wg, seed);
        TickerReader(wg);
        // The goroutine's half of the GOMAXPROCS changes.
        for (int k = 0; k < 50; k++)
        {
            int prev = await Go.SetGomaxprocs(sizes[k]);
            if (prev != sizes[k]) Interlocked.Increment(ref ledger.Changes);
            if (Go.Gomaxprocs < 1) throw new InvalidOperationException("gomaxprocs < 1");
            if (k % 2 == 0) await Go.Gosched();
            else await Go.SleepNs(rng.Next(10_000, 300_000));
        }
        await producers.Wait();
        ch.Close();
        await wg.Wait();
        await Go.Await(hostDone);
    }

    private static async GoTask Producer(Chan<int> ch, Ledger ledger, WaitGroup producers, int p)
    {
        var workers = new WaitGroup();
        for (int i = 0; i < 60; i++)
        {
            int id = Interlocked.Increment(ref ledger.Spawned) - 1;
            int v0 = Interlocked.Add(ref ledger.Values, 5) - 5;
            workers.Add(1);
            Worker(ch, ledger, workers, id, v0, (p + i) % 3);
            if (i % 8 == 0) await Go.Gosched();
        }
        await workers.Wait();
        producers.Done();
    }

    private static async GoTask Worker(Chan<int> ch, Ledger ledger, WaitGroup workers, int id, int v0, int kind)
    {
        Interlocked.Increment(ref ledger.Ran[id]);
        for (int v = v0; v < v0 + 5; v++)
        {
            await ch.Send(v);
            if (kind == 0) await Go.SleepNs(20_000 + v % 7 * 10_000);
            else if (kind == 1) await Go.Syscall(() => Thread.SpinWait(100));
            else await Go.WorkNs(5_000);
        }
        workers.Done();
    }

    private static async GoTask Consumer(Chan<int> ch, Ledger ledger, WaitGroup wg)
    {
        while (true)
        {
            var (v, ok) = await ch.RecvOk();
            if (!ok) break;
            Interlocked.Increment(ref ledger.Delivered[v]);
        }
        wg.Done();
    }

    private static async GoTask Timers(Ledger ledger, WaitGroup wg, int seed)
    {
        var rng = new Random(seed * 31);
        var all = new WaitGroup();
        for (int i = 0; i < 300; i++)
        {
            int id = ledger.Timers++;
            all.Add(1);
            var t = Go.AfterFunc(TimeSpan.FromTicks(rng.Next(0, 30_000)), () => Fire(ledger, id, all));
            if (i % 5 == 0 && t.Stop())
            {
                ledger.Stopped[id]++;
                all.Done();
            }
            if (i % 20 == 0) await Go.SleepNs(200_000);
        }
        await all.Wait();
        wg.Done();
    }

    private static async GoTask Fire(Ledger ledger, int id, WaitGroup all)
    {
        Interlocked.Increment(ref ledger.Fired[id]);
        all.Done();
        await Go.Gosched();
    }

    private static async GoTask TickerReader(WaitGroup wg)
    {
        var tk = Go.NewTicker(TimeSpan.FromMilliseconds(1));
        for (int i = 0; i < 20; i++) await tk.C.Recv();
        tk.Stop();
        wg.Done();
    }

    [Fact]
    public void ADestroyedPsGoroutinesGoFirstRunnextFirstAndItsTimersMove()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")).Start();
        var order = new List<int>();
        var fired = new int[3];
        Assert.True(rt.StopTheWorld("test"));
        P p1 = rt.AllP[1];
        // Four goroutines that have not run yet, moved from the global queue onto P1: three in
        // its ring, the last one in runnext.
        for (int i = 1; i <= 4; i++)
        {
            int id = i;
            rt.Go(() => Record(order, id));
        }
        var sched = rt.SchedState;
        var gs = new List<G>();
        using (sched.Lock.EnterScope())
        {
            while (sched.Runq.PopFront() is { } g) gs.Add(g);
            sched.RunqSize = 0;
        }
        Assert.Equal(4, gs.Count);
        for (int i = 0; i < 3; i++) rt.RunqPut(p1, gs[i], next: false);
        rt.RunqPut(p1, gs[3], next: true);
        // Timers on P1: one waiting, one deleted (still on the heap), one modified earlier.
        long now = GoSched.Internal.Clock.Nanotime();
        RTimer Timer(int k, long when) => new() { When = when, F = (_, _) => Interlocked.Increment(ref fired[k]) };
        var waiting = Timer(0, now + 2_000_000);
        var deleted = Timer(1, now + 2_000_000);
        var modified = Timer(2, now + 60_000_000_000);
        rt.AddTimer(waiting, on: p1);
        rt.AddTimer(deleted, on: p1);
        rt.AddTimer(modified, on: p1);
        Assert.True(rt.DelTimer(deleted));
        Assert.True(rt.ModTimer(modified, now + 3_000_000, 0, modified.F, null, 0));
        Assert.Equal(3, p1.TimersLen);

        rt.StartTheWorld(newProcs: 1); // procresize destroys P1

        Assert.Equal((int)PStatus.Dead, Volatile.Read(ref p1.Status));
        Assert.Equal(0, p1.TimersLen);
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref fired[0]) + Volatile.Read(ref fired[2]) == 2 && order.Count == 4 || rt.Error != null,
            TimeSpan.FromSeconds(30)));
        Assert.Null(rt.Error);
        // On the one P left: the global queue's head is P1's runnext, then its ring in order.
        lock (order) Assert.Equal([4, 1, 2, 3], order);
        Assert.Equal([1, 0, 1], fired);
        Assert.Equal(TimerStatus.Removed, deleted.State);
        rt.Stop();
    }

    private static async GoTask Record(List<int> order, int id)
    {
        lock (order) order.Add(id);
        await Go.Gosched();
    }

    [Fact]
    public void ShrinkingToOneAndGrowingBackFromTheHostKeepsEveryGoroutine()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=4,sampleperiodus=0")).Start();
        var ps = rt.AllP.ToArray();
        var load = new StopTheWorldTests.Load();
        load.Spawn(rt, 12);
        Assert.Equal(4, rt.SetGomaxprocs(1));
        Assert.Equal(1, rt.Gomaxprocs);
        Assert.Single(rt.AllP);
        Assert.Equal(1, rt.Stats().Gomaxprocs);
        Assert.All(ps.Skip(1), p => Assert.Equal((int)PStatus.Dead, Volatile.Read(ref p.Status)));
        long progress = Volatile.Read(ref load.Progress);
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref load.Progress) > progress + 20 || rt.Error != null, TimeSpan.FromSeconds(30)));
        Assert.Equal(1, rt.SetGomaxprocs(4));
        Assert.Equal(4, rt.AllP.Length);
        // The Ps that come back are the same objects (p.init), their counters carried on.
        for (int i = 0; i < 4; i++) Assert.Same(ps[i], rt.AllP[i]);
        Assert.Equal(4, rt.SetGomaxprocs(0)); // 0 only reads, as runtime.GOMAXPROCS(0)
        load.End(rt);
        rt.Stop();
        Assert.Null(rt.Error);
    }

    [Fact]
    public void ShrinkingToOneAndGrowingBackFromAGoroutine()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=4,sampleperiodus=0"));
        int[] ran = new int[200];
        var r = rt.Run(() => ShrinkGrow(ran), TimeSpan.FromSeconds(60));
        Assert.Null(r.Error);
        Assert.All(ran, c => Assert.Equal(1, c));
        Assert.Equal(new[] { 4, 1 }, r.Recording.Pauses.Select(p => p.ProcsBefore).ToArray());
        Assert.Equal(new[] { 1, 4 }, r.Recording.Pauses.Select(p => p.ProcsAfter).ToArray());
    }

    private static async GoTask ShrinkGrow(int[] ran)
    {
        var wg = new WaitGroup();
        wg.Add(100);
        for (int i = 0; i < 100; i++) Mark(ran, i, wg);
        if (await Go.SetGomaxprocs(1) != 4) throw new InvalidOperationException("previous GOMAXPROCS was not 4");
        if (Go.Gomaxprocs != 1) throw new InvalidOperationException("GOMAXPROCS did not become 1");
        await wg.Wait();
        wg.Add(100);
        for (int i = 100; i < 200; i++) Mark(ran, i, wg);
        if (await Go.SetGomaxprocs(4) != 1) throw new InvalidOperationException("previous GOMAXPROCS was not 1");
        await wg.Wait();
    }

    /// <summary>
    /// P-time (GOMAXPROCS integrated over time, Go's sched.totaltime) counts each stretch at the
    /// GOMAXPROCS it had: bounded by the clock read before and after each change, with no timing
    /// assumption. It is what keeps a workload's efficiency right when GOMAXPROCS changes mid-run.
    /// </summary>
    [Fact]
    public void ProcTimeCountsEachStretchAtItsGomaxprocs()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=3,sampleperiodus=0"));
        var t = new long[8];
        var proc = new long[2];
        var r = rt.Run(() => ProcTimeMain(t, proc), TimeSpan.FromSeconds(60));
        Assert.Null(r.Error);
        long delta = proc[1] - proc[0];
        // proc[0] read in [t0, t1]; 3 Ps; change to 1 in [t2, t3]; 1 P; change to 2 in [t4, t5];
        // 2 Ps; proc[1] read in [t6, t7].
        long min = 3 * (t[2] - t[1]) + 1 * (t[4] - t[3]) + 2 * (t[6] - t[5]);
        long max = 3 * (t[3] - t[0]) + 1 * (t[5] - t[2]) + 2 * (t[7] - t[4]);
        Assert.InRange(delta, min, max);
    }

    /// <summary>
    /// A fanout resized from 2 Ps to 1 while it runs reports its efficiency against the P-time it
    /// had: at most 1 (it divided by the final GOMAXPROCS, and showed 1.17 after such a change).
    /// </summary>
    [Fact]
    public async Task EfficiencyStaysAtMostOneWhenGomaxprocsChangesMidRun()
    {
        GoRuntime? running = null;
        var run = Workloads.WorkloadCatalog.Get("fanout").RunAsync(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"),
            new Dictionary<string, string> { ["rounds"] = "6" }, TimeSpan.FromSeconds(60), started: rt => Volatile.Write(ref running, rt));
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref running) is { IsRunning: true }, TimeSpan.FromSeconds(10)));
        await Task.Delay(50);
        try { running!.SetGomaxprocs(1); }
        catch (InvalidOperationException) { } // the run already ended on a fast machine: still checked below
        var r = await run;
        Assert.Null(r.Error);
        Assert.InRange(r.Metrics!["efficiency"], 0.05, 1.02);
    }

    private static async GoTask ProcTimeMain(long[] t, long[] proc)
    {
        t[0] = Go.Nanotime();
        proc[0] = GoRuntime.Current.ProcTimeNs();
        t[1] = Go.Nanotime();
        await Go.Sleep(TimeSpan.FromMilliseconds(20));
        t[2] = Go.Nanotime();
        await Go.SetGomaxprocs(1);
        t[3] = Go.Nanotime();
        await Go.Sleep(TimeSpan.FromMilliseconds(20));
        t[4] = Go.Nanotime();
        await Go.SetGomaxprocs(2);
        t[5] = Go.Nanotime();
        await Go.Sleep(TimeSpan.FromMilliseconds(20));
        t[6] = Go.Nanotime();
        proc[1] = GoRuntime.Current.ProcTimeNs();
        t[7] = Go.Nanotime();
    }

    private static async GoTask Mark(int[] ran, int i, WaitGroup wg)
    {
        await Go.WorkNs(10_000);
        Interlocked.Increment(ref ran[i]);
        wg.Done();
    }

    [Fact]
    public void BadGomaxprocsIsAClearError()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => rt.SetGomaxprocs(257));
        Assert.Contains("between 1 and 256", e.Message);
        // Before Start, the count just changes.
        Assert.Equal(2, rt.SetGomaxprocs(3));
        var r = rt.Run(() => ReadsGomaxprocs(), TimeSpan.FromSeconds(30));
        Assert.Null(r.Error);
        Assert.Throws<InvalidOperationException>(() => rt.SetGomaxprocs(1));
        // A runtime runs once, and says so.
        var again = Assert.Throws<InvalidOperationException>(() => rt.Run(() => ReadsGomaxprocs()));
        Assert.Contains("a runtime runs once: make a new GoRuntime", again.Message);
    }

    private static async GoTask ReadsGomaxprocs()
    {
        await Go.Gosched();
        if (Go.Gomaxprocs != 3) throw new InvalidOperationException($"GOMAXPROCS {Go.Gomaxprocs}, not 3");
    }
}
