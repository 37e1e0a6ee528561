// Timers (time.go): a 4-ary heap of timers on every P, run by the scheduler itself.
//
// Why per-P heaps: one global timer structure would be a point of contention for every sleep,
// ticker and timeout in the program, and would need its own thread to run it. Instead each P owns
// a heap ordered by `when`, protected by the P's TimersLock, and whichever M holds the P runs its
// due timers at the top of findRunnable (checkTimers). Idle Ps' timers are run by stealing Ms on
// stealWork's last pass, and an M with nothing to do sleeps exactly until the earliest timer of
// all Ps (the poll deadline; netpoll's place, see FindRunnable).
//
// Why lazy deletion and status words: stopping or resetting a timer must not need the owning P's
// lock (the goroutine doing it may run on another P). So deltimer and modtimer only CAS the
// timer's status; the P that owns the heap moves or removes the timer the next time it looks
// (cleantimers at the heap's top, adjusttimers once the earliest modified-earlier timer is due,
// clearDeletedTimers when deleted timers exceed a quarter of the heap: the 1/4 rule, a knob).
//
// The status machine, one row per operation (Go's table; anything not listed is badTimer):
//   addtimer:      NoStatus -> Waiting
//   deltimer:      Waiting | ModifiedEarlier | ModifiedLater -> Modifying -> Deleted
//                  NoStatus | Deleted | Removing | Removed -> (nothing; returns false)
//                  Running | Moving | Modifying -> wait until the status changes
//   modtimer:      Waiting | ModifiedXX -> Modifying -> ModifiedYY      (still on the heap)
//                  NoStatus | Removed -> Modifying -> Waiting           (added to the current P)
//                  Deleted -> Modifying -> ModifiedXX                   (revived on its heap)
//                  Running | Removing | Moving | Modifying -> wait
//   cleantimers,   Deleted -> Removing -> Removed
//   adjusttimers:  ModifiedXX -> Moving -> Waiting
//   runtimer:      Waiting -> Running -> NoStatus (one-shot) or -> Waiting (periodic)
//                  Modifying -> wait;  NoStatus | Removed | Removing | Moving | Running -> badTimer
// Only the P's owner (holding TimersLock) moves a timer out of Deleted/ModifiedXX or into
// Running; anyone may move Waiting/ModifiedXX/Deleted through Modifying.
using GoSched.Internal;

namespace GoSched;

/// <summary>A timer's status (time.go timerNoStatus..timerMoving).</summary>
internal enum TimerStatus
{
    NoStatus = 0, Waiting, Running, Deleted, Removing, Removed, Modifying, ModifiedEarlier, ModifiedLater, Moving,
}

/// <summary>A runtime timer. Mirrors runtime.timer.</summary>
internal sealed class RTimer
{
    /// <summary>The P whose heap holds it (null when on none). Written under that P's TimersLock.</summary>
    public P? PP;
    /// <summary>When it fires (nanotime); positive while active.</summary>
    public long When;
    /// <summary>Re-fire every Period ns (0: one-shot).</summary>
    public long Period;
    /// <summary>Called with the timer lock released, on the M running the timer; must not block.</summary>
    public Action<object?, long>? F;
    public object? Arg;
    public long Seq;
    /// <summary>What When becomes in a ModifiedXX status.</summary>
    public long NextWhen;
    public int Status;

    public TimerStatus State => (TimerStatus)Volatile.Read(ref Status);

    public bool Cas(TimerStatus from, TimerStatus to) =>
        Interlocked.CompareExchange(ref Status, (int)to, (int)from) == (int)from;
}

public sealed partial class GoRuntime
{
    /// <summary>The largest when: a timer that overflowed fires never.</summary>
    internal const long MaxWhen = long.MaxValue;

    private static void BadTimer(string where = "") => Throw("timer data corruption" + (where.Length > 0 ? $" ({where})" : ""));

