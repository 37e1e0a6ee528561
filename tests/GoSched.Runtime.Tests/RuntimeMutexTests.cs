using GoSched.Internal;

namespace GoSched.Tests;

/// <summary>
/// The runtime's mutex (Internal/RuntimeMutex.cs): mutual exclusion, no lost wake-up when holders
/// are descheduled and waiters go to sleep, and sleepers of mutexes sharing a monitor stripe.
/// </summary>
public class RuntimeMutexTests
{
    private sealed class Guarded
    {
        public RuntimeMutex Mu;
        public long Count;   // only changed under Mu
        public int Inside;   // threads inside the critical section; must never exceed 1
        public int Overlaps;
    }

    /// <summary>
    /// More threads than CPUs hammer one mutex, sometimes yielding while they hold it so that the
    /// others exhaust their spins and sleep: every increment is kept (none lost to a race), no two
    /// threads are ever inside at once, and every thread finishes (no sleeper left unwoken).
    /// </summary>
    [Theory]
    [InlineData(2, 200_000)]
    [InlineData(8, 50_000)]
    public void ExcludesAndNeverLosesAWakeup(int threads, int perThread)
    {
        var g = new Guarded();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (int i = 0; i < perThread; i++)
            {
                g.Mu.Enter();
                if (Interlocked.Increment(ref g.Inside) != 1) Interlocked.Increment(ref g.Overlaps);
                g.Count++;
                if (i % 1024 == t) Thread.Yield(); // holder descheduled: waiters go to sleep
                Interlocked.Decrement(ref g.Inside);
                g.Mu.Exit();
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        foreach (var w in workers) Assert.True(w.Join(TimeSpan.FromSeconds(60)), "a thread never got the mutex (lost wake-up)");
        Assert.Equal(0, g.Overlaps);
        Assert.Equal((long)threads * perThread, g.Count);
        Assert.False(g.Mu.IsHeld);
    }

    /// <summary>
    /// Many mutexes (more than there are monitor stripes), each held long enough that its waiter
    /// sleeps: pulsing a shared stripe must wake the right sleeper, and the others go back to sleep.
    /// </summary>
    [Fact]
    public void SleepersOnSharedStripesAllWake()
    {
        const int Mutexes = 150; // > 64 stripes: some share a monitor
        var gs = Enumerable.Range(0, Mutexes).Select(_ => new Guarded()).ToArray();
        foreach (var g in gs) g.Mu.Enter();
        var waiters = gs.Select(g => new Thread(() =>
        {
            g.Mu.Enter();
            g.Count++;
            g.Mu.Exit();
        })).ToList();
        waiters.ForEach(w => w.Start());
        Thread.Sleep(200); // long past every waiter's spins: they sleep
        // Release in an order unrelated to the stripes.
        foreach (var g in gs.Reverse()) g.Mu.Exit();
        foreach (var w in waiters) Assert.True(w.Join(TimeSpan.FromSeconds(30)), "a sleeper was never woken");
        Assert.All(gs, g => Assert.Equal(1, g.Count));
        Assert.All(gs, g => Assert.False(g.Mu.IsHeld));
    }

    [Fact]
    public void UnlockOfUnlockedThrows()
    {
        var g = new Guarded();
        var e = Assert.Throws<RuntimeInvariantException>(() => g.Mu.Exit());
        Assert.Contains("unlock of unlocked lock", e.Message);
    }

    [Fact]
    public void ScopeReleasesOnException()
    {
        var g = new Guarded();
        void Throwing()
        {
            using (g.Mu.EnterScope())
            {
                Assert.True(g.Mu.IsHeld);
                throw new InvalidOperationException("inside");
            }
        }
        Assert.Throws<InvalidOperationException>(Throwing);
        Assert.False(g.Mu.IsHeld);
    }
}
