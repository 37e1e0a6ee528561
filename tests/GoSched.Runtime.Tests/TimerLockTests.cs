namespace GoSched.Tests;

/// <summary>
/// A P's timers lock: runOneTimer releases it around the timer's function, so a function that
/// adds or resets a timer on the same P (which takes that lock) goes ahead; a lock held across
/// it would deadlock (the lock is not re-entrant, as Go's is not).
/// </summary>
public class TimerLockTests
{
    /// <summary>How long a call that should return at once may take before the test calls it stuck (a noisy machine: generous).</summary>
    private static readonly TimeSpan Stuck = TimeSpan.FromSeconds(10);

    /// <summary>Runs a on a background thread; false if it has not returned within <see cref="Stuck"/> (it is left blocked).</summary>
    private static bool ReturnsWithin(Action a, out Exception? error)
    {
        Exception? e = null;
        var th = new Thread(() =>
        {
            try { a(); }
            catch (Exception ex) { e = ex; }
        }) { IsBackground = true };
        th.Start();
        bool done = th.Join(Stuck);
        error = e;
        return done;
    }

    /// <summary>
    /// The function of a due timer adds a timer to its own P and re-arms itself there (modtimer of
    /// a timer that ran: re-added under the P's lock), and stops and modifies a waiting one: all
    /// under checkTimers on that P, which holds the lock except while the function runs.
    /// </summary>
    [Fact]
    public void ATimersFunctionMayAddAndResetTimersOnItsOwnP()
    {
        using var h = new StandaloneTimers();
        var added = h.New(5000, 2);
        var waiting = h.Add(6000, 3);
        var other = h.Add(7000, 4);
        int runs = 0;
        var t = new RTimer { When = 1000, Arg = 1 };
        t.F = (arg, _) =>
        {
            h.Record(arg, 0);
            if (++runs > 1) return;
            h.Rt.AddTimer(added, h.P);  // addtimer: the P's lock (and cleantimers under it)
            h.Rt.ModTimer(t, 1500, 0, t.F, t.Arg, t.Seq, h.P); // ran, so off the heap: re-added under the lock
            h.Mod(waiting, 2000);       // on the heap: ModifiedEarlier, moved by the P later
            h.Rt.DelTimer(other);
        };
        h.Rt.AddTimer(t, h.P);
        long pollUntil = 0;
        Assert.True(ReturnsWithin(() => h.Rt.CheckTimers(h.M, h.P, 3000, out pollUntil, out _), out var error),
            "checkTimers did not return: the timer's function ran with the P's timers lock held");
        Assert.Null(error);
        // Ran at 1000, re-armed for 1500 and ran again; the added one waits for 5000.
        Assert.Equal(new[] { 1, 1 }, h.Fired);
        Assert.Equal(5000, pollUntil);
        // The next look moves the timer modified earlier to 2000 (adjusttimers) and runs it; the
        // stopped one never runs.
        h.Rt.CheckTimers(h.M, h.P, 3000, out pollUntil, out _);
        Assert.Equal(new[] { 1, 1, 3 }, h.Fired);
        Assert.Equal(5000, pollUntil);
        Assert.False(h.P.TimersLock.IsHeld);
        h.Locked(p => GoRuntime.VerifyTimerHeap(p));
    }

    /// <summary>
    /// The same in a running runtime at GOMAXPROCS=1 (every timer on the one P, run by its M): a
    /// timer whose function re-arms itself and adds a new timer, 20 times, gives exactly 20
    /// firings of each and no more.
    /// </summary>
    [Fact]
    public async Task ATimerChainThatReArmsItselfFromItsFunctionFiresOncePerLink()
    {
        const int links = 20;
        int chainRuns = 0, leafRuns = 0, leftAfter = -1;
        var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0,verifytimers=1"));
        // Bounded from outside: a deadlocked M holds its P's timers lock, and stopping the runtime
        // may wait on that lock too, so neither the run nor Dispose would return.
        var run = Task.Run(() => rt.Run(() => Main(), TimeSpan.FromSeconds(30)));
        if (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))) != run)
            Assert.Fail("the run never ended: a timer's function that takes its P's timers lock deadlocks if runOneTimer holds it");
        rt.Dispose();
        var r = await run;
        Assert.True(r.Error == null, $"the run failed: {r.Error}");
        Assert.Equal(links, chainRuns);
        Assert.Equal(links, leafRuns);
        Assert.Equal(0, leftAfter);

        async GoTask Main()
        {
            var fired = new Chan<int>(2 * links + 8);
            var leafF = new Action<object?, long>((_, _) =>
            {
                Interlocked.Increment(ref leafRuns);
                fired.SelectNbSend(2);
            });
            var chain = new RTimer { When = Go.When(500_000) };
            chain.F = (_, _) =>
            {
                var grt = GoRuntime.Current;
                // addtimer on the P whose timers are running: its lock.
                grt.AddTimer(new RTimer { When = Go.When(200_000), F = leafF });
                if (Interlocked.Increment(ref chainRuns) < links) grt.ResetTimer(chain, Go.When(200_000)); // re-added under the lock
                fired.SelectNbSend(1);
            };
            GoRuntime.Current.AddTimer(chain);
            for (int i = 0; i < 2 * links; i++) await fired.Recv();
            await Go.Sleep(TimeSpan.FromMilliseconds(20));
            leftAfter = fired.Count;
        }
    }
}

/// <summary>
/// checkTimers' early return (nothing due yet) mirrors its decision to call clearDeletedTimers:
/// it goes on to take the P's timers lock only when the 1/4 rule would clear something there.
/// </summary>
public class CheckTimersEarlyReturnTests
{
    /// <summary>
    /// A heap whose first timer is not due, with three of its four timers stopped (more than a
    /// quarter), checked by its own P while another thread holds its timers lock: with the rule
    /// on, checkTimers waits for the lock and clears the three; with it off (timerclear=0),
    /// nothing would be cleared, so it returns at once, the next timer's time as pollUntil, and
    /// leaves the heap as it was. (It used to test the 1/4 condition alone, and waited for the
    /// lock with the rule off.)
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CheckTimersTakesTheLockForDeletedTimersOnlyWhenTheRuleWouldClearThem(bool clear)
    {
        using var h = new StandaloneTimers(clear ? "" : "timerclear=0");
        var ts = Enumerable.Range(0, 4).Select(i => h.Add(1000 + i, i)).ToArray();
        for (int i = 1; i < 4; i++) Assert.True(h.Rt.DelTimer(ts[i]));
        long pollUntil = -1;
        var check = new Thread(() => h.Rt.CheckTimers(h.M, h.P, 500, out pollUntil, out _)) { IsBackground = true };
        h.P.TimersLock.Enter();
        try
        {
            check.Start();
            if (clear)
            {
                Assert.False(check.Join(200), "checkTimers went ahead without the lock it needs to clear deleted timers");
            }
            else
            {
                Assert.True(check.Join(TimeSpan.FromSeconds(10)), "with the 1/4 rule off, checkTimers waited for the lock although it would clear nothing");
                Assert.Equal(1000, pollUntil);
            }
        }
        finally { h.P.TimersLock.Exit(); }
        Assert.True(check.Join(TimeSpan.FromSeconds(10)));
        Assert.Equal(clear ? 1 : 4, h.P.TimersLen);
        Assert.Equal(clear ? 0 : 3, h.P.DeletedTimers);
        Assert.Equal(clear ? 3 : 0, h.P.ClearedDeletedTimers);
        Assert.Empty(h.Fired);
    }
}