    /// <summary>
    /// Adds a new timer to the current P's heap. Called from a goroutine. Mirrors runtime.addtimer.
    /// on: the P whose heap gets it instead of the current one (test seam; null in the runtime).
    /// </summary>
    internal void AddTimer(RTimer t, P? on = null)
    {
        if (t.When <= 0) Throw("timer when must be positive");
        if (t.Period < 0) Throw("timer period must be non-negative");
        if (t.State != TimerStatus.NoStatus) Throw("addtimer called with initialized timer");
        // The P first: a usage error (no goroutine) must leave the timer as it was.
        P pp = on ?? CurrentP("addtimer");
        t.Status = (int)TimerStatus.Waiting;
        long when = t.When;
        using (pp.TimersLock.EnterScope())
        {
            CleanTimers(pp);
            DoAddTimer(pp, t);
        }
        WakeNetPoller(when);
    }

    /// <summary>Adds t to pp's heap. TimersLock must be held. Mirrors runtime.doaddtimer.</summary>
    private void DoAddTimer(P pp, RTimer t)
    {
        // Timers rely on the network poller, so make sure the poller has started (netpollGenericInit):
        // made at the first blocking poll instead, its setup was part of the first timer's lateness.
        _poller.EnsureInit();
        if (t.PP != null) Throw("doaddtimer: P already set in timer");
        t.PP = pp;
        int i = pp.TimersLen;
        if (i == pp.Timers.Length) Array.Resize(ref pp.Timers, Math.Max(16, i * 2));
        pp.Timers[i] = t;
        pp.TimersLen = i + 1;
        SiftUpTimer(pp.Timers, i);
        if (t == pp.Timers[0]) Volatile.Write(ref pp.Timer0When, t.When);
        Interlocked.Increment(ref pp.NumTimers);
        if (_config.TimerCheckHeap) VerifyTimerHeap(pp);
    }

    /// <summary>
    /// Stops t: marks it deleted; its P removes it later. Can run on any thread. True if this call
    /// stopped it before it ran. Mirrors runtime.deltimer.
    /// </summary>
    internal bool DelTimer(RTimer t)
    {
        while (true)
        {
            var s = t.State;
            switch (s)
            {
                case TimerStatus.Waiting:
                case TimerStatus.ModifiedLater:
                case TimerStatus.ModifiedEarlier:
                    if (t.Cas(s, TimerStatus.Modifying))
                    {
                        P tpp = t.PP!;
                        if (!t.Cas(TimerStatus.Modifying, TimerStatus.Deleted)) BadTimer("deltimer");
                        Interlocked.Increment(ref tpp.DeletedTimers);
                        return true;
                    }
                    break;
                case TimerStatus.Deleted:
                case TimerStatus.Removing:
                case TimerStatus.Removed:
                case TimerStatus.NoStatus:
                    return false;
                case TimerStatus.Running:
                case TimerStatus.Moving:
                case TimerStatus.Modifying:
                    Thread.Yield(); // osyield: the other side holds it for a few instructions
                    break;
                default:
                    BadTimer("deltimer");
                    break;
            }
        }
    }

    /// <summary>Removes the timer at heap index i. TimersLock must be held. Returns the smallest index changed. Mirrors runtime.dodeltimer.</summary>
    private static int DoDelTimer(P pp, int i)
    {
        var timers = pp.Timers;
        if (timers[i]!.PP != pp) Throw("dodeltimer: wrong P");
        timers[i]!.PP = null;
        int last = pp.TimersLen - 1;
        if (i != last) timers[i] = timers[last];
        timers[last] = null;
        pp.TimersLen = last;
        int smallestChanged = i;
        if (i != last)
        {
            smallestChanged = SiftUpTimer(timers, i);
            SiftDownTimer(timers, i, last);
        }
        if (i == 0) UpdateTimer0When(pp);
        if (Interlocked.Decrement(ref pp.NumTimers) == 0) Volatile.Write(ref pp.TimerModifiedEarliest, 0);
        return smallestChanged;
    }

    /// <summary>Removes the heap's top timer. TimersLock must be held. Mirrors runtime.dodeltimer0.</summary>
    private static void DoDelTimer0(P pp)
    {
        var timers = pp.Timers;
        if (timers[0]!.PP != pp) Throw("dodeltimer0: wrong P");
        timers[0]!.PP = null;
        int last = pp.TimersLen - 1;
        if (last > 0) timers[0] = timers[last];
        timers[last] = null;
        pp.TimersLen = last;
        if (last > 0) SiftDownTimer(timers, 0, last);
        UpdateTimer0When(pp);
        if (Interlocked.Decrement(ref pp.NumTimers) == 0) Volatile.Write(ref pp.TimerModifiedEarliest, 0);
    }

