using System.Collections.Concurrent;

namespace GoSched.Tests;

/// <summary>Timers end to end: every timer not stopped fires exactly once, none fires early, stopped ones never fire.</summary>
public class TimerTests
{
    private static GoConfig Cfg(int procs, string extra = "") =>
        GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0,verifytimers=1" + (extra.Length > 0 ? "," + extra : ""));

    [Theory]
    [InlineData(1, 1UL)]
    [InlineData(2, 2UL)]
    [InlineData(4, 3UL)]
    [InlineData(2, 4UL)]
    public void EverySleeperWakesOnceAndNeverEarly(int procs, ulong seed)
    {
        const int n = 2000;
        var woke = new int[n];
        var early = new ConcurrentBag<long>();
        using var rt = new GoRuntime(Cfg(procs, $"runqsize=4,randomizescheduler=1,seed={seed}"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        Assert.All(woke, w => Assert.Equal(3, w));
        Assert.Empty(early);
        Assert.Equal(3 * n, r.Recording.TimerLateness!.TotalCount);

        async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(n);
            for (int i = 0; i < n; i++) Sleeper(i, wg);
            await wg.Wait();
        }

        async GoTask Sleeper(int i, WaitGroup wg)
        {
            for (int k = 0; k < 3; k++)
            {
                long d = 100_000 + (i * 7919 + k * 104729) % 3_000_000; // 0.1 .. 3.1 ms
                long t0 = Go.Nanotime();
                await Go.SleepNs(d);
                long slept = Go.Nanotime() - t0;
                if (slept < d) early.Add(d - slept);
                Interlocked.Increment(ref woke[i]);
            }
            wg.Done();
        }
    }

    [Fact]
    public void StoppedTimersNeverFireAndOthersFireOnce()
    {
        const int n = 500;
        int fired = 0, stoppedFired = 0, stoppedOk = 0;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Equal(n / 2, stoppedOk);
        Assert.Equal(0, stoppedFired);
        Assert.Equal(n - n / 2, fired);

        async GoTask Main()
        {
            var timers = new GoTimer[n];
            // Timers to be stopped are long (they must not fire before Stop even on a loaded machine).
            for (int i = 0; i < n; i++) timers[i] = Go.NewTimer(TimeSpan.FromMilliseconds(i % 2 == 0 ? 2000 + i : 5 + i % 10));
            for (int i = 0; i < n; i += 2) if (timers[i].Stop()) stoppedOk++;
            for (int i = 0; i < n; i++)
            {
                if (i % 2 == 0)
                {
                    var sel = Go.Select();
                    var rc = sel.Recv(timers[i].C!);
                    sel.Default();
                    if (await sel == rc.Index) stoppedFired++;
                }
                else
                {
                    await timers[i].C!.Recv();
                    fired++;
                }
            }
            await Go.Sleep(TimeSpan.FromMilliseconds(2600)); // past every stopped timer's due time: one that fired would show now
            for (int i = 0; i < n; i += 2)
            {
                var sel = Go.Select();
                var rc = sel.Recv(timers[i].C!);
                sel.Default();
                if (await sel == rc.Index) stoppedFired++;
            }
        }
    }

    [Fact]
    public void TickerTicksPeriodicallyAndStops()
    {
        var ticks = new List<long>();
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        r.EnsureSuccess();
        Assert.Equal(10, ticks.Count);
        // One tick per period: ten distinct tick times. Sorted first, because as in Go they may
        // arrive out of order: sendTime reads the clock before it sends, with the timer heap
        // unlocked, and the next firing may run on another M while the M that read the clock for
        // the previous one is descheduled before its send (see PeriodicTimersNeverFireTwiceForOnePeriod;
        // seen here once in 12 loaded runs: "one tick per period, in order" failed on arrival order).
        var sorted = ticks.Order().ToList();
        for (int i = 1; i < sorted.Count; i++) Assert.True(sorted[i] > sorted[i - 1], $"one tick per period: tick times {string.Join(" ", ticks)}");

        async GoTask Main()
        {
            var t = Go.NewTicker(TimeSpan.FromMilliseconds(2));
            for (int i = 0; i < 10; i++) ticks.Add(await t.C.Recv());
            t.Stop();
            await Go.Sleep(TimeSpan.FromMilliseconds(10));
            var sel = Go.Select();
            sel.Recv(t.C);
            sel.Default();
            int got = await sel;
            // At most the one tick buffered before Stop may be there; no more arrive.
            if (got == 0) { var sel2 = Go.Select(); sel2.Recv(t.C); sel2.Default(); if (await sel2 == 0) throw new Exception("ticker kept ticking after Stop"); }
        }
    }

    /// <summary>A receive from c bounded by 10 s (far beyond any period used here): the value, or null if none came.</summary>
    private static async GoFrame<long?> RecvWithin10s(Chan<long> c)
    {
        var sel = Go.Select();
        var rc = sel.Recv(c);
        sel.Recv(Go.After(TimeSpan.FromSeconds(10)));
        return await sel == rc.Index ? rc.Value : null;
    }

    /// <summary>
    /// Ticker.Reset (time/tick.go) changes the period: a ticker of an hour reset to 2 ms ticks five
    /// times within the test's 10 s bounds (at the old period it would not tick once), and no
    /// tick comes before the new period's boundaries counted from the Reset; one of 1 ms reset to
    /// an hour stops ticking (past the tick buffered or in flight at the Reset, none in 100 ms).
    /// </summary>
    [Fact]
    public void TickerResetChangesThePeriod()
    {
        const int ticks = 5;
        const long newPeriod = 2_000_000;
        var after = new List<long>();
        long resetAt = 0;
        int lateTicks = -1;
        bool missed = false;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.False(missed, $"a ticker reset from an hour to 2 ms gave {after.Count} of {ticks} ticks in 10 s each");
        // Sorted: ticks may arrive out of order (see TickerTicksPeriodicallyAndStops).
        var sorted = after.Order().ToList();
        for (int k = 0; k < ticks; k++)
            Assert.True(sorted[k] - resetAt >= (k + 1) * newPeriod, $"tick {k} after Reset at {sorted[k] - resetAt} ns, before boundary {(k + 1) * newPeriod}");
        Assert.Equal(0, lateTicks);

        async GoTask Main()
        {
            // Faster: from an hour to 2 ms.
            var slow = Go.NewTicker(TimeSpan.FromHours(1));
            resetAt = Go.Nanotime();
            slow.Reset(TimeSpan.FromTicks(newPeriod / 100));
            for (int k = 0; k < ticks && !missed; k++)
            {
                if (await RecvWithin10s(slow.C) is long v) after.Add(v);
                else missed = true;
            }
            slow.Stop();

            // Slower: from 1 ms to an hour.
            var fast = Go.NewTicker(TimeSpan.FromMilliseconds(1));
            if (await RecvWithin10s(fast.C) == null) throw new TimeoutException("a 1 ms ticker did not tick in 10 s");
            fast.Reset(TimeSpan.FromHours(1));
            // A tick that fired before the Reset may still be buffered, or in flight (sendTime runs
            // with the heap unlocked): let it land, take it, then count what comes at the new period.
            await Go.Sleep(TimeSpan.FromMilliseconds(100));
            if (fast.C.Count > 0) await fast.C.Recv();
            await Go.Sleep(TimeSpan.FromMilliseconds(100));
            lateTicks = fast.C.Count;
            fast.Stop();
        }
    }

    /// <summary>
    /// Reset of a stopped ticker restarts it, as Go 1.19's (*Ticker).Reset does (it panics only
    /// for a ticker not made by NewTicker, whose r.f is nil, which GoTicker cannot be: Reset is
    /// modtimer on the stopped timer): stopped and reset at once (its timer still on the heap,
    /// deleted: revived in place), and stopped until its P removed it (re-added to the current P),
    /// the ticker ticks periodically again at the new period.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TickerResetRestartsAStoppedTicker(bool waitUntilRemoved)
    {
        const int ticks = 3;
        const long period = 2_000_000;
        TimerStatus atReset = TimerStatus.NoStatus;
        var after = new List<long>();
        long resetAt = 0;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Equal(waitUntilRemoved ? TimerStatus.Removed : TimerStatus.Deleted, atReset);
        Assert.Equal(ticks, after.Count);
        var sorted = after.Order().ToList();
        for (int k = 0; k < ticks; k++)
            Assert.True(sorted[k] - resetAt >= (k + 1) * period, $"tick {k} after Reset at {sorted[k] - resetAt} ns, before boundary {(k + 1) * period}");

        async GoTask Main()
        {
            var t = Go.NewTicker(TimeSpan.FromSeconds(10));
            t.Stop();
            // A deleted timer leaves its heap when its P next looks at it (at the latest when it
            // would have been due): here through the 1/4 rule, its P having no other timer.
            for (int i = 0; waitUntilRemoved && t.R.State != TimerStatus.Removed && i < 5000; i++)
                await Go.Sleep(TimeSpan.FromMilliseconds(1));
            atReset = t.R.State;
            resetAt = Go.Nanotime();
            t.Reset(TimeSpan.FromTicks(period / 100));
            for (int k = 0; k < ticks; k++)
            {
                if (await RecvWithin10s(t.C) is long v) after.Add(v);
                else break;
            }
            t.Stop();
        }
    }

    /// <summary>
    /// A non-positive period is Go's panic "non-positive interval for Ticker.Reset" (here an
    /// ArgumentOutOfRangeException with that message), raised before modtimer: a running ticker
    /// keeps its period and ticks on, and a stopped one stays stopped.
    /// </summary>
    [Theory]
    [InlineData(0L)]
    [InlineData(-1_000_000L)]
    public void TickerResetWithANonPositivePeriodThrowsAndLeavesTheTickerAsItWas(long ns)
    {
        var errors = new List<Exception>();
        long periodAfter = 0;
        TimerStatus stoppedAfter = TimerStatus.NoStatus;
        bool ticked = false;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Contains("non-positive interval for Ticker.Reset", Assert.IsType<ArgumentOutOfRangeException>(e).Message));
        Assert.Equal(2_000_000, periodAfter);
        Assert.True(ticked, "the running ticker stopped ticking after the refused Reset");
        Assert.Equal(TimerStatus.Deleted, stoppedAfter);

        async GoTask Main()
        {
            var d = TimeSpan.FromTicks(ns / 100);
            var running = Go.NewTicker(TimeSpan.FromMilliseconds(2));
            try { running.Reset(d); }
            catch (Exception e) { errors.Add(e); }
            periodAfter = running.R.Period;
            ticked = await RecvWithin10s(running.C) != null && await RecvWithin10s(running.C) != null;
            running.Stop();

            var stopped = Go.NewTicker(TimeSpan.FromSeconds(10));
            stopped.Stop();
            try { stopped.Reset(d); }
            catch (Exception e) { errors.Add(e); }
            stoppedAfter = stopped.R.State;
        }
    }

