// sync.Mutex as Go 1.19's: normal mode (a woken waiter competes with running goroutines and
// loses to them, then waits at the front), starvation mode (after a waiter has waited more than
// 1 ms, Unlock hands the lock over and yields to the new owner), spinning's conditions, and
// Go's own mutex tests ported by name (TestMutexFairness, HammerMutex).
//
// The mode tests run at GOMAXPROCS=1, where the order of events follows from the scheduler's
// rules alone: a goroutine readied by Unlock goes to runnext and runs when the unlocker blocks.
using System.Collections.Concurrent;
using GoSched.Workloads;

namespace GoSched.Tests;

public class MutexTests
{
    private static RunResult Run(string knobs, Func<GoTask> main) =>
        new GoRuntime(GoConfig.Parse(knobs + ",sampleperiodus=0")).Run(main, TimeSpan.FromSeconds(60)).EnsureSuccess();

    /// <summary>
    /// Normal mode: Unlock wakes the first waiter but does not give it the lock; the unlocker,
    /// still running, locks again first. The woken waiter finds it locked and parks again, at the
    /// front of the queue (lockSlow's queueLifo), so it still goes before a later waiter.
    /// A hand-off mutex would order W1, W2, main.
    /// </summary>
    [Fact]
    public void NormalMode_TheRunningGoroutineLocksBeforeTheWokenWaiter_WhichRequeuesAtTheFront()
    {
        var order = new ConcurrentQueue<string>();
        var mu = new Mutex();
        int waitersAfterRequeue = -1;
        Run("gomaxprocs=1", async () =>
        {
            var done = new Chan<bool>(2);
            await mu.Lock();
            order.Enqueue("main");
            Waiter(mu, "W1", order, done);
            await Go.Gosched(); // W1 runs and parks on the semaphore
            Waiter(mu, "W2", order, done);
            await Go.Gosched(); // W2 parks behind it
            Assert.Equal(2, mu.Waiters);

            mu.Unlock();        // wakes W1 (runnext), the mutex is free
            await mu.Lock();    // and main takes it first: barging
            order.Enqueue("main again");
            // A normal-mode Unlock does not yield: W1, woken, has not run yet (not counted as a waiter).
            Assert.Equal(1, mu.Waiters);
            await Go.Gosched(); // W1 runs: locked, so it waits again, at the front
            waitersAfterRequeue = mu.Waiters;
            Assert.False(mu.Starving, "a wait of well under 1 ms switched the mutex to starvation mode");
            mu.Unlock();
            await done.Recv();
            await done.Recv();
        });
        Assert.Equal(["main", "main again", "W1", "W2"], order.ToArray());
        Assert.Equal(2, waitersAfterRequeue);
        Assert.Equal(0, mu.State);
    }

    /// <summary>
    /// Starvation mode: a waiter woken after more than 1 ms that still cannot lock switches the
    /// mutex to starvation mode. Then Unlock hands the lock straight to it, a newcomer (the
    /// unlocker itself) queues behind instead of taking it, and the mode ends with the last waiter.
    /// </summary>
    [Fact]
    public void StarvationMode_AfterAWaitOfMoreThan1Ms_UnlockHandsTheLockToTheWaiter()
    {
        var order = new ConcurrentQueue<string>();
        var mu = new Mutex();
        bool starvingWhileW1Waited = false, starvingAtTheEnd = true;
        Run("gomaxprocs=1", async () =>
        {
            var done = new Chan<bool>(1);
            await mu.Lock();
            Waiter(mu, "W1", order, done);
            await Go.Gosched();                              // W1 parks
            await Go.Work(TimeSpan.FromMilliseconds(2));     // W1 has now waited > 1 ms
            mu.Unlock();                                     // wakes W1
            await mu.Lock();                                 // main barges once more
            await Go.Gosched();                              // W1 loses after 2 ms: starvation mode, W1 at the front
            starvingWhileW1Waited = mu.Starving;
            mu.Unlock();                                     // hands the lock to W1
            Assert.False(mu.TryLock(), "TryLock took a mutex handed to a waiter");
            await mu.Lock();                                 // queues behind W1 (newcomers do not barge)
            order.Enqueue("main");
            starvingAtTheEnd = mu.Starving;
            mu.Unlock();
            await done.Recv();
        });
        Assert.True(starvingWhileW1Waited, "the mutex did not enter starvation mode after a 2 ms wait");
        Assert.Equal(["W1", "main"], order.ToArray());
        Assert.False(starvingAtTheEnd, "starvation mode did not end with the last waiter");
        Assert.Equal(0, mu.State);
    }