    /// <summary>
    /// Modifies an existing timer (or re-adds a stopped one) to fire at when. True if it was
    /// pending (had not run and was not stopped). Called from a goroutine. Mirrors runtime.modtimer.
    /// on: the P that re-adds a removed timer instead of the current one (test seam; null in the runtime).
    /// </summary>
    internal bool ModTimer(RTimer t, long when, long period, Action<object?, long>? f, object? arg, long seq, P? on = null)
    {
        if (when <= 0) Throw("timer when must be positive");
        if (period < 0) Throw("timer period must be non-negative");
        bool wasRemoved = false, pending = false;
        P? pp = null;
        while (true)
        {
            var s = t.State;
            switch (s)
            {
                case TimerStatus.Waiting:
                case TimerStatus.ModifiedEarlier:
                case TimerStatus.ModifiedLater:
                    if (t.Cas(s, TimerStatus.Modifying)) { pending = true; goto modify; }
                    break;
                case TimerStatus.NoStatus:
                case TimerStatus.Removed:
                    // Timer was already run (or stopped and removed): re-add it, to the current P.
                    // Differs from Go: there every caller has a P. Here one may not (a notebook
                    // cell, a .NET task), so the P is found before the CAS: once the status is
                    // Modifying this call must finish (every other operation on t waits for it),
                    // and the usage error must leave the timer as it was.
                    pp ??= on ?? CurrentP("modtimer");
                    if (t.Cas(s, TimerStatus.Modifying)) { wasRemoved = true; goto modify; }
                    break;
                case TimerStatus.Deleted:
                    if (t.Cas(s, TimerStatus.Modifying)) { Interlocked.Decrement(ref t.PP!.DeletedTimers); goto modify; }
                    break;
                case TimerStatus.Running:
                case TimerStatus.Removing:
                case TimerStatus.Moving:
                case TimerStatus.Modifying:
                    Thread.Yield();
                    break;
                default:
                    BadTimer("modtimer");
                    break;
            }
        }
    modify:
        t.Period = period;
        t.F = f;
        t.Arg = arg;
        t.Seq = seq;
        if (wasRemoved)
        {
            t.When = when;
            using (pp!.TimersLock.EnterScope()) DoAddTimer(pp, t);
            if (!t.Cas(TimerStatus.Modifying, TimerStatus.Waiting)) BadTimer("modtimer");
            WakeNetPoller(when);
        }
        else
        {
            // The timer is on some P's heap, maybe another's: record the new time and let that P
            // move it (cleantimers/adjusttimers/runtimer).
            t.NextWhen = when;
            var newStatus = when < t.When ? TimerStatus.ModifiedEarlier : TimerStatus.ModifiedLater;
            P tpp = t.PP!;
            if (newStatus == TimerStatus.ModifiedEarlier) UpdateTimerModifiedEarliest(tpp, when);
            if (!t.Cas(TimerStatus.Modifying, newStatus)) BadTimer("modtimer");
            if (newStatus == TimerStatus.ModifiedEarlier) WakeNetPoller(when);
        }
        return pending;
    }

    /// <summary>Resets an inactive timer to fire at when. Mirrors runtime.resettimer. on: as for ModTimer.</summary>
    internal bool ResetTimer(RTimer t, long when, P? on = null) => ModTimer(t, when, t.Period, t.F, t.Arg, t.Seq, on);

