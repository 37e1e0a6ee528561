namespace GoSched.Tests;

/// <summary>
/// The timer status table at the top of Timers.cs, row by row: each operation from each status it
/// accepts ends in the status the table gives, the statuses it waits out are waited out (released
/// by another thread), and the statuses it must never see throw Go's badTimer ("timer data corruption").
/// </summary>
public class TimerTransitionTests
{
    /// <summary>TimerStatus by the same names and values, public for the theories' parameters.</summary>
    public enum St { NoStatus = 0, Waiting, Running, Deleted, Removing, Removed, Modifying, ModifiedEarlier, ModifiedLater, Moving }

    [Fact]
    public void TheRowsNameTheRuntimesStatuses() =>
        Assert.Equal(Enum.GetValues<TimerStatus>().Select(s => $"{s}={(int)s}"), Enum.GetValues<St>().Select(s => $"{s}={(int)s}"));

    private const long When = 1000;
    private const long Earlier = 400;
    private const long Later = 1600;

    /// <summary>
    /// A timer in status s: resting statuses are reached by the operations that produce them;
    /// transient ones (Running, Removing, Moving, Modifying) and bad ones are forced onto a timer
    /// on the heap, as another thread in the middle of an operation would leave it.
    /// </summary>
    private static RTimer InState(StandaloneTimers h, TimerStatus s, long period = 0)
    {
        switch (s)
        {
            case TimerStatus.NoStatus:
                return h.New(When, 0, period);
            case TimerStatus.Waiting:
                return h.Add(When, 0, period);
            case TimerStatus.Deleted:
            {
                var t = h.Add(When, 0, period);
                Assert.True(h.Rt.DelTimer(t));
                return t;
            }
            case TimerStatus.ModifiedEarlier:
            case TimerStatus.ModifiedLater:
            {
                var t = h.Add(When, 0, period);
                Assert.True(h.Mod(t, s == TimerStatus.ModifiedEarlier ? Earlier : Later));
                return t;
            }
            case TimerStatus.Removed:
            {
                var t = InState(h, TimerStatus.Deleted, period);
                h.Locked(p => h.Rt.CleanTimers(p));
                return t;
            }
            default:
                return Forced(h, s, period);
        }
    }

    /// <summary>A timer on the heap forced into status s (one the heap should never hold, or a transient one).</summary>
    private static RTimer Forced(StandaloneTimers h, TimerStatus s, long period = 0)
    {
        var t = h.Add(When, 0, period);
        t.Status = (int)s;
        return t;
    }

    private static void AssertOnHeap(StandaloneTimers h, RTimer t, bool on)
    {
        bool found = h.P.Timers.Take(h.P.TimersLen).Contains(t);
        Assert.Equal(on, found);
        if (on) Assert.Same(h.P, t.PP);
        else Assert.Null(t.PP);
        Assert.Equal(h.P.TimersLen, h.P.NumTimers);
    }

    private static void AssertBadTimer(Action a)
    {
        var e = Assert.Throws<RuntimeInvariantException>(a);
        Assert.StartsWith("timer data corruption", e.Message);
    }

