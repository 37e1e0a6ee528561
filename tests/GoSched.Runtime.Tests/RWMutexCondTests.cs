// sync.RWMutex and sync.Cond: Go's own tests ported by name (rwmutex_test.go, cond_test.go), plus
// the rules they rest on: a pending writer keeps new readers out and lets the queued readers in
// before the next writer; a Signal between a waiter's Unlock and its park is not lost.
// A non-blocking `select { case <-c: ... default: }` on a buffered channel is `c.Count > 0` here.
namespace GoSched.Tests;

public class RWMutexCondTests
{
    private static RunResult Run(string knobs, Func<GoTask> main) =>
        new GoRuntime(GoConfig.Parse(knobs + ",sampleperiodus=0")).Run(main, TimeSpan.FromSeconds(60)).EnsureSuccess();

    [Theory]
    [InlineData(1, 4)]
    [InlineData(3, 1)]
    [InlineData(4, 2)]
    [InlineData(8, 4)]
    public void TestParallelReaders(int numReaders, int gomaxprocs)
    {
        Run($"gomaxprocs={gomaxprocs}", async () =>
        {
            var m = new RWMutex();
            var clocked = new Chan<bool>();
            var cunlock = new Chan<bool>();
            var cdone = new Chan<bool>();
            for (int i = 0; i < numReaders; i++) ParallelReader(m, clocked, cunlock, cdone);
            // Every RLock succeeds while the others are held: a wait here would deadlock.
            for (int i = 0; i < numReaders; i++) await clocked.Recv();
            Assert.Equal(numReaders, m.ReaderCount);
            for (int i = 0; i < numReaders; i++) await cunlock.Send(true);
            for (int i = 0; i < numReaders; i++) await cdone.Recv();
            Assert.Equal(0, m.ReaderCount);
        });

        static async GoTask ParallelReader(RWMutex m, Chan<bool> clocked, Chan<bool> cunlock, Chan<bool> cdone)
        {
            await m.RLock();
            await clocked.Send(true);
            await cunlock.Recv();
            m.RUnlock();
            await cdone.Send(true);
        }
    }

    /// <summary>
    /// Go's TestRWMutex (HammerRWMutex): two writers and readers on one RWMutex; activity counts
    /// readers inside plus 10,000 per writer inside, and must never show a writer beside anyone.
    /// </summary>
    [Theory]
    [InlineData("gomaxprocs=1", 1)]
    [InlineData("gomaxprocs=1", 3)]
    [InlineData("gomaxprocs=1", 10)]
    [InlineData("gomaxprocs=4", 1)]
    [InlineData("gomaxprocs=4", 3)]
    [InlineData("gomaxprocs=4", 10)]
    [InlineData("gomaxprocs=3,runqsize=4,randomizescheduler=1,seed=5", 10)]
    [InlineData("gomaxprocs=2,runqsize=4,randomizescheduler=1,seed=9", 5)]
    public void TestRWMutex(string knobs, int numReaders)
    {
        const int iterations = 1000;
        int activity = 0, bad = 0;
        long reads = 0, writes = 0;
        Run(knobs, async () =>
        {
            var rwm = new RWMutex();
            var cdone = new Chan<bool>();
            Writer(rwm);
            int i;
            for (i = 0; i < numReaders / 2; i++) Reader(rwm);
            Writer(rwm);
            for (; i < numReaders; i++) Reader(rwm);
            for (int k = 0; k < 2 + numReaders; k++) await cdone.Recv();

            async GoTask Reader(RWMutex m)
            {
                for (int n = 0; n < iterations; n++)
                {
                    await m.RLock();
                    int a = Interlocked.Increment(ref activity);
                    if (a < 1 || a >= 10000) Interlocked.Increment(ref bad);
                    Interlocked.Increment(ref reads);
                    if (n % 50 == 0) await Go.Gosched(); // held across a yield now and then
                    Interlocked.Decrement(ref activity);
                    m.RUnlock();
                }
                await cdone.Send(true);
            }

            async GoTask Writer(RWMutex m)
            {
                for (int n = 0; n < iterations; n++)
                {
                    await m.Lock();
                    int a = Interlocked.Add(ref activity, 10000);
                    if (a != 10000) Interlocked.Increment(ref bad);
                    writes++;
                    if (n % 50 == 0) await Go.Gosched();
                    Interlocked.Add(ref activity, -10000);
                    m.Unlock();
                }
                await cdone.Send(true);
            }
        });
        Assert.Equal(0, bad);
        Assert.Equal((long)numReaders * iterations, reads);
        Assert.Equal(2L * iterations, writes);
    }