    /// <summary>
    /// Durations beyond Go's (about 292 years) saturate instead of wrapping: TimeSpan.MaxValue's
    /// Ticks * 100 overflowed to a negative duration, so such a timer, After or Sleep fired at once.
    /// </summary>
    [Fact]
    public void HugeDurationsNeverFire()
    {
        bool timerFired = true, afterFired = true, sleeperWoke = true;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.False(timerFired, "NewTimer(TimeSpan.MaxValue) fired");
        Assert.False(afterFired, "After(TimeSpan.MaxValue) fired");
        Assert.False(sleeperWoke, "Sleep(TimeSpan.MaxValue) returned");

        async GoTask Main()
        {
            var t = Go.NewTimer(TimeSpan.MaxValue);
            var woke = new Chan<bool>(1);
            Sleeper(woke);
            var sel = Go.Select();
            var tc = sel.Recv(t.C!);
            var ac = sel.Recv(Go.After(TimeSpan.MaxValue));
            var wc = sel.Recv(woke);
            var to = sel.Recv(Go.After(TimeSpan.FromMilliseconds(20)));
            int i = await sel;
            timerFired = i == tc.Index;
            afterFired = i == ac.Index;
            sleeperWoke = i == wc.Index;
            Assert.True(t.Stop(), "a pending timer stops");
        }

        async GoTask Sleeper(Chan<bool> woke)
        {
            await Go.Sleep(TimeSpan.MaxValue);
            await woke.Send(true);
        }
    }