    /// <summary>Runs op on another thread with t forced into status s; op must not finish until t leaves s.</summary>
    private static void AssertWaitsOut(RTimer t, TimerStatus s, TimerStatus release, Action op)
    {
        t.Status = (int)s;
        Exception? error = null;
        var th = new Thread(() =>
        {
            try { op(); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true };
        th.Start();
        Assert.False(th.Join(50), $"the operation went ahead while the timer was {s}");
        Volatile.Write(ref t.Status, (int)release);
        Assert.True(th.Join(10_000), $"the operation still waits after the timer left {s}");
        Assert.Null(error);
    }

    // --- addtimer: NoStatus -> Waiting ---

    [Fact]
    public void AddTimerMovesNoStatusToWaitingOnTheHeap()
    {
        using var h = new StandaloneTimers();
        var t = h.Add(When, 0);
        Assert.Equal(TimerStatus.Waiting, t.State);
        AssertOnHeap(h, t, true);
        Assert.Equal(When, h.P.Timer0When);
    }

    [Theory]
    [InlineData(St.Waiting)]
    [InlineData(St.Deleted)]
    [InlineData(St.ModifiedLater)]
    [InlineData(St.Running)]
    public void AddTimerOfAnInitializedTimerThrows(St status)
    {
        var s = (TimerStatus)status;
        using var h = new StandaloneTimers();
        var t = InState(h, s);
        var e = Assert.Throws<RuntimeInvariantException>(() => h.Rt.AddTimer(t, h.P));
        Assert.Contains("addtimer called with initialized timer", e.Message);
    }

    // --- deltimer ---

    [Theory]
    [InlineData(St.Waiting, St.Deleted, true)]
    [InlineData(St.ModifiedEarlier, St.Deleted, true)]
    [InlineData(St.ModifiedLater, St.Deleted, true)]
    [InlineData(St.NoStatus, St.NoStatus, false)]
    [InlineData(St.Deleted, St.Deleted, false)]
    [InlineData(St.Removing, St.Removing, false)]
    [InlineData(St.Removed, St.Removed, false)]
    public void DelTimerRow(St fromStatus, St toStatus, bool stopped)
    {
        var (from, to) = ((TimerStatus)fromStatus, (TimerStatus)toStatus);
        using var h = new StandaloneTimers();
        var t = InState(h, from);
        int deleted = h.P.DeletedTimers;
        Assert.Equal(stopped, h.Rt.DelTimer(t));
        Assert.Equal(to, t.State);
        // Lazy: a stopped timer stays on its heap, counted as deleted, until its P removes it.
        Assert.Equal(deleted + (stopped ? 1 : 0), h.P.DeletedTimers);
    }

    [Theory]
    [InlineData(St.Running, St.NoStatus, false)]  // a one-shot timer ran meanwhile
    [InlineData(St.Running, St.Waiting, true)]    // a periodic one ran and is waiting again
    [InlineData(St.Moving, St.Waiting, true)]
    [InlineData(St.Modifying, St.ModifiedLater, true)]
    public void DelTimerWaitsOut(St busyStatus, St releaseStatus, bool stopped)
    {
        var (busy, release) = ((TimerStatus)busyStatus, (TimerStatus)releaseStatus);
        using var h = new StandaloneTimers();
        var t = InState(h, TimerStatus.Waiting);
        bool got = !stopped;
        AssertWaitsOut(t, busy, release, () => got = h.Rt.DelTimer(t));
        Assert.Equal(stopped, got);
        Assert.Equal(stopped ? TimerStatus.Deleted : release, t.State);
    }

    // --- modtimer ---

    [Theory]
    [InlineData(St.Waiting, Earlier, St.ModifiedEarlier, true, true)]
    [InlineData(St.Waiting, Later, St.ModifiedLater, true, true)]
    [InlineData(St.ModifiedEarlier, Later, St.ModifiedLater, true, true)]
    [InlineData(St.ModifiedEarlier, 200L, St.ModifiedEarlier, true, true)]
    [InlineData(St.ModifiedLater, Earlier, St.ModifiedEarlier, true, true)]
    [InlineData(St.ModifiedLater, 2000L, St.ModifiedLater, true, true)]
    [InlineData(St.Deleted, Earlier, St.ModifiedEarlier, false, true)]
    [InlineData(St.Deleted, Later, St.ModifiedLater, false, true)]
    [InlineData(St.NoStatus, Later, St.Waiting, false, true)]
    [InlineData(St.Removed, Earlier, St.Waiting, false, true)]
    public void ModTimerRow(St fromStatus, long when, St toStatus, bool pending, bool onHeap)
    {
        var (from, to) = ((TimerStatus)fromStatus, (TimerStatus)toStatus);
        using var h = new StandaloneTimers();
        var t = InState(h, from);
        Assert.Equal(pending, h.Mod(t, when));
        Assert.Equal(to, t.State);
        AssertOnHeap(h, t, onHeap);
        // The new time is in When for a timer (re)added here, in NextWhen for one its P must move.
        Assert.Equal(when, to == TimerStatus.Waiting ? t.When : t.NextWhen);
        if (to == TimerStatus.ModifiedEarlier) Assert.True(h.P.TimerModifiedEarliest is > 0 and <= Earlier);
        // A revived deleted timer is no longer counted as deleted.
        Assert.Equal(0, h.P.DeletedTimers);
    }

    [Theory]
    [InlineData(St.Running)]
    [InlineData(St.Removing)]
    [InlineData(St.Moving)]
    [InlineData(St.Modifying)]
    public void ModTimerWaitsOut(St busyStatus)
    {
        var busy = (TimerStatus)busyStatus;
        using var h = new StandaloneTimers();
        var t = InState(h, TimerStatus.Waiting);
        bool pending = false;
        AssertWaitsOut(t, busy, TimerStatus.Waiting, () => pending = h.Mod(t, Later));
        Assert.True(pending);
        Assert.Equal(TimerStatus.ModifiedLater, t.State);
    }

    [Fact]
    public void AStatusOutsideTheTableIsBadTimerForDelAndMod()
    {
        using var h = new StandaloneTimers();
        var t = InState(h, TimerStatus.Waiting);
        t.Status = 42;
        AssertBadTimer(() => h.Rt.DelTimer(t));
        AssertBadTimer(() => h.Mod(t, Later));
    }

    // --- the heap owner: cleantimers, adjusttimers, runtimer, clearDeletedTimers ---

    public enum Owner { Clean, Adjust, Run, ClearDeleted }

    private static void RunOwner(StandaloneTimers h, Owner op, long now) => h.Locked(p =>
    {
        switch (op)
        {
            case Owner.Clean: h.Rt.CleanTimers(p); break;
            case Owner.Adjust:
                // adjusttimers only works once the earliest modified-earlier timer is due: make it so.
                p.TimerModifiedEarliest = 1;
                h.Rt.AdjustTimers(p, now);
                break;
            case Owner.Run:
                if (p.TimersLen > 0) h.Rt.RunTimer(p, now);
                break;
            case Owner.ClearDeleted: h.Rt.ClearDeletedTimers(p); break;
        }
    });

    [Theory]
    // Deleted -> Removing -> Removed (off the heap, no longer counted).
    [InlineData(Owner.Clean, St.Deleted, 300L, St.Removed, false, When)]
    [InlineData(Owner.Adjust, St.Deleted, 300L, St.Removed, false, When)]
    [InlineData(Owner.Run, St.Deleted, 300L, St.Removed, false, When)]
    [InlineData(Owner.ClearDeleted, St.Deleted, 300L, St.Removed, false, When)]
    // ModifiedXX -> Moving -> Waiting at the new time.
    [InlineData(Owner.Clean, St.ModifiedEarlier, 300L, St.Waiting, true, Earlier)]
    [InlineData(Owner.Clean, St.ModifiedLater, 300L, St.Waiting, true, Later)]
    [InlineData(Owner.Adjust, St.ModifiedEarlier, 300L, St.Waiting, true, Earlier)]
    [InlineData(Owner.Adjust, St.ModifiedLater, 300L, St.Waiting, true, Later)]
    [InlineData(Owner.Run, St.ModifiedEarlier, 300L, St.Waiting, true, Earlier)]
    [InlineData(Owner.Run, St.ModifiedLater, 1200L, St.Waiting, true, Later)]
    [InlineData(Owner.ClearDeleted, St.ModifiedEarlier, 300L, St.Waiting, true, Earlier)]
    [InlineData(Owner.ClearDeleted, St.ModifiedLater, 300L, St.Waiting, true, Later)]
    // Waiting and not due: left alone.
    [InlineData(Owner.Clean, St.Waiting, 300L, St.Waiting, true, When)]
    [InlineData(Owner.Adjust, St.Waiting, 300L, St.Waiting, true, When)]
    [InlineData(Owner.Run, St.Waiting, 300L, St.Waiting, true, When)]
    [InlineData(Owner.ClearDeleted, St.Waiting, 300L, St.Waiting, true, When)]
    // runtimer: Waiting and due -> Running -> NoStatus (one-shot: off the heap, fired once).
    [InlineData(Owner.Run, St.Waiting, 1000L, St.NoStatus, false, When)]
    // ModifiedEarlier due: moved, then run in the same call.
    [InlineData(Owner.Run, St.ModifiedEarlier, 500L, St.NoStatus, false, Earlier)]
    public void OwnerRow(Owner op, St fromStatus, long now, St toStatus, bool onHeap, long when)
    {
        var (from, to) = ((TimerStatus)fromStatus, (TimerStatus)toStatus);
        using var h = new StandaloneTimers();
        var t = InState(h, from);
        RunOwner(h, op, now);
        Assert.Equal(to, t.State);
        AssertOnHeap(h, t, onHeap);
        Assert.Equal(0, h.P.DeletedTimers);
        Assert.Equal(when, t.When);
        bool fired = to == TimerStatus.NoStatus;
        Assert.Equal(fired ? new[] { 0 } : Array.Empty<int>(), h.Fired);
        Assert.Equal(onHeap ? t.When : 0, h.P.Timer0When);
    }

    [Fact]
    public void RunTimerLeavesAPeriodicTimerWaitingAtTheFirstPeriodBoundaryAfterNow()
    {
        using var h = new StandaloneTimers();
        var t = InState(h, TimerStatus.Waiting, period: 100);
        // Due at 1000; run at 1350: the periods at 1100, 1200 and 1300 were missed and are skipped.
        long tw = h.Locked(p => h.Rt.RunTimer(p, 1350));
        Assert.Equal(0, tw);
        Assert.Equal(new[] { 0 }, h.Fired);
        Assert.Equal(TimerStatus.Waiting, t.State);
        Assert.Equal(1400, t.When);
        AssertOnHeap(h, t, true);
        Assert.Equal(1400, h.P.Timer0When);
        // The next call sees it not yet due.
        Assert.Equal(1400, h.Locked(p => h.Rt.RunTimer(p, 1350)));
        Assert.Single(h.Fired);
    }

    [Fact]
    public void AdjustTimersWaitsUntilTheEarliestModifiedTimerIsDue()
    {
        using var h = new StandaloneTimers();
        var other = h.Add(2000, 1);
        var t = InState(h, TimerStatus.ModifiedEarlier);
        Assert.Equal(Earlier, h.P.TimerModifiedEarliest);
        h.Locked(p => h.Rt.AdjustTimers(p, Earlier - 1));
        Assert.Equal(TimerStatus.ModifiedEarlier, t.State);
        h.Locked(p => h.Rt.AdjustTimers(p, Earlier));
        Assert.Equal(TimerStatus.Waiting, t.State);
        Assert.Equal(Earlier, h.P.Timer0When);
        Assert.Equal(0, h.P.TimerModifiedEarliest);
        Assert.Equal(TimerStatus.Waiting, other.State);
    }

    [Theory]
    [InlineData(Owner.Adjust)]
    [InlineData(Owner.Run)]
    [InlineData(Owner.ClearDeleted)]
    public void OwnerWaitsOutModifying(Owner op)
    {
        using var h = new StandaloneTimers();
        var t = InState(h, TimerStatus.Waiting);
        AssertWaitsOut(t, TimerStatus.Modifying, TimerStatus.Waiting, () => RunOwner(h, op, 300));
        Assert.Equal(TimerStatus.Waiting, t.State);
        AssertOnHeap(h, t, true);
    }

    [Theory]
    [InlineData(Owner.Adjust, St.NoStatus)]
    [InlineData(Owner.Adjust, St.Running)]
    [InlineData(Owner.Adjust, St.Removing)]
    [InlineData(Owner.Adjust, St.Removed)]
    [InlineData(Owner.Adjust, St.Moving)]
    [InlineData(Owner.Run, St.NoStatus)]
    [InlineData(Owner.Run, St.Running)]
    [InlineData(Owner.Run, St.Removing)]
    [InlineData(Owner.Run, St.Removed)]
    [InlineData(Owner.Run, St.Moving)]
    [InlineData(Owner.ClearDeleted, St.NoStatus)]
    [InlineData(Owner.ClearDeleted, St.Running)]
    [InlineData(Owner.ClearDeleted, St.Removing)]
    [InlineData(Owner.ClearDeleted, St.Removed)]
    [InlineData(Owner.ClearDeleted, St.Moving)]
    public void OwnerSeeingAStatusThatCannotBeOnItsHeapIsBadTimer(Owner op, St badStatus)
    {
        var bad = (TimerStatus)badStatus;
        using var h = new StandaloneTimers();
        Forced(h, bad);
        AssertBadTimer(() => RunOwner(h, op, 300));
    }
}
