// Semaphores that outlive a runtime (shared with the host or with another runtime): a waiter of a
// runtime that has stopped, or is stopping, never runs again, and a release must neither hand it
// the lock nor leave its unit over for a later semacquire. Found by a review of the sync rewrite.
namespace GoSched.Tests;

public class SharedSemaTests
{
    private static GoRuntime New(string knobs) => new(GoConfig.Parse(knobs + ",sampleperiodus=0"));

    /// <summary>
    /// A WaitGroup whose waiter belonged to a runtime that stopped: the release meant for it must not
    /// be left over for the next use of the WaitGroup (a Wait that returns before Done).
    /// </summary>
    [Fact]
    public void AWaitGroupOutlivingAWaiterOfAStoppedRuntimeStillWaits()
    {
        var wg = new WaitGroup();
        wg.Add(1);
        using (var rtA = New("gomaxprocs=1"))
        {
            var r = rtA.Run(async () =>
            {
                Waiter(wg);
                await Go.Gosched(); // the waiter parks
                await Go.Gosched();
            }, TimeSpan.FromSeconds(20));
            Assert.Null(r.Error);
        }
        wg.Done(); // wakes nobody: its waiter was dropped
        bool doneFirst = false;
        using var rtB = New("gomaxprocs=1");
        var rb = rtB.Run(async () =>
        {
            wg.Add(1);
            Doer(wg);
            await wg.Wait();
            doneFirst = Volatile.Read(ref s_done);
        }, TimeSpan.FromSeconds(20));
        Assert.Null(rb.Error);
        Assert.True(doneFirst, "Wait returned before Done");

        static async GoTask Waiter(WaitGroup wg) => await wg.Wait();
        static async GoTask Doer(WaitGroup wg) { await Go.Gosched(); Volatile.Write(ref s_done, true); wg.Done(); }
    }
    private static bool s_done;

    /// <summary>
    /// A starving Mutex shared by two runtimes, unlocked while the first waiter's runtime is stopping
    /// (its goroutines not yet dropped): the hand-off must not give the lock to a goroutine that will
    /// never run, or the mutex stays handed to nobody and every later Lock waits forever.
    /// </summary>
    [Fact]
    public void AStarvingHandOffDuringTheWaitersRuntimeStopIsNotLost()
    {
        var mu = new Mutex();
        var gate = new ManualResetEventSlim();
        var aParked = new ManualResetEventSlim();
        Assert.True(mu.TryLock()); // the host holds it
        var rtA = New("gomaxprocs=2");
        var runA = rtA.RunAsync(async () =>
        {
            WaiterA(mu);
            Blocker(gate);
            while (mu.Waiters == 0) await Go.Sleep(TimeSpan.FromMilliseconds(1));
            aParked.Set();
        }, TimeSpan.FromSeconds(30));
        aParked.Wait();
        // Wait for A to be stopping (main returned), its M held in the blocking syscall.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!rtA.Stopping && DateTime.UtcNow < deadline) Thread.Sleep(1);
        Assert.True(rtA.Stopping);
        // Starvation mode with A's goroutine first in the queue (as after its wait of > 1 ms).
        var field = typeof(Mutex).GetField("_state", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        field.SetValue(mu, (int)field.GetValue(mu)! | 4);
        mu.Unlock(); // the host hands it over
        gate.Set();
#pragma warning disable xUnit1031
        Assert.Null(runA.GetAwaiter().GetResult().Error);
#pragma warning restore xUnit1031
        using var rtB = New("gomaxprocs=2");
        var rb = rtB.Run(async () =>
        {
            await mu.Lock();
            mu.Unlock();
        }, TimeSpan.FromSeconds(10));
        Assert.Null(rb.Error);

        static async GoTask WaiterA(Mutex mu) { await mu.Lock(); mu.Unlock(); }
        static async GoTask Blocker(ManualResetEventSlim gate) => await Go.SyscallBlock(() => gate.Wait());
    }

    /// <summary>
    /// A Cond whose oldest waiter belonged to a runtime that stopped: Signal wakes a goroutine that
    /// runs, the next waiter, rather than spend itself on the dropped one (as a channel or a
    /// Mutex passes a wake-up on past a dropped waiter).
    /// </summary>
    [Fact]
    public void ACondSignalGoesPastAWaiterOfAStoppedRuntime()
    {
        var mu = new Mutex();
        var c = new Cond(mu);
        using (var rtA = New("gomaxprocs=1"))
        {
            var r = rtA.Run(async () =>
            {
                var ready = new Chan<bool>(1);
                W(ready, null);
                await ready.Recv();
                await mu.Lock(); // W is in Wait (it took its ticket before unlocking)
                mu.Unlock();
            }, TimeSpan.FromSeconds(20));
            Assert.Null(r.Error);
        }
        using var rtB = New("gomaxprocs=1");
        var rb = rtB.Run(async () =>
        {
            var ready = new Chan<bool>(1);
            var done = new Chan<bool>(1);
            W(ready, done);
            await ready.Recv();
            await mu.Lock();
            c.Signal();
            mu.Unlock();
            await done.Recv();
        }, TimeSpan.FromSeconds(20));
        Assert.Null(rb.Error);

        async GoTask W(Chan<bool> ready, Chan<bool>? done)
        {
            await mu.Lock();
            await ready.Send(true);
            await c.Wait();
            mu.Unlock();
            if (done != null) await done.Send(true);
        }
    }
}