    [Fact]
    public void AfterFuncRunsInItsOwnGoroutineAndSelectTimesOut()
    {
        long mainGoid = 0, funcGoid = 0;
        bool timedOut = false;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.NotEqual(0, funcGoid);
        Assert.NotEqual(mainGoid, funcGoid);
        Assert.True(timedOut);

        async GoTask Main()
        {
            mainGoid = Go.Goid;
            var done = new Chan<bool>();
            Go.AfterFunc(TimeSpan.FromMilliseconds(3), () => Fn(done));
            await done.Recv();
            var never = new Chan<int>();
            var sel = Go.Select();
            sel.Recv(never);
            var to = sel.Recv(Go.After(TimeSpan.FromMilliseconds(5)));
            timedOut = await sel == to.Index;
        }

        async GoTask Fn(Chan<bool> done)
        {
            funcGoid = Go.Goid;
            await done.Send(true);
        }
    }

    [Fact]
    public void ASleepingProgramIsNotADeadlockButABlockedOneAfterwardsIs()
    {
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        Assert.IsType<DeadlockException>(r.Error);
        Assert.Equal(1, r.Recording.TimerLateness!.TotalCount);

        static async GoTask Main()
        {
            await Go.Sleep(TimeSpan.FromMilliseconds(20));
            await new Chan<int>().Recv();
        }
    }

