// Stop-the-world and forEachP (StopTheWorld.cs), and the synthetic pause knobs.
//
// "No goroutine runs during stop-the-world" is checked by the runtime's own invariant (casgstatus
// throws if a goroutine is moved to running while the world is stopped, and the stop itself checks
// that no goroutine is still running), which would end the run with a RuntimeInvariantException;
// the tests add an outside view of it: every P is _Pgcstop, no goroutine is _Grunning, and a
// progress counter the goroutines bump between awaits does not move while the world is stopped.
using GoSched.Observability;

namespace GoSched.Tests;

public class StopTheWorldTests
{
    /// <summary>Load of every kind: CPU work, channel ping-pong, sleeps (timers), syscalls.</summary>
    internal sealed class Load
    {
        public long Progress;
        public volatile bool Stop;
        public int Started, Finished;

        public void Spawn(GoRuntime rt, int workers)
        {
            for (int i = 0; i < workers; i++)
            {
                int kind = i % 4;
                Interlocked.Increment(ref Started);
                if (kind == 2)
                {
                    var a = new Chan<int>();
                    var b = new Chan<int>();
                    Interlocked.Increment(ref Started);
                    rt.Go(() => Ponger(a, b));
                    rt.Go(() => Pinger(a, b));
                }
                else
                {
                    rt.Go(() => Worker(kind));
                }
            }
        }

        private async GoTask Worker(int kind)
        {
            while (!Stop)
            {
                if (kind == 0) await Go.WorkNs(20_000);
                else if (kind == 1) await Go.SleepNs(50_000);
                else await Go.Syscall(() => Thread.SpinWait(200));
                Interlocked.Increment(ref Progress);
            }
            Interlocked.Increment(ref Finished);
        }

        private async GoTask Pinger(Chan<int> a, Chan<int> b)
        {
            int i = 0;
            while (!Stop)
            {
                await a.Send(i++);
                await b.Recv();
                Interlocked.Increment(ref Progress);
            }
            a.Close();
            Interlocked.Increment(ref Finished);
        }

        private async GoTask Ponger(Chan<int> a, Chan<int> b)
        {
            while (true)
            {
                var (v, ok) = await a.RecvOk();
                if (!ok) break;
                await b.Send(v);
            }
            Interlocked.Increment(ref Finished);
        }

