using System.Collections.Concurrent;

namespace GoSched.Tests;

/// <summary>End-to-end behaviour of the scheduler with real goroutines: conservation first.</summary>
public class SchedulerTests
{
    private static GoConfig Cfg(int procs = 2, string extra = "") =>
        GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0" + (extra.Length > 0 ? "," + extra : ""));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryGoroutineRunsExactlyOnce(int procs)
    {
        const int n = 20_000;
        var ran = new int[n];
        using var rt = new GoRuntime(Cfg(procs));
        var r = rt.Run(() => Main(ran), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        Assert.All(ran, x => Assert.Equal(1, x));
        Assert.Equal(n + 1, r.GoroutinesStarted);
        Assert.Equal(n + 1, r.GoroutinesFinished);

        static async GoTask Main(int[] ran)
        {
            var wg = new WaitGroup();
            wg.Add(ran.Length);
            for (int i = 0; i < ran.Length; i++) Worker(ran, i, wg);
            await wg.Wait();
        }

        static async GoTask Worker(int[] ran, int i, WaitGroup wg)
        {
            Interlocked.Increment(ref ran[i]);
            if (i % 7 == 0) await Go.Gosched();
            wg.Done();
        }
    }

    [Fact]
    public void PingPongDeliversEveryValueOnceInOrder()
    {
        const int n = 100_000;
        var received = new List<int>();
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(received), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Equal(Enumerable.Range(0, n), received);

        static async GoTask Main(List<int> received)
        {
            var ping = new Chan<int>();
            var pong = new Chan<int>();
            var done = new Chan<bool>();
            Echo(ping, pong);
            Collector(pong, received, done);
            for (int i = 0; i < n; i++) await ping.Send(i);
            ping.Close();
            await done.Recv();
        }

        static async GoTask Echo(Chan<int> inp, Chan<int> outp)
        {
            while (true)
            {
                var (v, ok) = await inp.RecvOk();
                if (!ok) { outp.Close(); return; }
                await outp.Send(v);
            }
        }

        static async GoTask Collector(Chan<int> inp, List<int> received, Chan<bool> done)
        {
            while (true)
            {
                var (v, ok) = await inp.RecvOk();
                if (!ok) break;
                received.Add(v);
            }
            await done.Send(true);
        }
    }

    [Fact]
    public void BufferedChannelAndSelectConserveValues()
    {
        const int producers = 8, per = 5_000;
        var seen = new ConcurrentDictionary<int, int>();
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(seen), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Equal(producers * per, seen.Count);
        Assert.All(seen.Values, c => Assert.Equal(1, c));

        static async GoTask Main(ConcurrentDictionary<int, int> seen)
        {
            var a = new Chan<int>(16);
            var b = new Chan<int>();
            var wg = new WaitGroup();
            wg.Add(producers);
            for (int p = 0; p < producers; p++) Producer(p % 2 == 0 ? a : b, p, wg);
            Closer(wg, a, b);
            bool aOpen = true, bOpen = true;
            while (aOpen || bOpen)
            {
                var sel = Go.Select();
                var ra = aOpen ? sel.Recv(a) : default;
                var rb = bOpen ? sel.Recv(b) : default;
                int i = await sel;
                if (aOpen && i == ra.Index) { if (!ra.Ok) aOpen = false; else seen.AddOrUpdate(ra.Value, 1, (_, c) => c + 1); }
                else if (bOpen && i == rb.Index) { if (!rb.Ok) bOpen = false; else seen.AddOrUpdate(rb.Value, 1, (_, c) => c + 1); }
            }
        }

        static async GoTask Producer(Chan<int> c, int p, WaitGroup wg)
        {
            for (int i = 0; i < per; i++) await c.Send(p * per + i);
            wg.Done();
        }

        static async GoTask Closer(WaitGroup wg, Chan<int> a, Chan<int> b)
        {
            await wg.Wait();
            a.Close();
            b.Close();
        }
    }

    [Fact]
    public void DeadlockIsReportedNotHung()
    {
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        var e = Assert.IsType<DeadlockException>(r.Error);
        Assert.Contains("all goroutines are asleep - deadlock!", e.Message);
        Assert.Contains(e.Goroutines, l => l.Contains("[chan receive]"));

        static async GoTask Main()
        {
            var c = new Chan<int>();
            await c.Recv();
        }
    }

    /// <summary>
    /// A body that suspends on a runtime primitive after a child frame suspended and returned
    /// resumes at the body, and its traceback names the body only: the builder no longer clears
    /// the goroutine's resume point there (a read of the thread's G per park), since the frame's
    /// return has set it to the body already.
    /// </summary>
    [Fact]
    public void AfterASuspendedFrameReturnsTheBodyParksAndResumesAsItself()
    {
        using var rt = new GoRuntime(Cfg(2));
        int rounds = 0;
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        var e = Assert.IsType<DeadlockException>(r.Error);
        Assert.Equal(100, rounds);
        const string self = "GoSched.Tests.SchedulerTests.AfterASuspendedFrameReturnsTheBodyParksAndResumesAsItself";
        Assert.Contains($"goroutine 1 [chan receive]:\n{self}.Main()", e.Tracebacks);

        async GoTask Main()
        {
            var toFrame = new Chan<int>();
            var toBody = new Chan<int>();
            Feeder(toFrame, toBody);
            for (int i = 0; i < 100; i++)
            {
                int v = await Helper(toFrame);   // parks inside the frame
                int w = await toBody.Recv();     // then the body parks on a primitive
                if (v != i || w != -i) throw new InvalidOperationException($"round {i}: {v}, {w}");
                rounds++;
            }
            await new Chan<int>().Recv(); // nobody sends: the deadlock report shows where the body waits
        }

        static async GoFrame<int> Helper(Chan<int> c) => await c.Recv();

        static async GoTask Feeder(Chan<int> toFrame, Chan<int> toBody)
        {
            for (int i = 0; i < 100; i++)
            {
                await toFrame.Send(i);
                await toBody.Send(-i);
            }
        }
    }

    /// <summary>
    /// The deadlock report lists each blocked goroutine as Go's traceback does: its header with a
    /// colon, then its frames innermost first, named after the methods (GoFrame helpers it is
    /// suspended in, then its body), a blank line between goroutines.
    /// </summary>
    [Fact]
    public void DeadlockReportShowsEachBlockedGoroutinesFramesInnermostFirst()
    {
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        var e = Assert.IsType<DeadlockException>(r.Error);
        const string self = "GoSched.Tests.SchedulerTests.DeadlockReportShowsEachBlockedGoroutinesFramesInnermostFirst";
        Assert.Equal(2, e.Tracebacks.Count);
        Assert.Contains($"goroutine 1 [chan receive]:\n{self}.Inner()\n{self}.Outer()\n{self}.Main()", e.Tracebacks);
        Assert.Contains(e.Tracebacks, t => t.EndsWith($" [chan send]:\n{self}.Sender()", StringComparison.Ordinal));
        Assert.Contains($"deadlock!\n\ngoroutine ", e.Message);
        Assert.Contains($"{self}.Main()\n\ngoroutine ", e.Message + "\n\ngoroutine "); // a blank line between goroutines
        Assert.Equal(["GoSched.Tests.SchedulerTests.Outer"], new[] { Traceback.FrameName(typeof(SchedulerTests).GetNestedTypes(System.Reflection.BindingFlags.NonPublic).Single(t => t.Name.StartsWith("<Outer>d__", StringComparison.Ordinal))) });

        static async GoTask Main()
        {
            var never = new Chan<int>();
            Sender(new Chan<int>());
            await Outer(never);
        }

        static async GoFrame Outer(Chan<int> c) => await Inner(c);

        static async GoFrame<int> Inner(Chan<int> c) => await c.Recv();

        static async GoTask Sender(Chan<int> c) => await c.Send(1);
    }

    /// <summary>A method's frame name: its type's full name and the method, as Go's "main.worker".</summary>
    private static async GoFrame Outer() => await Go.Gosched();

    /// <summary>Go 1.19's deadlock report: "goroutine 1 [semacquire]" for WaitGroup.Wait and Mutex.Lock alike.</summary>
    [Fact]
    public void DeadlockReportNamesSemacquireForWaitGroupAndMutexAsGo119()
    {
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        var e = Assert.IsType<DeadlockException>(r.Error);
        Assert.Equal(2, e.Goroutines.Count(l => l.EndsWith(" [semacquire]", StringComparison.Ordinal)));
        Assert.DoesNotContain(e.Goroutines, l => l.Contains("[sync.", StringComparison.Ordinal));

        static async GoTask Main()
        {
            var mu = new Mutex();
            await mu.Lock();
            var wg = new WaitGroup();
            wg.Add(1);
            Locker(mu, wg); // blocks in Lock: main never unlocks
            await wg.Wait();
        }

        static async GoTask Locker(Mutex mu, WaitGroup wg)
        {
            await mu.Lock();
            wg.Done();
        }
    }

    [Fact]
    public void PanicStopsTheRuntimeWithGoroutineIdAndStack()
    {
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        var e = Assert.IsType<GoroutinePanicException>(r.Error);
        Assert.IsType<ArgumentException>(e.InnerException);
        Assert.Contains("boom", e.Message);
        Assert.True(e.Goid > 1);
        Assert.Contains("Thrower", e.Message); // the stack names the goroutine's method

        static async GoTask Main()
        {
            Thrower();
            await new Chan<int>().Recv();
        }

        static async GoTask Thrower()
        {
            await Go.Gosched();
            throw new ArgumentException("boom");
        }
    }

    [Fact]
    public void FramesSuspendAndReturnValues()
    {
        int result = 0;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(v => result = v), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.Equal(Enumerable.Range(0, 1000).Sum() * 2, result);

        static async GoTask Main(Action<int> set)
        {
            var c = new Chan<int>();
            Feeder(c);
            int total = 0;
            for (int i = 0; i < 1000; i++) total += await Double(c);
            set(total);
        }

        static async GoFrame<int> Double(Chan<int> c) => 2 * await Inner(c);
        static async GoFrame<int> Inner(Chan<int> c) => await c.Recv();

        static async GoTask Feeder(Chan<int> c)
        {
            for (int i = 0; i < 1000; i++) await c.Send(i);
        }
    }

    [Fact]
    public void MutexGivesMutualExclusion()
    {
        long counter = 0;
        int inside = 0, violations = 0;
        using var rt = new GoRuntime(Cfg(4));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Equal(16 * 2000, counter);
        Assert.Equal(0, violations);

        async GoTask Main()
        {
            var mu = new Mutex();
            var wg = new WaitGroup();
            wg.Add(16);
            for (int i = 0; i < 16; i++) Worker(mu, wg);
            await wg.Wait();
        }

        async GoTask Worker(Mutex mu, WaitGroup wg)
        {
            for (int i = 0; i < 2000; i++)
            {
                await mu.Lock();
                if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref violations);
                counter++;
                if (i % 100 == 0) await Go.Gosched();
                Interlocked.Decrement(ref inside);
                mu.Unlock();
            }
            wg.Done();
        }
    }