    [Fact]
    public void ResetTimerChurnClearsDeletedTimersByTheQuarterRule()
    {
        long cleared = 0;
        using var rt = new GoRuntime(Cfg(1));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        r.EnsureSuccess();
        cleared = r.Recording.ClearedDeletedTimers;
        Assert.True(cleared > 0, "clearDeletedTimers should have removed deleted timers");

        static async GoTask Main()
        {
            for (int round = 0; round < 50; round++)
            {
                var ts = new GoTimer[200];
                for (int i = 0; i < ts.Length; i++) ts[i] = Go.NewTimer(TimeSpan.FromSeconds(10));
                foreach (var t in ts) t.Stop();
                await Go.Sleep(TimeSpan.FromMicroseconds(200));
            }
        }
    }

    /// <summary>
    /// Reset of a fired timer from outside any goroutine (a .NET task here; a notebook cell alike)
    /// is a usage error, and it must leave the timer intact: Stop afterwards returns false at once,
    /// and a Reset inside a goroutine re-arms it. (modtimer used to CAS the timer to Modifying
    /// before looking for a P, throw, and leave it there: Stop then yielded forever.)
    /// </summary>
    [Fact]
    public void ResetOfAFiredTimerOutsideAGoroutineFailsAndLeavesTheTimerIntact()
    {
        Exception? resetError = null;
        bool? stopped = null;
        bool fired = false;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.IsType<GoUsageException>(resetError);
        Assert.Contains("inside a goroutine", resetError!.Message);
        Assert.False(stopped);
        Assert.True(fired);

        async GoTask Main()
        {
            var t = Go.NewTimer(TimeSpan.FromMilliseconds(1));
            await t.C!.Recv(); // fired: the timer is off every heap
            await Go.Await(Task.Run(() =>
            {
                try { t.Reset(TimeSpan.FromMilliseconds(1)); }
                catch (Exception e) { resetError = e; }
            }));
            // Stop from another thread, bounded: a timer left in Modifying makes it spin forever.
            var stop = Task.Run(() => t.Stop());
            if (!stop.Wait(TimeSpan.FromSeconds(10))) throw new TimeoutException("Stop after a failed Reset did not return");
            stopped = stop.Result;
            t.Reset(TimeSpan.FromMilliseconds(1));
            var sel = Go.Select();
            var c = sel.Recv(t.C!);
            sel.Recv(Go.After(TimeSpan.FromSeconds(10)));
            fired = await sel == c.Index;
        }
    }

