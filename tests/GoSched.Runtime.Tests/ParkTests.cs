// Worker-thread parking and waking (Park.cs) with real Ms on a runtime that runs no goroutine: the
// test thread plays the submitter that calls wakep, and waits for the M it woke to park again.
namespace GoSched.Tests;

public class ParkTests
{
    /// <summary>
    /// Every wakep that starts an M starts one spinning episode, counted once in the Spins of the
    /// P it spins on: the first wakep makes a new M (mstart), every later one wakes that M from
    /// the idle list (stopm returns into findRunnable, already spinning). With nothing to find,
    /// each episode ends in findRunnable's drop of nmspinning before the M parks, and no other
    /// begins: there is no work, and with every P idle nobody sets needspinning. Before each
    /// wakep the M is parked, no M spins and both Ps are idle, so wakep must start it; startm
    /// takes it off the idle list before wakep returns, so the wait for it to be idle again is a
    /// wait for the end of the episode (which may have come already).
    /// </summary>
    [Fact]
    public void EveryMStartedSpinningByWakepCountsOneSpin()
    {
        const int wakeups = 50;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")).Start();
        var sched = rt.SchedState;
        for (int i = 0; i < wakeups; i++)
        {
            using (sched.Lock.EnterScope())
            {
                Assert.Equal(i == 0 ? 0 : 1, sched.NmIdle);
                Assert.Equal(0, Volatile.Read(ref sched.NmSpinning));
                Assert.Equal(2, sched.NPIdle);
            }
            rt.WakeP();
            Assert.Equal(1, Interlocked.Read(ref sched.MNext)); // startm made the first M, and then woke it
            Assert.True(SpinWait.SpinUntil(() => { using (sched.Lock.EnterScope()) return sched.NmIdle == 1; }, TimeSpan.FromSeconds(30)),
                $"wake-up {i + 1}: the M did not park again");
        }
        using (sched.Lock.EnterScope())
        {
            long spins = rt.AllP.Sum(p => p.Counters.Spins);
            Assert.True(spins == wakeups, $"{spins} spins counted for {wakeups} Ms started spinning by wakep: " +
                string.Join(", ", rt.AllP.Select(p => $"P{p.Id}={p.Counters.Spins}")));
        }
    }

    /// <summary>
    /// wakep with every P busy: the first call takes sched.lock, finds no idle P and sets
    /// needspinning (Go 1.21's pidlegetSpinning); while that flag stands, later calls have nothing
    /// to add and return without the lock (the fast path in WakeP). Shown by holding sched.lock
    /// from the test thread: the first call waits for it, the second returns while it is held
    /// (without the fast path it would wait too, and this test would time out). The only P runs
    /// one goroutine in Go.Work with preemption out of reach, so nothing else clears the flag.
    /// </summary>
    [Fact]
    public void WakepWithEveryPBusyTakesTheLockOnlyToSetNeedSpinning()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0,forcepreemptns=3600000000000")).Start();
        var sched = rt.SchedState;
        int working = 0;
        rt.Go(async () => { Volatile.Write(ref working, 1); await Go.Work(TimeSpan.FromMinutes(10)); });
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref working) == 1 && Volatile.Read(ref sched.NPIdle) == 0, TimeSpan.FromSeconds(30)),
            "the goroutine did not start on the only P");
        Volatile.Write(ref sched.NeedSpinning, 0);

        var first = new Thread(rt.WakeP);
        using (sched.Lock.EnterScope())
        {
            first.Start();
            Assert.False(first.Join(TimeSpan.FromMilliseconds(200)), "wakep returned without sched.lock while needspinning was clear");
        }
        Assert.True(first.Join(TimeSpan.FromSeconds(30)), "wakep did not return once sched.lock was free");
        Assert.Equal(1, Volatile.Read(ref sched.NeedSpinning));
        Assert.Equal(0, Volatile.Read(ref sched.NmSpinning));

        var second = new Thread(rt.WakeP);
        using (sched.Lock.EnterScope())
        {
            second.Start();
            Assert.True(second.Join(TimeSpan.FromSeconds(30)), "wakep waited for sched.lock with no idle P and needspinning already set");
        }
        Assert.Equal(1, Volatile.Read(ref sched.NeedSpinning));
        Assert.Equal(0, Volatile.Read(ref sched.NmSpinning));
    }
}