    /// <summary>
    /// Cleans up the head of pp's heap: removes deleted timers and moves modified ones, stopping at
    /// the first timer in plain Waiting status. TimersLock must be held. Mirrors runtime.cleantimers.
    /// </summary>
    internal void CleanTimers(P pp)
    {
        while (pp.TimersLen > 0)
        {
            var t = pp.Timers[0]!;
            if (t.PP != pp) Throw("cleantimers: bad p");
            var s = t.State;
            switch (s)
            {
                case TimerStatus.Deleted:
                    if (!t.Cas(s, TimerStatus.Removing)) continue;
                    DoDelTimer0(pp);
                    if (!t.Cas(TimerStatus.Removing, TimerStatus.Removed)) BadTimer("cleantimers");
                    Interlocked.Decrement(ref pp.DeletedTimers);
                    break;
                case TimerStatus.ModifiedEarlier:
                case TimerStatus.ModifiedLater:
                    if (!t.Cas(s, TimerStatus.Moving)) continue;
                    // Now we can change the when field.
                    t.When = t.NextWhen;
                    // Move t to the right position.
                    DoDelTimer0(pp);
                    DoAddTimer(pp, t);
                    if (!t.Cas(TimerStatus.Moving, TimerStatus.Waiting)) BadTimer("cleantimers");
                    break;
                default:
                    return; // Head of timers does not need adjustment.
            }
        }
    }

    /// <summary>
    /// Re-positions every modified timer and removes deleted ones, but only once the earliest
    /// modified-earlier timer is due. TimersLock must be held. Mirrors runtime.adjusttimers.
    /// </summary>
    internal void AdjustTimers(P pp, long now)
    {
        long first = Volatile.Read(ref pp.TimerModifiedEarliest);
        if (first == 0 || first > now) return;
        // We are going to clear all timerModifiedEarlier timers.
        Volatile.Write(ref pp.TimerModifiedEarliest, 0);
        List<RTimer>? moved = null;
        for (int i = 0; i < pp.TimersLen; i++)
        {
            var t = pp.Timers[i]!;
            if (t.PP != pp) Throw("adjusttimers: bad p");
            var s = t.State;
            switch (s)
            {
                case TimerStatus.Deleted:
                    if (t.Cas(s, TimerStatus.Removing))
                    {
                        int changed = DoDelTimer(pp, i);
                        if (!t.Cas(TimerStatus.Removing, TimerStatus.Removed)) BadTimer("adjusttimers");
                        Interlocked.Decrement(ref pp.DeletedTimers);
                        // Go back to the earliest changed heap entry: "- 1" because the loop increments.
                        i = changed - 1;
                    }
                    break;
                case TimerStatus.ModifiedEarlier:
                case TimerStatus.ModifiedLater:
                    if (t.Cas(s, TimerStatus.Moving))
                    {
                        t.When = t.NextWhen;
                        // Take t off the heap, and hold onto it: we don't add it back yet because
                        // the heap manipulation could cause our loop to skip some other timer.
                        int changed = DoDelTimer(pp, i);
                        (moved ??= new()).Add(t);
                        i = changed - 1;
                    }
                    break;
                case TimerStatus.Waiting:
                    break; // OK, nothing to do.
                case TimerStatus.Modifying:
                    Thread.Yield(); // Check again after modification is complete.
                    i--;
                    break;
                default:
                    BadTimer("adjusttimers");
                    break;
            }
        }
        if (moved != null)
        {
            foreach (var t in moved)
            {
                DoAddTimer(pp, t);
                if (!t.Cas(TimerStatus.Moving, TimerStatus.Waiting)) BadTimer("addAdjustedTimers");
            }
        }
    }

    /// <summary>
    /// Runs the heap's top timer if due. Returns 0 if it ran one, -1 if the heap became empty, or
    /// the time the top timer is due. TimersLock must be held; released while the timer's function
    /// runs. Mirrors runtime.runtimer.
    /// </summary>
    internal long RunTimer(P pp, long now)
    {
        while (true)
        {
            var t = pp.Timers[0]!;
            if (t.PP != pp) Throw("runtimer: bad p");
            var s = t.State;
            switch (s)
            {
                case TimerStatus.Waiting:
                    if (t.When > now) return t.When; // Not ready to run.
                    if (!t.Cas(s, TimerStatus.Running)) continue;
                    // Note that runOneTimer may temporarily unlock pp.TimersLock.
                    RunOneTimer(pp, t, now);
                    return 0;
                case TimerStatus.Deleted:
                    if (!t.Cas(s, TimerStatus.Removing)) continue;
                    DoDelTimer0(pp);
                    if (!t.Cas(TimerStatus.Removing, TimerStatus.Removed)) BadTimer("runtimer");
                    Interlocked.Decrement(ref pp.DeletedTimers);
                    if (pp.TimersLen == 0) return -1;
                    break;
                case TimerStatus.ModifiedEarlier:
                case TimerStatus.ModifiedLater:
                    if (!t.Cas(s, TimerStatus.Moving)) continue;
                    t.When = t.NextWhen;
                    DoDelTimer0(pp);
                    DoAddTimer(pp, t);
                    if (!t.Cas(TimerStatus.Moving, TimerStatus.Waiting)) BadTimer("runtimer");
                    break;
                case TimerStatus.Modifying:
                    Thread.Yield(); // Wait for modification to complete.
                    break;
                default:
                    BadTimer("runtimer: " + s);
                    break;
            }
        }
    }