    [Fact]
    public void AwaitingAForeignTaskIsAClearError()
    {
        using var rt = new GoRuntime(Cfg(1));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        Assert.NotNull(r.Error);
        Assert.Contains("Go.Await", r.Error!.ToString());

        static async GoTask Main() => await Task.Delay(1);
    }

    [Fact]
    public void GoAwaitParksUntilTheTaskCompletes()
    {
        int got = 0;
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(v => got = v), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.Equal(42, got);

        static async GoTask Main(Action<int> set)
        {
            var t = Task.Run(async () => { await Task.Delay(20); return 42; });
            set(await Go.Await(t));
        }
    }

    [Fact]
    public void StealingSpreadsWorkSpawnedOnOneP()
    {
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        Assert.True(r.StealOps > 0, "an idle P should have stolen from the spawning P");

        static async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(200);
            for (int i = 0; i < 200; i++) Worker(wg);
            await wg.Wait();
        }

        // 1 ms each (200 ms of work in all), not 200 µs: the idle P's M is a new thread that must
        // be scheduled while the spawner's queue still holds work, and on a loaded machine a new
        // thread's first run has come 500 ms late (the sampler's, in SchedTrace_OwnLinesFollowGosConventions);
        // 40 ms of queued work left little room.
        static async GoTask Worker(WaitGroup wg)
        {
            await Go.Work(TimeSpan.FromMilliseconds(1));
            wg.Done();
        }
    }

    /// <summary>
    /// With stealing off, the M without work parks instead of spinning forever: it used to take a
    /// P back every time it saw the spawner's queue, steal nothing and spin again (millions of
    /// spins, no park, a CPU burnt). Each episode of spinning starts with a wake-up (wakep), of
    /// which there is at most one per goroutine made runnable, so spins stay below that.
    /// </summary>
    [Fact]
    public void WithStealingOffTheIdleMParksInsteadOfSpinning()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,stealtries=0,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        Assert.Equal(0, r.StealOps);
        long spins = r.Recording.Counters.Sum(c => c.Spins);
        Assert.True(spins <= 2 * r.GoroutinesStarted + 10, $"{spins} spins for {r.GoroutinesStarted} goroutines");

        static async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(300);
            for (int i = 0; i < 300; i++) Worker(wg);
            await wg.Wait();
        }

        static async GoTask Worker(WaitGroup wg)
        {
            await Go.Work(TimeSpan.FromMicroseconds(500));
            wg.Done();
        }
    }

    /// <summary>
    /// Go 1.19's goschedImpl puts the goroutine on the global queue and calls schedule, waking no
    /// P: the same M takes it back, and an idle P stays idle (schedtrace idleprocs=1 in real Go).
    /// </summary>
    [Fact]
    public void GoschedBesideAnIdlePWakesNoM()
    {
        const int yields = 20_000;
        using var rt = new GoRuntime(Cfg(2));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        // The goroutine never left the P it started on: the other P scheduled (almost) nothing.
        // With a wakep in Gosched, a spinning M on the idle P took the goroutine off the global
        // queue about every other time (measured: 9,999 and 10,002 schedticks).
        long idleTicks = r.Recording.Counters.Min(c => c.SchedTicks);
        Assert.True(idleTicks < yields / 100, $"the idle P ran {idleTicks} of {yields} Goscheds: " + string.Join(" | ", r.Recording.Counters));

        static async GoTask Main()
        {
            for (int i = 0; i < yields; i++) await Go.Gosched();
        }
    }
}