    /// <summary>
    /// A starving Unlock yields its P to the waiter it handed the lock to (semrelease1's direct
    /// G hand-off, goyield): the new owner runs before the unlocker goes past its next await, even
    /// one that does not block. Here the yield comes at that await (Go yields inside Unlock).
    /// </summary>
    [Fact]
    public void StarvationMode_TheUnlockerYieldsToTheNewOwner()
    {
        var order = new ConcurrentQueue<string>();
        var mu = new Mutex();
        Run("gomaxprocs=1", async () =>
        {
            var done = new Chan<bool>(1);
            var free = new Chan<int>(1);
            await mu.Lock();
            Waiter(mu, "W1", order, done);
            await Go.Gosched();
            await Go.Work(TimeSpan.FromMilliseconds(2));
            mu.Unlock();
            await mu.Lock();
            await Go.Gosched(); // starvation mode
            Assert.True(mu.Starving);
            mu.Unlock();
            order.Enqueue("main unlocked");
            await free.Send(1); // does not block, but yields to W1
            order.Enqueue("main resumed");
            await done.Recv();
        });
        Assert.Equal(["main unlocked", "W1", "main resumed"], order.ToArray());
    }

    /// <summary>Unlock of an unlocked mutex is Go's fatal error, and leaves the mutex as it was.</summary>
    [Fact]
    public void UnlockOfAnUnlockedMutexIsAnErrorAndChangesNothing()
    {
        var mu = new Mutex();
        var e = Assert.Throws<InvalidOperationException>(mu.Unlock);
        Assert.Contains("sync: unlock of unlocked mutex", e.Message);
        Assert.Equal(0, mu.State);
        Assert.True(mu.TryLock());
        mu.Unlock();
    }

    /// <summary>
    /// Inside a goroutine the misuse is Go's fatal error: the run ends with it even when the
    /// goroutine catches the exception (a Cond.Wait without the lock, caught, would otherwise leave
    /// its ticket to swallow the next Signal).
    /// </summary>
    [Theory]
    [InlineData("mutex")]
    [InlineData("rwmutex")]
    [InlineData("runlock")]
    [InlineData("cond")]
    public void ACaughtSyncMisuseInAGoroutineStillEndsTheRun(string what)
    {
        bool resumedAfterAwait = false;
        var r = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")).Run(async () =>
        {
            var mu = new Mutex();
            var rw = new RWMutex();
            try
            {
                switch (what)
                {
                    case "mutex": mu.Unlock(); break;
                    case "rwmutex": rw.Unlock(); break;
                    case "runlock": rw.RUnlock(); break;
                    case "cond": await new Cond(mu).Wait(); break;
                }
            }
            catch (InvalidOperationException) { }
            await Go.Gosched();
            resumedAfterAwait = true;
        }, TimeSpan.FromSeconds(30));
        Assert.NotNull(r.Error);
        Assert.Contains("fatal error: sync: ", r.Error!.Message);
        Assert.Contains("of unlocked", r.Error.Message);
        Assert.False(resumedAfterAwait, "the goroutine ran on past its next await after a fatal error");
    }

    /// <summary>
    /// Spinning's conditions (sync_runtime_canSpin): never at GOMAXPROCS=1, never past 4 tries,
    /// and with two Ps only while the other one is running something.
    /// </summary>
    [Fact]
    public void LockSlowSpinsOnlyWhileAnotherPIsRunning()
    {
        bool oneP = true;
        Run("gomaxprocs=1", async () => { await Go.Gosched(); oneP = GoRuntime.Current.SyncCanSpin(0); });
        Assert.False(oneP);

        bool withBusyP = false, fifthTry = true;
        Run("gomaxprocs=2", async () =>
        {
            var stop = new Chan<bool>();
            int running = 0;
            Busy(stop, () => Volatile.Write(ref running, 1));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!withBusyP && DateTime.UtcNow < deadline)
            {
                await Go.Sleep(TimeSpan.FromMilliseconds(1));
                if (Volatile.Read(ref running) == 1) withBusyP = GoRuntime.Current.SyncCanSpin(0);
            }
            fifthTry = GoRuntime.Current.SyncCanSpin(4);
            stop.Close();
        });
        Assert.True(withBusyP, "no spinning allowed with the other P running a goroutine");
        Assert.False(fifthTry);

        static async GoTask Busy(Chan<bool> stop, Action started)
        {
            started();
            while (true)
            {
                var sel = Go.Select();
                var stopped = sel.Recv(stop);
                sel.Default();
                if (await sel == stopped.Index) return;
                await Go.Work(TimeSpan.FromMicroseconds(200));
            }
        }
    }

    /// <summary>
    /// Go's TestMutexFairness: one goroutine holds the mutex almost all the time, another wants
    /// it ten times. Barging alone would starve the second; starvation mode lets it through.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void TestMutexFairness(int procs)
    {
        Run($"gomaxprocs={procs}", async () =>
        {
            var mu = new Mutex();
            var stop = new Chan<bool>();
            var done = new Chan<bool>(1);
            Hog(mu, stop);
            Wanter(mu, done);
            var sel = Go.Select();
            var finished = sel.Recv(done);
            sel.Recv(Go.After(TimeSpan.FromSeconds(10)));
            int got = await sel;
            stop.Close();
            Assert.True(got == finished.Index, "can't acquire Mutex in 10 seconds");
        });

        static async GoTask Hog(Mutex mu, Chan<bool> stop)
        {
            while (true)
            {
                await mu.Lock();
                await Go.Sleep(TimeSpan.FromMicroseconds(100));
                mu.Unlock();
                var sel = Go.Select();
                var stopped = sel.Recv(stop);
                sel.Default();
                if (await sel == stopped.Index) return;
            }
        }

        static async GoTask Wanter(Mutex mu, Chan<bool> done)
        {
            for (int i = 0; i < 10; i++)
            {
                await Go.Sleep(TimeSpan.FromMicroseconds(100));
                await mu.Lock();
                mu.Unlock();
            }
            await done.Send(true);
        }
    }

    /// <summary>
    /// Go's HammerMutex (TestMutex): goroutines lock and unlock, with TryLock now and then, and
    /// never two inside; every increment is counted once, under the randomised scheduler too.
    /// </summary>
    [Theory]
    [InlineData("gomaxprocs=1")]
    [InlineData("gomaxprocs=2")]
    [InlineData("gomaxprocs=4")]
    [InlineData("gomaxprocs=3,runqsize=4,randomizescheduler=1,seed=7")]
    [InlineData("gomaxprocs=2,runqsize=4,randomizescheduler=1,seed=11")]
    public void HammerMutex(string knobs)
    {
        const int goroutines = 10, loops = 1000;
        var mu = new Mutex();
        long counter = 0;
        int inside = 0, violations = 0;
        Run(knobs, async () =>
        {
            var wg = new WaitGroup();
            wg.Add(goroutines);
            for (int i = 0; i < goroutines; i++) Hammer(i);
            await wg.Wait();

            async GoTask Hammer(int id)
            {
                for (int n = 0; n < loops; n++)
                {
                    if (n % 3 == 0 && mu.TryLock()) { Inside(); mu.Unlock(); continue; }
                    await mu.Lock();
                    Inside();
                    if (n % 7 == id % 7) await Go.Gosched(); // held across a yield now and then
                    mu.Unlock();
                }
                wg.Done();
            }
        });
        Assert.Equal(0, violations);
        Assert.Equal(goroutines * loops, counter);
        Assert.Equal(0, mu.State);

        void Inside()
        {
            if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref violations);
            counter++;
            Interlocked.Decrement(ref inside);
        }
    }

    private static async GoTask Waiter(Mutex mu, string name, ConcurrentQueue<string> order, Chan<bool> done)
    {
        await mu.Lock();
        order.Enqueue(name);
        mu.Unlock();
        await done.Send(true);
    }
}