    /// <summary>Go's TestRLocker: RLocker read-locks (twice, recursively), and respects the write lock.</summary>
    [Fact]
    public void TestRLocker()
    {
        Run("gomaxprocs=2", async () =>
        {
            var wl = new RWMutex();
            var wlocked = new Chan<bool>(1);
            var rlocked = new Chan<bool>(1);
            ILocker rl = wl.RLocker();
            const int n = 10;
            Locker(wl, rl, wlocked, rlocked);
            for (int i = 0; i < n; i++)
            {
                await rlocked.Recv();
                rl.Unlock();
                await Go.Sleep(TimeSpan.FromMilliseconds(1)); // let the writer try
                Assert.True(wlocked.Count == 0, "RLocker() didn't read-lock it");
                rl.Unlock();
                await wlocked.Recv();
                Assert.True(rlocked.Count == 0, "RLocker() didn't respect the write lock");
                wl.Unlock();
            }
        });

        static async GoTask Locker(RWMutex wl, ILocker rl, Chan<bool> wlocked, Chan<bool> rlocked)
        {
            for (int i = 0; i < 10; i++)
            {
                await rl.Lock();
                await rl.Lock();
                await rlocked.Send(true);
                await wl.Lock();
                await wlocked.Send(true);
            }
        }
    }

    /// <summary>
    /// A writer waiting for readers keeps new readers out (no writer starvation), and the readers
    /// that queued behind it all get in at its Unlock, before the next writer.
    /// </summary>
    [Fact]
    public void APendingWriterKeepsNewReadersOutAndTheQueuedReadersGoBeforeTheNextWriter()
    {
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Run("gomaxprocs=1", async () =>
        {
            var rw = new RWMutex();
            var done = new Chan<bool>(8);
            await rw.RLock();                        // a reader inside
            Writer(rw, "W1", order, done);
            await Go.Gosched();                      // W1 announces itself and waits for the reader
            Assert.True(rw.ReaderCount < 0, "the pending writer did not announce itself");
            Assert.False(rw.TryRLock(), "a new reader got in past a pending writer");
            Reader(rw, "R1", order, done);
            Reader(rw, "R2", order, done);
            await Go.Gosched();                      // R1 and R2 queue behind W1
            Writer(rw, "W2", order, done);
            await Go.Gosched();                      // W2 waits for W1 on the writers' Mutex
            order.Enqueue("first reader out");
            rw.RUnlock();                            // the last reader out lets W1 in
            for (int i = 0; i < 4; i++) await done.Recv();
        });
        var seen = order.ToArray();
        Assert.Equal("first reader out", seen[0]);
        Assert.Equal("W1", seen[1]);
        Assert.Equal(["R1", "R2"], seen[2..4].Order());
        Assert.Equal("W2", seen[4]);

        static async GoTask Writer(RWMutex rw, string name, System.Collections.Concurrent.ConcurrentQueue<string> order, Chan<bool> done)
        {
            await rw.Lock();
            order.Enqueue(name);
            rw.Unlock();
            await done.Send(true);
        }

        static async GoTask Reader(RWMutex rw, string name, System.Collections.Concurrent.ConcurrentQueue<string> order, Chan<bool> done)
        {
            await rw.RLock();
            order.Enqueue(name);
            rw.RUnlock();
            await done.Send(true);
        }
    }