public class CancellationTests
{
    [Fact]
    public void CancellingARunStopsItWithOperationCanceled()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => Forever(), TimeSpan.FromSeconds(30), cts.Token);
        Assert.IsType<OperationCanceledException>(r.Error);
        Assert.Equal(0, rt.Stats().ThreadsAlive);

        static async GoTask Forever()
        {
            while (true) await Go.Work(TimeSpan.FromMilliseconds(1));
        }
    }
}

public class PreemptionTests
{
    /// <summary>
    /// Among sleepers whose Ps go idle between timer bursts, sysmon keeps its backed-off delay as
    /// Go's does: a timer's expiry and StartM's wake-up from the deep sleep do not restart the
    /// 20 µs polling (only a system call or startTheWorld do). With StartM resetting it, sysmon
    /// looped 773-1,585 times in this program where an instrumented Go 1.19 loops about 107.
    /// </summary>
    [Fact]
    public void SysmonKeepsItsBackoffAmongSleepers()
    {
        const int sleepers = 10_000, sleeps = 20;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        long loops = rt.SysmonLoops;
        Assert.True(loops < 400, $"sysmon looped {loops} times in {r.WallNs / 1e6:0} ms (Go 1.19: about 107)");

        static async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(sleepers);
            for (int i = 0; i < sleepers; i++) Sleeper(wg);
            await wg.Wait();
        }