/// <summary>The `mutex` workload: every increment counted once, and the figures that tell the two modes apart.</summary>
public class MutexWorkloadTests
{
    private static RunResult Run(params (string, string)[] args)
    {
        var r = WorkloadCatalog.Get("mutex").Run(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"), args.ToDictionary(a => a.Item1, a => a.Item2), TimeSpan.FromSeconds(60));
        Assert.True(r.Error == null, $"mutex: {r.Error}");
        return r;
    }

    [Fact]
    public void ShortHoldsRunInNormalModeAndCountEveryLock()
    {
        var r = Run(("locks", "2000"), ("work", "0"));
        Assert.Equal(4, r.Metrics["contenders"]); // 0: 2×GOMAXPROCS
        Assert.Equal(8000, r.Metrics["locks"]);
        Assert.True(r.Metrics["ns_per_lock"] > 0);
        Assert.InRange(r.Metrics["parks_per_lock"], 0, 1);
        Assert.InRange(r.Metrics["wait_p50_us"], 0, r.Metrics["wait_max_us"]);
    }

    /// <summary>
    /// Holds of 500 µs: the running goroutine relocks right after each Unlock, so a woken waiter
    /// loses again and again, and once it has waited past 1 ms it switches to starvation mode.
    /// </summary>
    [Fact]
    public void LongHoldsSwitchTheMutexToStarvationMode()
    {
        var r = Run(("locks", "20"), ("hold", "500us"), ("work", "1us"));
        Assert.Equal(80, r.Metrics["locks"]);
        Assert.True(r.Metrics["starvation_switches"] >= 1, $"no switch to starvation mode (parks: {r.Metrics["parks"]})");
        Assert.True(r.Metrics["parks"] >= 1);
    }
}
