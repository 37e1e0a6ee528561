using System.Collections.Concurrent;

namespace GoSched.Tests;

/// <summary>
/// Timer conservation under a randomised schedule (randomizescheduler=1, a seed, run queues of 4,
/// GOMAXPROCS 1 to 4): every timer not stopped fires exactly once and never early, a timer whose
/// Stop returned true never fires, Reset re-arms exactly once, AfterFunc runs exactly the
/// functions not stopped, and a periodic timer never fires twice for one period.
/// </summary>
public class TimerConservationTests
{
    private static GoConfig Cfg(int procs, ulong seed) =>
        GoConfig.Parse($"gomaxprocs={procs},runqsize=4,randomizescheduler=1,seed={seed},sampleperiodus=0,verifytimers=1");

    public static TheoryData<int, ulong> Schedules()
    {
        var d = new TheoryData<int, ulong>();
        for (int procs = 1; procs <= 4; procs++)
            for (ulong seed = 1; seed <= 3; seed++) d.Add(procs, seed * 7919 + (ulong)procs);
        return d;
    }

    private enum Kind { Sleep, Timer, AfterFuncRace, StopThenReset, FiredThenReset, ResetLater, ResetEarlier, StopRace }

    private sealed class Outcome
    {
        public required Kind Kind;
        public GoTimer? T;
        /// <summary>What Stop returned (races) or Reset returned (resets).</summary>
        public bool Result;
        /// <summary>Timer firings this worker caused, by the rules of its kind.</summary>
        public int ExpectedFirings;
        public int AfterFuncRuns;
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void EveryTimerNotStoppedFiresExactlyOnce(int procs, ulong seed)
    {
        const int n = 160;
        var kinds = Enum.GetValues<Kind>();
        var outcomes = new Outcome[n];
        var early = new ConcurrentQueue<string>();
        var rnd = new Random((int)seed);
        // Durations (whole multiples of a TimeSpan tick) and pauses drawn up front (the goroutines
        // run on many threads).
        var d = Enumerable.Range(0, n).Select(_ => rnd.Next(10_000, 200_000) * 100L).ToArray();
        var pause = Enumerable.Range(0, n).Select(_ => (long)rnd.Next(0, 25_000_000)).ToArray();
        int ownSleeps = 0;
        using var rt = new GoRuntime(Cfg(procs, seed));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();

        Assert.Empty(early);
        foreach (var o in outcomes)
        {
            switch (o.Kind)
            {
                case Kind.AfterFuncRace:
                    // Stop returned true => the function never ran; false => it ran exactly once.
                    Assert.Equal(o.Result ? 0 : 1, o.AfterFuncRuns);
                    break;
                case Kind.StopRace:
                    Assert.Equal(o.Result ? 0 : 1, o.T!.C!.Count);
                    break;
                case Kind.Sleep:
                    break;
                default:
                    // Everything that fired was received; nothing fired after that.
                    Assert.Equal(0, o.T!.C!.Count);
                    break;
            }
        }
        // Every firing of the run, counted by the runtime: exactly the ones the kinds allow, plus
        // the sleeps the goroutines made themselves.
        long expected = outcomes.Sum(o => o.ExpectedFirings) + ownSleeps;
        Assert.Equal(expected, r.Recording.TimerLateness!.TotalCount);
        // The races went both ways at least once over the run (the test is not vacuous).
        Assert.Contains(outcomes, o => o.Kind == Kind.AfterFuncRace && o.Result);

        async GoTask Main()
        {
            var wg = new WaitGroup();
            var funcs = new WaitGroup();
            wg.Add(n);
            for (int i = 0; i < n; i++) Worker(i, wg, funcs);
            await wg.Wait();
            await funcs.Wait();
            // Past every timer's due time (the longest is 25 + 20 + 20 ms after its worker began,
            // and every worker has finished): a stopped or spent timer that fired would show now.
            await Go.Sleep(TimeSpan.FromMilliseconds(40));
            Interlocked.Increment(ref ownSleeps);
        }

        async GoTask Worker(int i, WaitGroup wg, WaitGroup funcs)
        {
            var o = outcomes[i] = new Outcome { Kind = kinds[i % kinds.Length] };
            long di = d[i];
            TimeSpan dt = TimeSpan.FromTicks(di / 100);
            switch (o.Kind)
            {
                case Kind.Sleep:
                {
                    long t0 = Go.Nanotime();
                    await Go.SleepNs(di);
                    NotEarly(i, t0, di, Go.Nanotime());
                    o.ExpectedFirings = 1;
                    break;
                }
                case Kind.Timer:
                {
                    long t0 = Go.Nanotime();
                    o.T = Go.NewTimer(dt);
                    NotEarly(i, t0, di, await o.T.C!.Recv());
                    o.ExpectedFirings = 1;
                    break;
                }
                case Kind.AfterFuncRace:
                {
                    funcs.Add(1);
                    o.T = Go.AfterFunc(dt, () => Fn(o, funcs));
                    // A pause of under 1 ms is none: Stop races the timer's own P and the thieves.
                    if (pause[i] >= 1_000_000) { await Go.SleepNs(pause[i]); Interlocked.Increment(ref ownSleeps); }
                    o.Result = o.T.Stop();
                    if (o.Result) funcs.Done(); // it will never run: a run anyway drives the count negative
                    o.ExpectedFirings = o.Result ? 0 : 1;
                    break;
                }
                case Kind.StopRace:
                {
                    o.T = Go.NewTimer(dt);
                    // A pause of under 1 ms is none: Stop races the timer's own P and the thieves.
                    if (pause[i] >= 1_000_000) { await Go.SleepNs(pause[i]); Interlocked.Increment(ref ownSleeps); }
                    o.Result = o.T.Stop();
                    o.ExpectedFirings = o.Result ? 0 : 1;
                    break;
                }
                case Kind.StopThenReset:
                {
                    o.T = Go.NewTimer(TimeSpan.FromSeconds(10));
                    if (!o.T.Stop()) throw new Exception("Stop of a pending 10 s timer returned false");
                    long t0 = Go.Nanotime();
                    if (o.T.Reset(dt)) throw new Exception("Reset of a stopped timer returned true");
                    NotEarly(i, t0, di, await o.T.C!.Recv());
                    o.ExpectedFirings = 1;
                    break;
                }
                case Kind.FiredThenReset:
                {
                    o.T = Go.NewTimer(dt);
                    await o.T.C!.Recv();
                    long t0 = Go.Nanotime();
                    if (o.T.Reset(dt)) throw new Exception("Reset of a fired timer returned true");
                    NotEarly(i, t0, di, await o.T.C!.Recv());
                    o.ExpectedFirings = 2;
                    break;
                }
                case Kind.ResetLater:
                {
                    // Moved later before it fires (unless this thread stalled past 20 ms: then it fired
                    // first and Reset re-armed it, and both firings arrive).
                    o.T = Go.NewTimer(TimeSpan.FromMilliseconds(20));
                    long t0 = Go.Nanotime();
                    long later = 20_000_000 + di;
                    o.Result = o.T.Reset(TimeSpan.FromTicks(later / 100));
                    if (!o.Result) await o.T.C!.Recv();
                    NotEarly(i, t0, later, await o.T.C!.Recv());
                    o.ExpectedFirings = o.Result ? 1 : 2;
                    break;
                }
                case Kind.ResetEarlier:
                {
                    o.T = Go.NewTimer(TimeSpan.FromSeconds(10));
                    long t0 = Go.Nanotime();
                    if (!o.T.Reset(dt)) throw new Exception("Reset of a pending 10 s timer returned false");
                    NotEarly(i, t0, di, await o.T.C!.Recv());
                    o.ExpectedFirings = 1;
                    break;
                }
            }
            wg.Done();
        }

        async GoTask Fn(Outcome o, WaitGroup funcs)
        {
            Interlocked.Increment(ref o.AfterFuncRuns);
            funcs.Done();
            await Go.Gosched();
        }

        void NotEarly(int i, long t0, long due, long fired)
        {
            if (fired - t0 < due) early.Enqueue($"worker {i} ({outcomes[i].Kind}): fired {due - (fired - t0)} ns early");
        }
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void PeriodicTimersNeverFireTwiceForOnePeriod(int procs, ulong seed)
    {
        const int tickers = 6, raw = 6, ticks = 8;
        var violations = new ConcurrentQueue<string>();
        var firings = Enumerable.Range(0, raw).Select(_ => new List<long>()).ToArray();
        var firstWhen = new long[raw];
        var period = new long[raw];
        var atStop = new int[raw];
        var afterStop = new int[raw];
        using var rt = new GoRuntime(Cfg(procs, seed));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Empty(violations);
        for (int j = 0; j < raw; j++)
        {
            var f = firings[j];
            Assert.True(atStop[j] >= 1, $"periodic timer {j} never fired");
            // Firing k consumes the k-th period boundary or a later one, never one already used:
            // it cannot come before firstWhen + k * period.
            for (int k = 0; k < f.Count; k++)
                Assert.True(f[k] >= firstWhen[j] + k * period[j], $"periodic timer {j}: firing {k} at {f[k] - firstWhen[j]} ns, before boundary {k * period[j]}");
            // Stopped: at most the firing already under way when Stop ran, then no more.
            Assert.InRange(afterStop[j], atStop[j], atStop[j] + 1);
            Assert.Equal(afterStop[j], f.Count);
        }

        async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(tickers + raw);
            for (int i = 0; i < tickers; i++) TickerWorker(i, wg);
            for (int j = 0; j < raw; j++) RawWorker(j, wg);
            await wg.Wait();
        }

        // time.Ticker: every tick received is a distinct firing, and the k-th firing comes no earlier
        // than the k-th boundary, so the k-th smallest tick time does too; none after Stop once
        // drained. The ticks are sorted before the check because, as in Go, they may arrive out of
        // order: sendTime reads the clock before it sends, with the timer heap unlocked, and the
        // ticker's next firing may run on another M (stealWork's checkTimers) while the M that
        // read the clock for the previous one is descheduled before its send (seen under load:
        // tick 0 at 2.1 ms, tick 1 at 1.52 ms).
        async GoTask TickerWorker(int i, WaitGroup wg)
        {
            var p = TimeSpan.FromMilliseconds(1 + i % 4);
            long pns = p.Ticks * 100;
            long t0 = Go.Nanotime();
            var t = Go.NewTicker(p);
            var got = new long[ticks];
            for (int k = 0; k < ticks; k++) got[k] = await t.C.Recv() - t0;
            Array.Sort(got);
            for (int k = 0; k < ticks; k++)
            {
                if (got[k] < (k + 1) * pns) violations.Enqueue($"ticker {i}: tick {k} (in time order) at {got[k]} ns, before boundary {(k + 1) * pns}");
                if (k > 0 && got[k] == got[k - 1]) violations.Enqueue($"ticker {i}: one tick time received twice ({got[k]} ns)");
            }
            t.Stop();
            await Go.Sleep(TimeSpan.FromMilliseconds(20));
            if (t.C.Count > 0) await t.C.Recv(); // the tick buffered before Stop, if any
            await Go.Sleep(TimeSpan.FromMilliseconds(20));
            if (t.C.Count > 0) violations.Enqueue($"ticker {i}: ticked after Stop");
            wg.Done();
        }

        // A runtime periodic timer counting every firing (a Ticker's channel drops ticks its reader misses).
        async GoTask RawWorker(int j, WaitGroup wg)
        {
            var f = firings[j];
            period[j] = 500_000 + 500_000 * (j % 5);
            var timer = new RTimer
            {
                When = Go.When(period[j]),
                Period = period[j],
                F = (_, _) => { lock (f) f.Add(Go.Nanotime()); },
            };
            firstWhen[j] = timer.When;
            GoRuntime.Current.AddTimer(timer);
            await Go.SleepNs(15 * period[j]);
            bool stopped = GoRuntime.Current.DelTimer(timer);
            lock (f) atStop[j] = f.Count;
            if (!stopped) violations.Enqueue($"periodic timer {j}: Stop of a running ticker returned false");
            await Go.Sleep(TimeSpan.FromMilliseconds(30));
            lock (f) afterStop[j] = f.Count;
            wg.Done();
        }
    }
}