        static async GoTask Sleeper(WaitGroup wg)
        {
            for (int k = 0; k < sleeps; k++) await Go.Sleep(TimeSpan.FromMilliseconds(20));
            wg.Done();
        }
    }

    [Fact]
    public void SysmonPreemptsAGoroutineSpinningInWork()
    {
        // One P: a hog asks for 300 ms of CPU; another goroutine only needs a moment. Without
        // preemption it would run after the hog; sysmon's retake lets it in after ~10-20 ms.
        long hogDone = 0, otherRan = 0;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        r.EnsureSuccess();
        Assert.True(otherRan < hogDone, "the other goroutine must run before the hog finishes its 300 ms");
        Assert.True(r.Recording.Counters[0].Parks >= 0);

        async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(2);
            Hog(wg);
            await Go.Gosched(); // let the hog start first
            Other(wg);
            await wg.Wait();
        }

        async GoTask Hog(WaitGroup wg)
        {
            await Go.Work(TimeSpan.FromMilliseconds(300));
            hogDone = Go.Nanotime();
            wg.Done();
        }

#pragma warning disable CS1998
        async GoTask Other(WaitGroup wg)
        {
            otherRan = Go.Nanotime();
            wg.Done();
        }
    }

    [Fact]
    public void APingPongPairDoesNotStarveAThirdGoroutineOnOneP()
    {
        // runnext hand-offs share one time slice (inheritTime); sysmon preempts the pair after
        // forcePreemptNs and the third goroutine gets the P.
        bool thirdRan = false;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        Assert.True(thirdRan);

        async GoTask Main()
        {
            var stop = new Chan<bool>();
            var done = new Chan<bool>();
            var a = new Chan<int>();
            var b = new Chan<int>();
            Third(stop); // into runnext...
            Pong(a, b);  // ...kicked to the ring by Pong: from now on runnext always holds one of the pair
            // Ping until the third goroutine has run (it closes stop), with no yield of our own.
            while (true)
            {
                var sel = Go.Select();
                var s = sel.Recv(stop);
                sel.Default();
                if (await sel == s.Index) break;
                await a.Send(1);
                await b.Recv();
            }
            a.Close();
        }

        async GoTask Pong(Chan<int> a, Chan<int> b)
        {
            while (true)
            {
                var (v, ok) = await a.RecvOk();
                if (!ok) return;
                await b.Send(v);
            }
        }

#pragma warning disable CS1998
        async GoTask Third(Chan<bool> stop)
        {
            thirdRan = true;
            stop.Close();
        }
    }

    /// <summary>
    /// findRunnable's fairness check: once every globalrunqcheck schedticks (Go: 61) it takes a
    /// goroutine from the global queue before looking at the local one. At GOMAXPROCS=1 a chain of
    /// goroutines, each spawning its successor and exiting, keeps the local queue from ever being
    /// empty; with runnext off each successor goes to the ring and starts a new schedtick. (With
    /// runnext on, the chain would inherit one time slice, schedtick would stand still, and only
    /// sysmon's preemption after forcePreemptNs would let the global queue in: a matter of time,
    /// which the test above covers.) Main yields with Gosched, which puts it on the global queue;
    /// the check is its only way back. Its waits are counted in chain goroutines run, that is in
    /// schedticks, not in time: the first depends on the ticks before it, and every later one is
    /// exactly interval - 1 (main's own run is the interval's last tick). Without the check main
    /// would wait for the whole chain.
    /// </summary>
    [Theory]
    [InlineData(61)]
    [InlineData(1000)]
    public void TheGlobalQueueGetsAGoroutineEveryGlobalRunqCheckSchedticks(int interval)
    {
        const int rounds = 20, chainLength = 100_000;
        var waits = new List<long>();
        long chainRan = 0;
        bool stop = false;
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs=1,runnext=0,globalrunqcheck={interval},sampleperiodus=0"));
        rt.Run(() => Main(), TimeSpan.FromSeconds(120)).EnsureSuccess();

        Assert.Equal(rounds, waits.Count);
        Assert.All(waits, w => Assert.InRange(w, 0, interval - 1));
        Assert.All(waits.Skip(1), w => Assert.Equal(interval - 1, w));

        async GoTask Main()
        {
            Chain();
            for (int i = 0; i < rounds; i++)
            {
                long before = chainRan;
                await Go.Gosched();
                waits.Add(chainRan - before);
            }
            stop = true;
        }

#pragma warning disable CS1998
        async GoTask Chain()
        {
            if (stop || ++chainRan == chainLength) return;
            Chain();
        }
    }
}