    [Fact]
    public void UnlocksOfAnUnlockedRWMutexAreErrorsAndChangeNothing()
    {
        var rw = new RWMutex();
        Assert.Contains("sync: RUnlock of unlocked RWMutex", Assert.Throws<InvalidOperationException>(rw.RUnlock).Message);
        Assert.Contains("sync: Unlock of unlocked RWMutex", Assert.Throws<InvalidOperationException>(rw.Unlock).Message);
        Assert.Equal(0, rw.ReaderCount);
        Assert.True(rw.TryLock());
        Assert.False(rw.TryRLock());
        rw.Unlock();
        Assert.True(rw.TryRLock());
        Assert.False(rw.TryLock());
        rw.RUnlock();
    }

    [Fact]
    public void TestCondSignal()
    {
        Run("gomaxprocs=2", async () =>
        {
            var m = new Mutex();
            var c = new Cond(m);
            int n = 2;
            var running = new Chan<bool>(n);
            var awake = new Chan<bool>(n);
            for (int i = 0; i < n; i++) Sleeper(m, c, running, awake);
            for (int i = 0; i < n; i++) await running.Recv(); // wait for everyone to run
            while (n > 0)
            {
                Assert.True(awake.Count == 0, "goroutine not asleep");
                await m.Lock();
                c.Signal();
                m.Unlock();
                await awake.Recv(); // deadlocks if no goroutine wakes up
                await Go.Sleep(TimeSpan.FromMilliseconds(1));
                Assert.True(awake.Count == 0, "too many goroutines awake");
                n--;
            }
            c.Signal(); // nobody waits: lost, as in Go
        });

        static async GoTask Sleeper(Mutex m, Cond c, Chan<bool> running, Chan<bool> awake)
        {
            await m.Lock();
            await running.Send(true);
            await c.Wait();
            await awake.Send(true);
            m.Unlock();
        }
    }

    /// <summary>Go's TestCondSignalGenerations: each Signal wakes the oldest waiter (ticket order).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TestCondSignalGenerations(int procs)
    {
        Run($"gomaxprocs={procs}", async () =>
        {
            var m = new Mutex();
            var c = new Cond(m);
            const int n = 100;
            var running = new Chan<bool>(n);
            var awake = new Chan<int>(n);
            for (int i = 0; i < n; i++)
            {
                Sleeper(i);
                if (i > 0)
                {
                    int a = await awake.Recv();
                    Assert.True(a == i - 1, $"wrong goroutine woke up: want {i - 1}, got {a}");
                }
                await running.Recv();
                await m.Lock();
                c.Signal();
                m.Unlock();
            }
            await awake.Recv();

            async GoTask Sleeper(int i)
            {
                await m.Lock();
                await running.Send(true);
                await c.Wait();
                await awake.Send(i);
                m.Unlock();
            }
        });
    }

    /// <summary>Go's TestCondBroadcast: every Broadcast wakes every waiter exactly once.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TestCondBroadcast(int procs)
    {
        Run($"gomaxprocs={procs}", async () =>
        {
            var m = new Mutex();
            var c = new Cond(m);
            const int n = 200;
            var running = new Chan<int>(n);
            var awake = new Chan<int>(n);
            bool exit = false;
            for (int i = 0; i < n; i++) Sleeper(i);
            for (int round = 0; round < n; round++)
            {
                for (int k = 0; k < n; k++) await running.Recv(); // deadlocks unless n are running
                if (round == n - 1)
                {
                    await m.Lock();
                    exit = true;
                    m.Unlock();
                }
                Assert.True(awake.Count == 0, "goroutine not asleep");
                await m.Lock();
                c.Broadcast();
                m.Unlock();
                var seen = new bool[n];
                for (int k = 0; k < n; k++)
                {
                    int g = await awake.Recv();
                    Assert.False(seen[g], "goroutine woke up twice");
                    seen[g] = true;
                }
            }
            await Go.Sleep(TimeSpan.FromMilliseconds(1));
            Assert.True(running.Count == 0, "goroutine did not exit");
            c.Broadcast();

            async GoTask Sleeper(int g)
            {
                await m.Lock();
                while (!exit)
                {
                    await running.Send(g);
                    await c.Wait();
                    await awake.Send(g);
                }
                m.Unlock();
            }
        });
    }