    /// <summary>
    /// All of AfterFunc's f is goroutine code (time.AfterFunc's goFunc is `go f()`): a lambda that
    /// reads Go.Goid before returning a goroutine runs in a goroutine of its own, not on the M
    /// running timers (where Go.Goid used to be a GoUsageException that stopped the runtime).
    /// </summary>
    [Fact]
    public void AfterFuncRunsAllOfItsFunctionInAGoroutine()
    {
        long mainGoid = 0, funcGoid = 0, bodyGoid = 0;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.NotEqual(0, funcGoid);
        Assert.NotEqual(mainGoid, funcGoid);
        Assert.NotEqual(0, bodyGoid);

        async GoTask Main()
        {
            mainGoid = Go.Goid;
            var done = new Chan<bool>();
            Go.AfterFunc(TimeSpan.FromMilliseconds(1), () =>
            {
                funcGoid = Go.Goid;
                return Signal(done);
            });
            var sel = Go.Select();
            var d = sel.Recv(done);
            sel.Recv(Go.After(TimeSpan.FromSeconds(10)));
            if (await sel != d.Index) throw new TimeoutException("AfterFunc's function did not run");
        }

        async GoTask Signal(Chan<bool> done)
        {
            bodyGoid = Go.Goid;
            await done.Send(true);
        }
    }

    /// <summary>An exception thrown by AfterFunc's f is a panic of f's goroutine, as in Go, not a runtime invariant failure on the timer's M.</summary>
    [Fact]
    public void AnExceptionInAfterFuncsFunctionIsAGoroutinePanic()
    {
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        var panic = Assert.IsType<GoroutinePanicException>(r.Error);
        Assert.IsType<ArithmeticException>(panic.InnerException);

        static async GoTask Main()
        {
            Go.AfterFunc(TimeSpan.FromMilliseconds(1), () => throw new ArithmeticException("from f"));
            await Go.Sleep(TimeSpan.FromSeconds(10)); // the panic ends the run first
        }
    }

    /// <summary>
    /// Timer and ticker channels are receive-only (Go's `&lt;-chan Time`, where sending or closing
    /// does not compile): Close, Send, TrySend and a select's Send case throw at the call, and the
    /// timers go on delivering. (A closed C made the next firing throw inside sendTime and stop the
    /// runtime; a value sent into C's one slot made the real firing drop silently.)
    /// </summary>
    [Fact]
    public void TimerAndTickerChannelsAreReceiveOnly()
    {
        var errors = new List<Exception>();
        long timerValue = 0, tickValue = 0, start = 0;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.Equal(12, errors.Count);
        Assert.All(errors, e => Assert.Contains("receive-only channel", Assert.IsType<GoUsageException>(e).Message));
        Assert.Contains(errors, e => e.Message.Contains("cannot close") && e.Message.Contains("<-chan Time"));
        Assert.True(timerValue >= start, "the timer's own firing arrived, not a value sent by the test");
        Assert.True(tickValue >= start, "the ticker's own tick arrived");

        async GoTask Main()
        {
            start = Go.Nanotime();
            var t = Go.NewTimer(TimeSpan.FromMilliseconds(2));
            var tk = Go.NewTicker(TimeSpan.FromMilliseconds(2));
            var after = Go.After(TimeSpan.FromMilliseconds(2));
            foreach (var c in new[] { t.C!, tk.C, after })
            {
                Try(() => c.Close());
                Try(() => c.Send(-1));
                Try(() => c.TrySend(-1));
                Try(() => Go.Select().Send(c, -1));
            }
            timerValue = await t.C!.Recv();
            tickValue = await tk.C.Recv();
            tk.Stop();
            await after.Recv();
        }

        void Try(Action a)
        {
            try { a(); }
            catch (Exception e) { errors.Add(e); }
        }
    }
}

