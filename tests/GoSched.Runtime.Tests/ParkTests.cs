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
}