    /// <summary>
    /// A Signal that comes after a waiter took its ticket (and unlocked) but before it parked is
    /// not lost: the waiter finds its ticket notified and returns without parking. Here the
    /// waiter's Locker is a spy that signals from inside Unlock, the narrowest such window.
    /// </summary>
    [Fact]
    public void ASignalBetweenUnlockAndParkIsNotLost()
    {
        bool returned = false;
        Run("gomaxprocs=1", async () =>
        {
            var m = new SignalOnUnlock();
            var c = new Cond(m);
            m.Cond = c;
            await m.Lock();
            await c.Wait(); // would park forever (a deadlock) if the Signal were lost
            returned = true;
            m.Unlock();
        });
        Assert.True(returned);
    }

    private sealed class SignalOnUnlock : ILocker
    {
        private readonly Mutex _m = new();
        public Cond? Cond;
        public GoFrame Lock() => ((ILocker)_m).Lock();
        public void Unlock()
        {
            _m.Unlock();
            Cond?.Signal();
        }
    }

    /// <summary>A goroutine in Cond.Wait with nobody to signal it: Go's deadlock, with Go's wait reason.</summary>
    [Fact]
    public void AWaitNobodySignalsIsADeadlockInSyncCondWait()
    {
        var r = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")).Run(async () =>
        {
            var m = new Mutex();
            var c = new Cond(m);
            await m.Lock();
            await c.Wait();
        }, TimeSpan.FromSeconds(30));
        Assert.NotNull(r.Error);
        Assert.Contains("all goroutines are asleep - deadlock!", r.Error!.Message);
        Assert.Contains("[sync.Cond.Wait]", r.Error.Message);
    }
}

/// <summary>sync.Once: Go's TestOnce and TestOncePanic ported by name, and an f that blocks.</summary>
public class OnceTests
{
    private static RunResult Run(string knobs, Func<GoTask> main) =>
        new GoRuntime(GoConfig.Parse(knobs + ",sampleperiodus=0")).Run(main, TimeSpan.FromSeconds(60)).EnsureSuccess();

    /// <summary>Go's TestOnce: ten goroutines call Do; f runs once, and every Do returns after it.</summary>
    [Theory]
    [InlineData("gomaxprocs=1")]
    [InlineData("gomaxprocs=4")]
    [InlineData("gomaxprocs=3,runqsize=4,randomizescheduler=1,seed=3")]
    public void TestOnce(string knobs)
    {
        int o = 0, badReturns = 0;
        Run(knobs, async () =>
        {
            var once = new Once();
            var c = new Chan<bool>();
            for (int i = 0; i < 10; i++) Caller(once, c);
            for (int i = 0; i < 10; i++) await c.Recv();
            Assert.True(once.Done);
        });
        Assert.Equal(1, o);
        Assert.Equal(0, badReturns);

        async GoTask Caller(Once once, Chan<bool> c)
        {
            await once.Do(() => Interlocked.Increment(ref o));
            if (Volatile.Read(ref o) != 1) Interlocked.Increment(ref badReturns); // once.Do returned before f had run
            await c.Send(true);
        }
    }

    /// <summary>An f that blocks (sleeps): the other callers wait for it, not just for it to start.</summary>
    [Fact]
    public void CallersWaitUntilABlockingFHasReturned()
    {
        int finished = 0, early = 0;
        Run("gomaxprocs=2", async () =>
        {
            var once = new Once();
            var wg = new WaitGroup();
            wg.Add(5);
            for (int i = 0; i < 5; i++) Caller();
            await wg.Wait();

            async GoTask Caller()
            {
                await once.Do(Init);
                if (Volatile.Read(ref finished) != 1) Interlocked.Increment(ref early);
                wg.Done();
            }

            async GoFrame Init()
            {
                await Go.Sleep(TimeSpan.FromMilliseconds(5));
                Interlocked.Increment(ref finished);
            }
        });
        Assert.Equal(1, finished);
        Assert.Equal(0, early);
    }