public class SyscallTests
{
    [Fact]
    public void APInALongSyscallIsRetakenAndItsQueuedGoroutinesRunElsewhere()
    {
        // One P. A goroutine blocks its thread for 300 ms in a system call; 50 goroutines queued
        // behind it must run meanwhile on another M (sysmon retakes the P and hands it off).
        long syscallEnd = 0;
        var ranAt = new long[50];
        int[] threads = new int[2];
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        r.EnsureSuccess();
        Assert.All(ranAt, t => Assert.True(t != 0 && t < syscallEnd, "queued goroutines ran while the syscall blocked"));
        Assert.True(rt.SyscallRetakes >= 1);
        Assert.NotEqual(threads[0], threads[1]);

        async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(51);
            Blocker(wg);
            await Go.Gosched(); // the blocker enters its syscall first
            for (int i = 0; i < 50; i++) Worker(i, wg);
            await wg.Wait();
        }

        async GoTask Blocker(WaitGroup wg)
        {
            threads[0] = Environment.CurrentManagedThreadId;
            int v = await Go.Syscall(() => { Thread.Sleep(300); return 7; });
            Assert.Equal(7, v);
            syscallEnd = Go.Nanotime();
            wg.Done();
        }

        async GoTask Worker(int i, WaitGroup wg)
        {
            await Go.Work(TimeSpan.FromMicroseconds(100));
            threads[1] = Environment.CurrentManagedThreadId;
            ranAt[i] = Go.Nanotime();
            wg.Done();
        }
    }

    [Fact]
    public void EverySyscallIsRetakenEvenAfterSysmonDeepSlept()
    {
        // One P, trials one after the other: a goroutine made runnable, then a 200 ms syscall. After
        // a trial's hand-off the runnable goroutine ends and the P idles, so sysmon deep-sleeps
        // (every P idle); the next syscall must wake it (entersyscall_sysmon), or its P is never
        // retaken and the runnable goroutine waits for the call to return.
        const int trials = 4;
        var ranDuring = new bool[trials];
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        r.EnsureSuccess();
        Assert.All(ranDuring, Assert.True);
        Assert.True(rt.SyscallRetakes >= trials);

        async GoTask Main()
        {
            for (int i = 0; i < trials; i++)
            {
                var inCall = new System.Runtime.CompilerServices.StrongBox<bool>(true);
                var ran = new WaitGroup();
                ran.Add(1);
                Runnable(i, inCall, ran);
                await Go.Syscall(() => { Thread.Sleep(200); inCall.Value = false; });
                await ran.Wait();
            }
        }

        async GoTask Runnable(int i, System.Runtime.CompilerServices.StrongBox<bool> inCall, WaitGroup ran)
        {
            ranDuring[i] = Volatile.Read(ref inCall.Value);
            ran.Done();
        }
    }

    [Fact]
    public void SyscallsReturnResultsAndExceptionsAndConserveGoroutines()
    {
        const int n = 400;
        var results = new int[n];
        int errors = 0;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0,runqsize=4"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        for (int i = 0; i < n; i++) Assert.Equal(i % 5 == 0 ? 0 : i * 2, results[i]);
        Assert.Equal(n / 5, errors);
        Assert.Equal(n + 1, r.GoroutinesFinished);

        async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(n);
            for (int i = 0; i < n; i++) Caller(i, wg);
            await wg.Wait();
        }

        async GoTask Caller(int i, WaitGroup wg)
        {
            try
            {
                results[i] = i % 3 == 0
                    ? await Go.SyscallBlock(() => Call(i))
                    : await Go.Syscall(() => Call(i));
            }
            catch (IOException) { Interlocked.Increment(ref errors); }
            wg.Done();
        }

        static int Call(int i)
        {
            Thread.Sleep(i % 4); // 0-3 ms: some return before sysmon looks, some after a retake
            if (i % 5 == 0) throw new IOException("simulated EIO");
            return i * 2;
        }
    }
}