    /// <summary>
    /// Runs a single timer: a periodic one skips the periods it missed and stays on the heap, a
    /// one-shot one leaves it. The function runs with TimersLock released. Records lateness.
    /// TimersLock must be held. Mirrors runtime.runOneTimer.
    /// </summary>
    private void RunOneTimer(P pp, RTimer t, long now)
    {
        var f = t.F;
        var arg = t.Arg;
        long seq = t.Seq;
        long due = t.When;
        if (t.Period > 0)
        {
            // Leave in heap but adjust next time to fire.
            long delta = t.When - now;
            t.When += t.Period * (1 + -delta / t.Period);
            if (t.When < 0) t.When = MaxWhen; // check for overflow.
            SiftDownTimer(pp.Timers, 0, pp.TimersLen);
            if (!t.Cas(TimerStatus.Running, TimerStatus.Waiting)) BadTimer("runOneTimer");
            UpdateTimer0When(pp);
        }
        else
        {
            // Remove from heap.
            DoDelTimer0(pp);
            if (!t.Cas(TimerStatus.Running, TimerStatus.NoStatus)) BadTimer("runOneTimer");
        }
        long fired = Clock.Nanotime();
        pp.TimerStats.Record(pp.Id, fired - _startNs, fired - due);
        pp.TimersLock.Exit();
        try { f!(arg, seq); }
        finally { pp.TimersLock.Enter(); }
    }

    /// <summary>
    /// Removes every deleted timer from pp's heap and moves every modified one, rebuilding the
    /// heap in place. TimersLock must be held. Mirrors runtime.clearDeletedTimers.
    /// </summary>
    internal void ClearDeletedTimers(P pp)
    {
        // We are going to clear all timerModifiedEarlier timers; some may be readded.
        Volatile.Write(ref pp.TimerModifiedEarliest, 0);
        int cdel = 0, to = 0;
        bool changedHeap = false;
        var timers = pp.Timers;
        int n = pp.TimersLen;
        for (int i = 0; i < n; i++)
        {
            var t = timers[i]!;
            while (true)
            {
                var s = t.State;
                if (s == TimerStatus.Waiting)
                {
                    if (changedHeap) { timers[to] = t; SiftUpTimer(timers, to); }
                    to++;
                    break;
                }
                if (s is TimerStatus.ModifiedEarlier or TimerStatus.ModifiedLater)
                {
                    if (!t.Cas(s, TimerStatus.Moving)) continue;
                    t.When = t.NextWhen;
                    timers[to] = t;
                    SiftUpTimer(timers, to);
                    to++;
                    changedHeap = true;
                    if (!t.Cas(TimerStatus.Moving, TimerStatus.Waiting)) BadTimer("clearDeletedTimers");
                    break;
                }
                if (s == TimerStatus.Deleted)
                {
                    if (!t.Cas(s, TimerStatus.Removing)) continue;
                    t.PP = null;
                    cdel++;
                    if (!t.Cas(TimerStatus.Removing, TimerStatus.Removed)) BadTimer("clearDeletedTimers");
                    changedHeap = true;
                    break;
                }
                if (s == TimerStatus.Modifying) { Thread.Yield(); continue; }
                BadTimer("clearDeletedTimers: " + s);
            }
        }
        // Set remaining slots in timers slice to null, so they can be garbage collected.
        for (int i = to; i < n; i++) timers[i] = null;
        Interlocked.Add(ref pp.DeletedTimers, -cdel);
        Interlocked.Add(ref pp.NumTimers, -cdel);
        pp.TimersLen = to;
        pp.ClearedDeletedTimers += cdel;
        UpdateTimer0When(pp);
        if (_config.TimerCheckHeap) VerifyTimerHeap(pp);
    }