    /// <summary>Go's TestOncePanic: an f that panics (throws) counts as done; the next Do does not run f.</summary>
    [Fact]
    public void TestOncePanic()
    {
        bool caught = false, ranAgain = false;
        Run("gomaxprocs=1", async () =>
        {
            var once = new Once();
            try { await once.Do(() => throw new InvalidOperationException("failed")); }
            catch (InvalidOperationException) { caught = true; }
            await once.Do(() => ranAgain = true);
        });
        Assert.True(caught, "Once.Do did not pass the exception on");
        Assert.False(ranAgain, "Once.Do called twice");
    }

    /// <summary>
    /// A Do called from inside its own f is a usage error at the call, in either overload. In Go it
    /// deadlocks; here, with f an Action, the inner Do's frame could not be awaited: it was dropped
    /// with the goroutine's park recorded and the semaphore's lock held, and the outer Do's Unlock
    /// then spun on that lock until the run's timeout, which blamed "a goroutine that never awaits".
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DoInsideItsOwnFIsAUsageErrorNotAHang(bool blockingF)
    {
        var once = new Once();
        bool innerRan = false, caught = false;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")).Run(async () =>
        {
            try
            {
                if (blockingF) await once.Do(async () => await once.Do(() => innerRan = true));
                else await once.Do(() => { _ = once.Do(() => innerRan = true); });
            }
            catch (GoUsageException e)
            {
                Assert.Contains("Once.Do called from inside its own f", e.Message);
                caught = true;
            }
            await once.Do(() => innerRan = true); // done (an f that throws counts as done), and the mutex was unlocked
        }, TimeSpan.FromSeconds(20)).EnsureSuccess();
        Assert.True(caught, "the inner Do was not refused");
        Assert.False(innerRan);
        Assert.True(once.Done);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }

    /// <summary>Another goroutine calling Do while f runs still waits for f (the re-entrance check is per goroutine).</summary>
    [Fact]
    public void ADoFromAnotherGoroutineWhileFRunsStillWaits()
    {
        int order = 0, otherSaw = -1;
        Run("gomaxprocs=2", async () =>
        {
            var once = new Once();
            var wg = new WaitGroup();
            wg.Add(1);
            await once.Do(async () =>
            {
                Other(once, wg);
                await Go.Sleep(TimeSpan.FromMilliseconds(5));
                order = 1;
            });
            await wg.Wait();
        });
        Assert.Equal(1, otherSaw);

        async GoTask Other(Once once, WaitGroup wg)
        {
            await once.Do(() => order = 2);
            otherSaw = order;
            wg.Done();
        }
    }
}

/// <summary>An async GoFrame call that blocked and was not awaited is a usage error naming the mistake, not a hang.</summary>
public class NotAwaitedFrameTests
{
    private static RunResult Run(Func<GoTask> main) =>
        new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")).Run(main, TimeSpan.FromSeconds(30));

    private static async GoFrame ReceiveOne(Chan<int> c) => await c.Recv();

    [Fact]
    public void ADroppedFrameThenAnotherAwaitIsAUsageError()
    {
        var r = Run(async () =>
        {
            var c = new Chan<int>();
            _ = ReceiveOne(c);      // blocks inside, and is not awaited
            await Go.Gosched();
        });
        var e = Assert.IsType<GoUsageException>(Assert.IsType<GoroutinePanicException>(r.Error).InnerException);
        Assert.Contains("called an async GoFrame method that blocked and did not await it", e.Message);
    }

    [Fact]
    public void ADroppedFrameThenReturningIsAUsageError()
    {
        var r = Run(async () =>
        {
            var c = new Chan<int>();
            await Go.Gosched();
            _ = ReceiveOne(c);
        });
        Assert.NotNull(r.Error);
        Assert.Contains("did not await it", r.Error!.ToString());
    }

    /// <summary>The case a new user hit: the dropped RWMutex.Lock held the semaphore's lock, and Unlock spun on it until the run's timeout.</summary>
    [Fact]
    public void ADroppedRWMutexLockThenUnlockIsAUsageErrorNotAHang()
    {
        var r = Run(async () =>
        {
            var rw = new RWMutex();
            await rw.Lock();
            _ = rw.Lock();          // waits for the first, and is not awaited
            rw.Unlock();
        });
        Assert.NotNull(r.Error);
        Assert.Contains("did not await it", r.Error!.ToString());
    }
}