        /// <summary>Stops the load and waits until every goroutine has ended (no timed assertion: a generous bound only).</summary>
        public void End(GoRuntime rt)
        {
            Stop = true;
            Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref Finished) == Started || rt.Error != null, TimeSpan.FromSeconds(30)),
                $"goroutines finished {Finished} of {Started}");
            Assert.Null(rt.Error);
            Assert.Equal(Started, Finished);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(4, 3)]
    public void NoGoroutineRunsWhileTheWorldIsStopped(int procs, int seed)
    {
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs={procs},randomizescheduler=1,seed={seed},sampleperiodus=0")).Start();
        var load = new Load();
        load.Spawn(rt, 16);
        for (int i = 0; i < 150; i++)
        {
            Assert.True(rt.StopTheWorld("test"));
            Assert.True(rt.WorldStopped);
            foreach (var pp in rt.AllP) Assert.Equal((int)PStatus.GcStop, Volatile.Read(ref pp.Status));
            foreach (var gp in rt.AllGs()) Assert.NotEqual(GStatus.Running, gp.Status);
            long before = Volatile.Read(ref load.Progress);
            Thread.SpinWait(2_000 + i * 10);
            Assert.Equal(before, Volatile.Read(ref load.Progress));
            rt.StartTheWorld();
            Assert.False(rt.WorldStopped);
            Assert.Null(rt.Error);
            if (i % 10 == 0)
            {
                // Let the load make progress between stops, so that stops hit Ms in every state.
                long p = Volatile.Read(ref load.Progress);
                Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref load.Progress) > p + 5 || rt.Error != null, TimeSpan.FromSeconds(30)));
            }
        }
        load.End(rt);
        Assert.Equal(150, rt.Recording.Pauses.Count(p => p.Reason == "test"));
        Assert.All(rt.Recording.Pauses, p => Assert.InRange(p.StopNs, 0, p.DurationNs));
        rt.Stop();
        Assert.Null(rt.Error);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void ForEachPRunsItsFunctionOnEveryPExactlyOnce(int procs)
    {
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0")).Start();
        var load = new Load();
        load.Spawn(rt, 8);
        for (int i = 0; i < 100; i++)
        {
            var counts = new int[procs];
            Assert.True(rt.ForEachP(pp => Interlocked.Increment(ref counts[pp.Id])), $"forEachP did not complete: {rt.Error}");
            Assert.All(counts, c => Assert.Equal(1, c));
            Assert.All(rt.AllP, pp => Assert.Equal(0, Volatile.Read(ref pp.RunSafePointFn)));
        }
        load.End(rt);
        rt.Stop();
        Assert.Null(rt.Error);
    }

    [Fact]
    public void StopTheWorldFromAGoroutineIsRefused()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => CallsStop(rt), TimeSpan.FromSeconds(30));
        Assert.IsType<GoroutinePanicException>(r.Error);
        Assert.IsType<GoUsageException>(r.Error!.InnerException);
        Assert.Contains("Go.SetGomaxprocs", r.Error.InnerException!.Message);
    }

    private static async GoTask CallsStop(GoRuntime rt)
    {
        await Go.Gosched();
        rt.StopTheWorld("from a goroutine");
    }

    [Fact]
    public void StopTheWorldOnAnUnstartedRuntimeIsAClearError()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2"));
        var e = Assert.Throws<InvalidOperationException>(() => rt.StopTheWorld("x"));
        Assert.Contains("not started", e.Message);
    }

    [Theory]
    [InlineData(10, 1000, 200, 0)]
    [InlineData(5, 200, 150, 0)]
    [InlineData(10, 500, 200, 2)]
    public void PauseKnobProducesTheConfiguredNumberOfPauses(int periodMs, int pauseUs, int runMs, int spinners)
    {
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs=2,stwperiodms={periodMs},stwpauseus={pauseUs}"));
        long mainNs = 0;
        var r = rt.Run(() => TimersUnderLoad(runMs, spinners, ns => mainNs = ns), TimeSpan.FromSeconds(60));
        Assert.Null(r.Error);
        var pauses = r.Recording.Pauses.Where(p => p.Reason == "pause").ToArray();
        long period = periodMs * 1_000_000L, expected = r.Recording.WallNs / period;
        // The k-th pause is asked for at start + k·period, never earlier (later if the previous one
        // ran over), in order and without overlap.
        for (int i = 0; i < pauses.Length; i++)
        {
            Assert.True(pauses[i].TimeNs >= (i + 1) * period, $"pause {i + 1} asked for at {pauses[i].TimeNs} ns, before its slot");
            if (i > 0) Assert.True(pauses[i].TimeNs >= pauses[i - 1].TimeNs + pauses[i - 1].DurationNs);
        }
        // Each pause keeps the world stopped at least the configured length once every P stopped.
        Assert.All(pauses, p => Assert.True(p.DurationNs - p.StopNs >= pauseUs * 1000L, $"pause {p.DurationNs - p.StopNs} ns < {pauseUs} µs"));
        Assert.All(pauses, p => Assert.Equal(2, p.ProcsAfter));
        // The pauser never runs ahead of its schedule: at most one pause per period (+1 for the
        // one in flight when the run ended). It may run behind (a stop that takes longer than a
        // period under CPU-bound goroutines, or the pauser's thread not scheduled on a machine
        // shared with others), so the lower bound is only that pauses happened; their times were
        // checked against their slots above.
        Assert.InRange(pauses.Length, 1, expected + 1);
        // Under light load it keeps up: at least half the periods that main ran for. Counted over
        // main's own time, not the run's wall time, which includes the stop: no pause is asked for
        // once the runtime is stopping, and on a loaded machine the stop can take longer than the
        // run (seen: 32 pauses in a 5 ms x 150 ms run whose wall time of 380 ms gave 76 periods).
        long mainPeriods = mainNs / period;
        if (spinners == 0) Assert.True(pauses.Length >= mainPeriods / 2, $"{pauses.Length} pauses in the {mainPeriods} periods main ran for, under light load");
    }

    /// <summary>Spinning goroutines and 1 ms sleepers for runMs; every sleeper's timer fires.</summary>
    private static async GoTask TimersUnderLoad(int runMs, int spinners, Action<long> mainNs)
    {
        long t0 = Go.Nanotime();
        var stop = new Flag();
        var wg = new WaitGroup();
        int fired = 0, sleeps = 0;
        wg.Add(spinners + 2);
        for (int i = 0; i < spinners; i++) Spinner(stop, wg);
        for (int i = 0; i < 2; i++) Sleeper(stop, wg, () => Interlocked.Increment(ref sleeps), () => Interlocked.Increment(ref fired));
        await Go.Sleep(TimeSpan.FromMilliseconds(runMs));
        stop.Set = true;
        await wg.Wait();
        if (fired != sleeps) throw new InvalidOperationException($"{sleeps} sleeps, {fired} woke");
        mainNs(Go.Nanotime() - t0);
    }

    private static async GoTask Spinner(Flag stop, WaitGroup wg)
    {
        while (!stop.Set) await Go.WorkNs(50_000);
        wg.Done();
    }

    private static async GoTask Sleeper(Flag stop, WaitGroup wg, Action slept, Action woke)
    {
        while (!stop.Set)
        {
            slept();
            await Go.SleepNs(1_000_000);
            woke();
        }
        wg.Done();
    }

    private sealed class Flag { public volatile bool Set; }

    [Theory]
    [InlineData("stwpauseus=100", "needs stwperiodms")]
    [InlineData("stwperiodms=1,stwpauseus=1000", "shorter than")]
    [InlineData("stwperiodms=-1", "stwperiodms")]
    [InlineData("stwpauseus=x", "not an integer")]
    public void BadPauseKnobsAreRefusedByName(string godebug, string message)
    {
        var e = Assert.Throws<ConfigException>(() => GoConfig.Parse(godebug));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void PauseKnobsRoundTripThroughGodebug()
    {
        var c = GoConfig.Parse("gomaxprocs=2,stwperiodms=20,stwpauseus=500");
        Assert.Equal(20_000_000, c.StwPeriodNs);
        Assert.Equal(500_000, c.StwPauseNs);
        Assert.Equal(c, GoConfig.Parse(c.ToString()));
    }
}