    /// <summary>Checks the heap property and the count. TimersLock must be held. Mirrors runtime.verifyTimerHeap.</summary>
    internal static void VerifyTimerHeap(P pp)
    {
        for (int i = 1; i < pp.TimersLen; i++)
        {
            int parent = (i - 1) / 4;
            if (pp.Timers[i]!.When < pp.Timers[parent]!.When) Throw($"bad timer heap at {i}: {parent}");
        }
        if (pp.TimersLen != Volatile.Read(ref pp.NumTimers)) Throw($"bad timer heap len {pp.TimersLen} != numTimers {pp.NumTimers}");
    }

    private static void UpdateTimer0When(P pp) =>
        Volatile.Write(ref pp.Timer0When, pp.TimersLen == 0 ? 0 : pp.Timers[0]!.When);

    private static void UpdateTimerModifiedEarliest(P pp, long nextwhen)
    {
        while (true)
        {
            long old = Volatile.Read(ref pp.TimerModifiedEarliest);
            if (old != 0 && old < nextwhen) return;
            if (Interlocked.CompareExchange(ref pp.TimerModifiedEarliest, nextwhen, old) == old) return;
        }
    }

    /// <summary>When pp next needs attention for timers (0: never), read without the lock. Mirrors runtime.nobarrierWakeTime.</summary>
    internal static long NoBarrierWakeTime(P pp)
    {
        long next = Volatile.Read(ref pp.Timer0When);
        long nextAdj = Volatile.Read(ref pp.TimerModifiedEarliest);
        if (next == 0 || (nextAdj != 0 && nextAdj < next)) next = nextAdj;
        return next;
    }

    /// <summary>
    /// Runs every due timer of pp. Returns the time now (reading the clock if now was 0), when the
    /// next timer is due (0: none), and whether any ran. Called with pp owned by the caller, or by
    /// a thief on stealWork's last pass. Mirrors runtime.checkTimers.
    /// </summary>
    internal long CheckTimers(M mp, P pp, long now, out long pollUntil, out bool ran)
    {
        pollUntil = 0;
        ran = false;
        // If it's not yet time for the first timer, or the first adjusted timer, then there is
        // nothing to do.
        long next = NoBarrierWakeTime(pp);
        if (next == 0) return now; // No timers to run or adjust.
        if (now == 0) now = Clock.Nanotime();
        if (now < next)
        {
            // Next timer is not ready to run, but keep going if we would clear deleted timers:
            // the condition below where we decide whether to call clearDeletedTimers (only on our
            // own P, and only with the 1/4 rule on; with the timerclear knob off, nothing would
            // be cleared, and the lock would be taken for nothing).
            if (pp != mp.P || !_config.TimerClearDeleted ||
                Volatile.Read(ref pp.DeletedTimers) <= Volatile.Read(ref pp.NumTimers) / _config.TimerClearDeletedRatio)
            {
                pollUntil = next;
                return now;
            }
        }
        using (pp.TimersLock.EnterScope())
        {
            if (pp.TimersLen > 0)
            {
                AdjustTimers(pp, now);
                while (pp.TimersLen > 0)
                {
                    // Note that runtimer may temporarily unlock pp.TimersLock.
                    long tw = RunTimer(pp, now);
                    if (tw != 0)
                    {
                        if (tw > 0) pollUntil = tw;
                        break;
                    }
                    ran = true;
                }
            }
            // If this is the local P, and there are a lot of deleted timers, clear them out. We
            // only do this for the local P to reduce lock contention on timersLock.
            if (pp == mp.P && _config.TimerClearDeleted &&
                Volatile.Read(ref pp.DeletedTimers) > pp.TimersLen / _config.TimerClearDeletedRatio)
                ClearDeletedTimers(pp);
        }
        return now;
    }