/// <summary>The timer workloads' figures: what the sleepers saw beside what the timers recorded.</summary>
public class TimerWorkloadTests
{
    /// <summary>
    /// A sleeper wakes no earlier than its timer fired, so what it sees (after - (before + d)) is at
    /// least the timer's lateness (fired - due), sample by sample and so at every percentile; under
    /// CPU load it adds the run-queue wait that a Go program's own measurement includes.
    /// </summary>
    [Theory]
    [InlineData("timers")]
    [InlineData("timers-under-load")]
    public void SleepersSeeAtLeastTheTimersLateness(string name)
    {
        var r = GoSched.Workloads.WorkloadCatalog.Get(name).Run(GoConfig.Parse("gomaxprocs=2"),
            new Dictionary<string, string> { ["goroutines"] = "200", ["sleeps"] = "5", ["max"] = "20ms" }, TimeSpan.FromSeconds(60));
        Assert.True(r.Error == null, $"{name}: {r.Error}");
        double wokeP50 = r.Metrics["woke_late_p50_ms"], wokeP99 = r.Metrics["woke_late_p99_ms"];
        Assert.Equal(1000, r.Recording.TimerLateness!.TotalCount);
        // 3 significant digits in both histograms: allow their rounding.
        Assert.True(wokeP50 >= 0.99 * r.Recording.TimerLatenessMs(50), $"woke p50 {wokeP50} ms below the timers' {r.Recording.TimerLatenessMs(50)} ms");
        Assert.True(wokeP99 >= 0.99 * r.Recording.TimerLatenessMs(99), $"woke p99 {wokeP99} ms below the timers' {r.Recording.TimerLatenessMs(99)} ms");
    }

    /// <summary>
    /// timer-churn renews its timeouts both ways, Stop + NewTimer and Stop + Reset, and every timer
    /// it armed and did not stop fires exactly once: the recording's firings are what its own
    /// counts say (NewTimer and Reset calls, less the Stops that returned true, plus its sleeps),
    /// with the 1/4 rule on and off. With the rule on, deleted timers are cleared; with it off, none
    /// are, and the heaps grow several times larger (the figures 02-timers shows).
    /// </summary>
    [Fact]
    public void TimerChurnFiresEveryTimerNotStoppedOnceAndGrowsTheHeapsWithoutTheQuarterRule()
    {
        var churn = GoSched.Workloads.WorkloadCatalog.Get("timer-churn");
        var heapMax = new Dictionary<bool, int>();
        foreach (bool clear in new[] { true, false })
        {
            var r = churn.Run(GoConfig.Parse($"gomaxprocs=2,sampleperiodus=200,timerclear={(clear ? 1 : 0)}"),
                new Dictionary<string, string>(), TimeSpan.FromSeconds(60));
            Assert.True(r.Error == null, $"timerclear={clear}: {r.Error}");
            Assert.Equal(100 * 20 * (1 + 50), r.Metrics["timers_created"]);
            Assert.Equal(100 * 20 * 50, r.Metrics["timers_reset"]);
            Assert.Equal(r.Metrics["timer_firings_expected"], r.Recording.TimerLateness!.TotalCount);
            if (clear) Assert.True(r.Recording.ClearedDeletedTimers > 0, "the 1/4 rule cleared no deleted timer");
            else Assert.Equal(0, r.Recording.ClearedDeletedTimers);
            heapMax[clear] = r.Recording.Samples.Max(s => s.TimersLen!.Max());
        }
        Assert.True(heapMax[false] > 3 * heapMax[true], $"largest heap {heapMax[false]} without the 1/4 rule, {heapMax[true]} with it");
    }
}