public class LockOSThreadTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ALockedGoroutineAlwaysRunsOnItsOwnThreadAndThreadRunsNothingElse(int procs)
    {
        const int rounds = 3000;
        var lockedThreads = new HashSet<int>();
        var otherThreads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        int lockedTid = 0;
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        Assert.Single(lockedThreads);
        Assert.False(otherThreads.ContainsKey(lockedTid), "no other goroutine may run on the locked thread while it is locked");

        async GoTask Main()
        {
            var ping = new Chan<int>();
            var pong = new Chan<int>();
            var done = new WaitGroup();
            done.Add(5);
            Locked(ping, pong, done);
            for (int i = 0; i < 4; i++) Busy(done);
            for (int i = 0; i < rounds; i++)
            {
                if (Volatile.Read(ref lockedTid) != 0) otherThreads[Environment.CurrentManagedThreadId] = true;
                await ping.Send(i);
                Assert.Equal(i, await pong.Recv());
            }
            ping.Close();
            await done.Wait();
        }

        async GoTask Locked(Chan<int> ping, Chan<int> pong, WaitGroup done)
        {
            Go.LockOSThread();
            Go.LockOSThread(); // nested
            Volatile.Write(ref lockedTid, Environment.CurrentManagedThreadId); // others record their threads from now on
            while (true)
            {
                lockedThreads.Add(Environment.CurrentManagedThreadId);
                var (v, ok) = await ping.RecvOk();
                if (!ok) break;
                await pong.Send(v);
                if (v % 500 == 0) await Go.Sleep(TimeSpan.FromMicroseconds(50));
            }
            Go.UnlockOSThread(); // still locked once: exits locked, taking its thread
            done.Done();
        }

        async GoTask Busy(WaitGroup done)
        {
            for (int i = 0; i < 200; i++)
            {
                if (Volatile.Read(ref lockedTid) != 0) otherThreads[Environment.CurrentManagedThreadId] = true;
                await Go.Work(TimeSpan.FromMicroseconds(20));
                await Go.Gosched();
            }
            done.Done();
        }
    }

    [Fact]
    public void ABlockedLockedGoroutineIsStillADeadlock()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        Assert.IsType<DeadlockException>(r.Error);

        static async GoTask Main()
        {
            Go.LockOSThread();
            await new Chan<int>().Recv();
        }
    }

    /// <summary>
    /// A goroutine that exits while locked takes its thread with it (goexit0's locked branch, then
    /// mexit): the thread ends and no later goroutine runs on it. One that unlocked as often as it
    /// locked before exiting leaves its thread to the scheduler, alive.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AGoroutineExitingLockedTakesItsThreadAndOneThatUnlockedDoesNot(int procs)
    {
        Thread? lockedThread = null, unlockedThread = null;
        var laterThreads = new System.Collections.Concurrent.ConcurrentDictionary<Thread, bool>();
        bool unlockedAliveAtEnd = false;
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0"));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.NotNull(lockedThread);
        Assert.False(lockedThread!.IsAlive, "the thread of a goroutine that exited locked is still alive");
        Assert.False(laterThreads.ContainsKey(lockedThread), "a goroutine ran on the thread of one that exited locked");
        Assert.True(unlockedAliveAtEnd, "the thread of a goroutine that unlocked before exiting ended with it");

        async GoTask Main()
        {
            // One after the other: an M whose goroutine unlocked may run the other next, and be
            // taken when that one exits locked.
            var exited = new WaitGroup();
            exited.Add(1);
            ExitLocked(exited);
            await exited.Wait();
            // The locked goroutine's M hands its P off and ends; wait for that without blocking a P.
            for (int i = 0; i < 2000 && lockedThread!.IsAlive; i++) await Go.Sleep(TimeSpan.FromMilliseconds(5));
            exited.Add(1);
            ExitUnlocked(exited);
            await exited.Wait();
            var later = new WaitGroup();
            later.Add(200);
            for (int i = 0; i < 200; i++) Later(later);
            await later.Wait();
            unlockedAliveAtEnd = unlockedThread!.IsAlive;
        }

        async GoTask ExitLocked(WaitGroup exited)
        {
            Go.LockOSThread();
            Go.LockOSThread();
            Go.UnlockOSThread(); // nested: still locked once
            lockedThread = Thread.CurrentThread;
            await Go.Sleep(TimeSpan.FromMilliseconds(1)); // blocks once locked (stoplockedm, startlockedm)
            exited.Done();
        }

        async GoTask ExitUnlocked(WaitGroup exited)
        {
            Go.LockOSThread();
            unlockedThread = Thread.CurrentThread;
            await Go.Sleep(TimeSpan.FromMilliseconds(1));
            Go.UnlockOSThread();
            exited.Done();
        }

        async GoTask Later(WaitGroup later)
        {
            laterThreads[Thread.CurrentThread] = true;
            await Go.Work(TimeSpan.FromMicroseconds(50));
            later.Done();
        }
    }

    /// <summary>
    /// A goroutine that exits while locked takes its M with it; if that M was the last one
    /// running, its exit must run the deadlock detector (Go's mexit calls checkdead after handoffp),
    /// or a program whose other goroutines are all blocked hangs instead of reporting the deadlock.
    /// </summary>
    [Fact]
    public void ALockedGoroutineExitingLastStillFindsTheDeadlock()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30));
        Assert.IsType<DeadlockException>(r.Error);

        static async GoTask Main()
        {
            LockAndExit();
            await new Chan<int>().Recv();
        }

        static async GoTask LockAndExit()
        {
            await Go.Sleep(TimeSpan.FromMilliseconds(50)); // main is blocked by then
            Go.LockOSThread();
        }
    }

    /// <summary>
    /// stealWork's victim orders: the start and the stride come from different digits of the random
    /// number (randomOrder.start), so with 8 Ps there are 8 starts x 4 strides = 32 orders, not 8.
    /// </summary>
    [Fact]
    public void StealOrdersCombineEveryStartWithEveryStride()
    {
        var order = new RandomOrder(8);
        var rng = new Random(1);
        var seen = new HashSet<string>();
        for (int k = 0; k < 20_000; k++)
        {
            var visited = new List<uint>();
            for (var e = order.Start((uint)rng.NextInt64(0, uint.MaxValue)); !e.Done; e.Next()) visited.Add(e.Position);
            Assert.Equal(Enumerable.Range(0, 8).Select(i => (uint)i), visited.Order()); // every P once
            seen.Add(string.Join(",", visited));
        }
        Assert.Equal(32, seen.Count);
    }
}