    /// <summary>
    /// The earliest timer of every P in the timer mask snapshot, merged into pollUntil. Called by an
    /// M without a P before it blocks. Mirrors runtime.checkTimersNoP.
    /// </summary>
    private static long CheckTimersNoP(P[] allpSnapshot, PMask timerpMaskSnapshot, long pollUntil)
    {
        for (int id = 0; id < allpSnapshot.Length; id++)
        {
            if (timerpMaskSnapshot.Read(id))
            {
                long w = NoBarrierWakeTime(allpSnapshot[id]);
                if (w != 0 && (pollUntil == 0 || w < pollUntil)) pollUntil = w;
            }
        }
        return pollUntil;
    }

    /// <summary>
    /// A timer due at when was added or moved earlier: wake the M blocked in the poller if it would
    /// sleep past when, or get an M spinning if none is polling. Mirrors runtime.wakeNetPoller.
    /// </summary>
    internal void WakeNetPoller(long when)
    {
        if (Interlocked.Read(ref _sched.LastPoll) == 0)
        {
            // An M is blocked in the poller. Its pollUntil is either zero or the time to which it
            // is expected to sleep: a spurious wake-up is possible, a missed one is not.
            long pollerPollUntil = Interlocked.Read(ref _sched.PollUntil);
            if (pollerPollUntil == 0 || pollerPollUntil > when) _poller.Break();
        }
        else
        {
            // There are no threads in the poller: try to get one there so it can handle new timers.
            WakeP();
        }
    }

    /// <summary>
    /// True while an M is blocked in the poller (sched.lastpoll == 0 after Start), with the time it
    /// sleeps until (sched.pollUntil; 0: no deadline). Read without locks, for tests.
    /// </summary>
    internal bool PollerBlocked(out long pollUntil)
    {
        pollUntil = Interlocked.Read(ref _sched.PollUntil);
        return _started && Interlocked.Read(ref _sched.LastPoll) == 0;
    }

    /// <summary>Clears pp's timer-mask bit if it has no timers (updateTimerPMask). sched.lock must be held.</summary>
    private void UpdateTimerPMask(P pp)
    {
        if (Volatile.Read(ref pp.NumTimers) > 0) return;
        // Looks like there are no timers, but another P may be adding one: check again under the
        // timers lock.
        using (pp.TimersLock.EnterScope())
        {
            if (Volatile.Read(ref pp.NumTimers) == 0) _timerpMask.Clear(pp.Id);
        }
    }

    private P CurrentP(string what)
    {
        M? mp = M.t_current;
        if (mp == null || mp.Runtime != this || mp.P == null)
            throw new GoUsageException($"{what}: timers can only be started or reset inside a goroutine of this runtime");
        return mp.P;
    }

    // --- the 4-ary heap ---

    /// <summary>Moves timers[i] up; returns its final index. Mirrors runtime.siftupTimer.</summary>
    private static int SiftUpTimer(RTimer?[] t, int i)
    {
        long when = t[i]!.When;
        if (when <= 0) BadTimer("siftupTimer");
        var tmp = t[i];
        while (i > 0)
        {
            int p = (i - 1) / 4; // parent
            if (when >= t[p]!.When) break;
            t[i] = t[p];
            i = p;
        }
        t[i] = tmp;
        return i;
    }

    /// <summary>Moves timers[i] down within the first n entries. Mirrors runtime.siftdownTimer.</summary>
    private static void SiftDownTimer(RTimer?[] t, int i, int n)
    {
        if (i >= n) BadTimer("siftdownTimer");
        long when = t[i]!.When;
        if (when <= 0) BadTimer("siftdownTimer");
        var tmp = t[i];
        while (true)
        {
            int c = i * 4 + 1; // left child
            int c3 = c + 2;    // mid child
            if (c >= n) break;
            long w = t[c]!.When;
            if (c + 1 < n && t[c + 1]!.When < w) { w = t[c + 1]!.When; c++; }
            if (c3 < n)
            {
                long w3 = t[c3]!.When;
                if (c3 + 1 < n && t[c3 + 1]!.When < w3) { w3 = t[c3 + 1]!.When; c3++; }
                if (w3 < w) { w = w3; c = c3; }
            }
            if (w >= when) break;
            t[i] = t[c];
            i = c;
        }
        t[i] = tmp;
    }
}
