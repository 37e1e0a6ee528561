// GOMAXPROCS at run time: procresize, run with the world stopped (proc.go procresize, p.init,
// p.destroy, moveTimers, gfpurge, GOMAXPROCS).
//
// What must hold across a resize: every goroutine and every timer survives it. A goroutine can
// only be in one of a few places while the world is stopped: running (the stopper itself), in a
// system call (it owns no P), parked on some wait queue (it owns no P either), on the global run
// queue, or on a P's local queue or runnext slot. Only the last one depends on the set of Ps, so a
// P that goes away (p.destroy) pushes its queue onto the head of the global queue, from its tail
// backwards so that the order is kept, and its runnext last, so that the goroutine it was about
// to run is the very first one taken. Its timers move to a P that stays (moveTimers: live timers
// re-added there, deleted ones dropped, modified ones settled at their new time), and its free
// goroutines to the global free list (gfpurge).
//
// P objects are never freed, as in Go ("it can be referenced by an M in syscall"): an M that comes
// back from a syscall finds its old P _Pdead and looks for an idle one instead. A P that comes
// back when GOMAXPROCS grows again is the same object, re-initialised (p.init), so its counters
// carry on and the end-of-run totals include every P that ever existed (_pcache).
//
// The P the caller holds stays if its id is below the new count; otherwise the caller moves to P0.
// Then every P but the caller's is set idle: those with local work are returned as a list for
// startTheWorld to hand to Ms, the rest go on the idle list.
//
// Differs from Go: allp is replaced by a new array on every resize instead of re-sliced, so a
// reader that took the array without sched.lock (the sampler, sysmon) keeps a consistent view;
// the P masks are sized for the largest GOMAXPROCS once (256 bits) and bits of removed Ps cleared.
using GoSched.Internal;

namespace GoSched;

public sealed partial class GoRuntime
{
    /// <summary>Every P ever created, indexed by id (allp's backing array in Go). Grown under sched.lock.</summary>
    private P[] _pcache;

    /// <summary>Every P that existed in this run (for end-of-run totals).</summary>
    internal P[] AllPEver => Volatile.Read(ref _pcache);

    /// <summary>
    /// Sets GOMAXPROCS while goroutines run: stops the world, resizes the Ps, starts it again.
    /// Returns the previous value; n &lt;= 0 only reads it (runtime.GOMAXPROCS(0)). Before Start it
    /// just sets the number of Ps. Called from outside the runtime's goroutines (inside one, use
    /// <c>await Go.SetGomaxprocs(n)</c>). Mirrors runtime.GOMAXPROCS.
    /// </summary>
    public int SetGomaxprocs(int n)
    {
        CheckGomaxprocs(n);
        if (M.t_current?.Runtime == this) throw new GoUsageException("inside a goroutine, use `await Go.SetGomaxprocs(n)`");
        using (_sched.Lock.EnterScope())
        {
            int ret = _gomaxprocs;
            if (n <= 0 || n == ret) return ret;
            if (_stopping || _stopped) throw new InvalidOperationException("the runtime has stopped");
            if (!_started)
            {
                ResizeAllP(n);
                return ret;
            }
        }
        int prev = Gomaxprocs;
        if (!StopTheWorld("GOMAXPROCS")) throw new InvalidOperationException("the runtime stopped before GOMAXPROCS could change");
        StartTheWorld(newProcs: n); // newprocs will be processed by startTheWorld
        return prev;
    }

    private static void CheckGomaxprocs(int n)
    {
        if (n > GoConfig.MaxGomaxprocs)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"gomaxprocs={n}: must be between 1 and {GoConfig.MaxGomaxprocs}");
    }

    /// <summary>
    /// GOMAXPROCS from a goroutine: true when done (prev is the old value), false if another
    /// stopper holds worldsema (the caller yields and retries, so it never blocks holding its P).
    /// </summary>
    internal bool TryGomaxprocs(G gp, int n, out int prev)
    {
        CheckGomaxprocs(n);
        prev = Gomaxprocs;
        if (n <= 0 || n == prev) return true;
        if (Interlocked.CompareExchange(ref _worldSema, 1, 0) != 0) return false;
        try
        {
            if (gp.M != M.t_current || gp.M?.P == null) Throw("GOMAXPROCS: caller is not running on its M");
            if (!StopTheWorldWithSema("GOMAXPROCS", host: false)) return true; // the runtime is stopping
            _newProcs = n;
            StartTheWorldWithSema();
        }
        finally { Volatile.Write(ref _worldSema, 0); }
        return true;
    }

    /// <summary>
    /// Changes the number of Ps to nprocs. sched.lock must be held and the world stopped. Returns
    /// the list (by Link) of Ps with local work, for startTheWorld to hand to Ms.
    /// Mirrors runtime.procresize.
    /// </summary>
    private P? ProcResize(int nprocs)
    {
        AssertLockHeld(ref _sched.Lock);
        if (!_worldStopped) Throw("procresize: world not stopped");
        if (nprocs < 1 || nprocs > GoConfig.MaxGomaxprocs) Throw("procresize: invalid arg");
        int old = _gomaxprocs;
        var oldAllp = _allp;
        M? mp = M.t_current?.Runtime == this ? M.t_current : null;

        // Update statistics: the P-time of the GOMAXPROCS that ends now.
        long now = Clock.Nanotime();
        _sched.TotalTime += (long)old * (now - _sched.ProcResizeTime);
        _sched.ProcResizeTime = now;

        // Grow allp if necessary, and initialize new Ps.
        var allp = new P[nprocs];
        Array.Copy(oldAllp, allp, Math.Min(old, nprocs));
        for (int i = old; i < nprocs; i++) allp[i] = InitP(i);

        if (mp?.P is { } cur && cur.Id < nprocs)
        {
            // Continue to use the current P.
            Volatile.Write(ref cur.Status, (int)PStatus.Running);
        }
        else if (mp?.P is { } gone)
        {
            // Release the current P and acquire allp[0].
            gone.M = null;
            mp.P = null;
            P p0 = allp[0];
            p0.M = null;
            Volatile.Write(ref p0.Status, (int)PStatus.Idle);
            AcquireP(mp, p0);
        }

        // Release resources from unused Ps (but not the P objects: an M in a syscall may still
        // refer to one as its oldp).
        P plocal = mp?.P ?? allp[0];
        for (int i = nprocs; i < old; i++) DestroyP(oldAllp[i], plocal);

        Volatile.Write(ref _allp, allp);
        _stealOrder = new RandomOrder((uint)nprocs);

        P? runnablePs = null;
        for (int i = nprocs - 1; i >= 0; i--)
        {
            P pp = allp[i];
            if (mp?.P == pp) continue;
            Volatile.Write(ref pp.Status, (int)PStatus.Idle);
            if (RunqEmpty(pp))
            {
                PIdlePut(pp);
            }
            else
            {
                pp.Link = runnablePs;
                runnablePs = pp;
            }
        }
        Volatile.Write(ref _gomaxprocs, nprocs);
        return runnablePs;
    }

    /// <summary>Before Start: the Ps are unused, so the set is just rebuilt. sched.lock must be held.</summary>
    private void ResizeAllP(int nprocs)
    {
        AssertLockHeld(ref _sched.Lock);
        var allp = new P[nprocs];
        for (int i = 0; i < nprocs; i++) allp[i] = i < _gomaxprocs ? _allp[i] : InitP(i);
        for (int i = nprocs; i < _gomaxprocs; i++) Volatile.Write(ref _allp[i].Status, (int)PStatus.Dead);
        for (int i = 0; i < nprocs; i++) Volatile.Write(ref allp[i].Status, (int)PStatus.Idle);
        Volatile.Write(ref _allp, allp);
        _stealOrder = new RandomOrder((uint)nprocs);
        Volatile.Write(ref _gomaxprocs, nprocs);
    }

    /// <summary>
    /// A new P, or the dead one with this id brought back, in _Pgcstop. sched.lock must be held.
    /// Mirrors runtime.(*p).init.
    /// </summary>
    private P InitP(int id)
    {
        var cache = _pcache;
        P? pp = id < cache.Length ? cache[id] : null;
        if (pp == null)
        {
            // The new P goes into the copy before the copy is published: readers without sched.lock
            // (the sampler's syscall counters, Stats) walk AllPEver and must never meet a null slot.
            // Ids come in ascending order, so the copy has none.
            pp = new P(id, _config.LocalRunqSize);
            var bigger = new P[Math.Max(cache.Length, id + 1)];
            Array.Copy(cache, bigger, cache.Length);
            bigger[id] = pp;
            Volatile.Write(ref _pcache, bigger);
        }
        else if (Volatile.Read(ref pp.Status) != (int)PStatus.Dead)
        {
            Throw("procresize: reused P is not dead");
        }
        if (!RunqEmpty(pp) || pp.TimersLen != 0 || pp.GFreeCount != 0) Throw("pp.init: P not clean");
        pp.M = null;
        pp.Link = null;
        pp.RunSafePointFn = 0;
        Volatile.Write(ref pp.Status, (int)PStatus.GcStop);
        return pp;
    }

    /// <summary>
    /// Releases all of pp's resources and marks it _Pdead: its goroutines to the head of the
    /// global queue (runnext first), its timers to plocal, its free Gs to the global free list.
    /// sched.lock must be held and the world stopped. Mirrors runtime.(*p).destroy.
    /// </summary>
    private void DestroyP(P pp, P plocal)
    {
        AssertLockHeld(ref _sched.Lock);
        if (!_worldStopped) Throw("destroy: world not stopped");
        if (pp == plocal) Throw("destroy: P moves its timers to itself");
        // Move all runnable goroutines to the global queue.
        while (pp.RunqHead != pp.RunqTail)
        {
            // Pop from tail of local queue.
            pp.RunqTail--;
            uint slot = pp.RunqTail & pp.RunqMask;
            G gp = pp.Runq[slot]!;
            pp.Runq[slot] = null;
            // Push onto head of global queue.
            GlobRunqPutHead(gp);
        }
        if (pp.RunNext is { } next)
        {
            GlobRunqPutHead(next);
            pp.RunNext = null;
        }
        if (pp.TimersLen > 0)
        {
            // The world is stopped, but we acquire timersLock to protect against sysmon calling
            // timeSleepUntil. This is the only case where we hold the timersLock of more than one
            // P, so there are no deadlock concerns.
            using (plocal.TimersLock.EnterScope())
            {
                using (pp.TimersLock.EnterScope())
                {
                    MoveTimers(plocal, pp.Timers.AsSpan(0, pp.TimersLen));
                    Array.Clear(pp.Timers);
                    pp.TimersLen = 0;
                    Volatile.Write(ref pp.NumTimers, 0);
                    Volatile.Write(ref pp.DeletedTimers, 0);
                    Volatile.Write(ref pp.Timer0When, 0);
                    Volatile.Write(ref pp.TimerModifiedEarliest, 0);
                }
            }
            if (Volatile.Read(ref plocal.NumTimers) > 0) _timerpMask.Set(plocal.Id);
        }
        _timerpMask.Clear(pp.Id);
        _idlepMask.Clear(pp.Id);
        GFPurge(pp);
        pp.M = null;
        pp.Link = null;
        pp.RunSafePointFn = 0;
        Volatile.Write(ref pp.Status, (int)PStatus.Dead);
    }

    /// <summary>
    /// Moves timers of a destroyed P onto pp's heap: live ones re-added (modified ones at their new
    /// time), deleted ones dropped. Both timer locks held, world stopped. Mirrors runtime.moveTimers.
    /// </summary>
    private void MoveTimers(P pp, ReadOnlySpan<RTimer?> timers)
    {
        foreach (var t in timers)
        {
            while (true)
            {
                var s = t!.State;
                if (s == TimerStatus.Waiting)
                {
                    if (!t.Cas(s, TimerStatus.Moving)) continue;
                    t.PP = null;
                    DoAddTimer(pp, t);
                    if (!t.Cas(TimerStatus.Moving, TimerStatus.Waiting)) BadTimer("moveTimers");
                    break;
                }
                if (s is TimerStatus.ModifiedEarlier or TimerStatus.ModifiedLater)
                {
                    if (!t.Cas(s, TimerStatus.Moving)) continue;
                    t.When = t.NextWhen;
                    t.PP = null;
                    DoAddTimer(pp, t);
                    if (!t.Cas(TimerStatus.Moving, TimerStatus.Waiting)) BadTimer("moveTimers");
                    break;
                }
                if (s == TimerStatus.Deleted)
                {
                    if (!t.Cas(s, TimerStatus.Removed)) continue;
                    t.PP = null;
                    // We no longer need this timer in the heap.
                    break;
                }
                if (s == TimerStatus.Modifying)
                {
                    // Loop until the modification is complete.
                    Thread.Yield();
                    continue;
                }
                // NoStatus, Removed: should not be in a heap. Running, Removing, Moving: some other
                // P thinks it owns this timer, which should not happen.
                BadTimer($"moveTimers: status {s}");
            }
        }
    }

    /// <summary>Puts gp at the head of the global queue. sched.lock must be held. Mirrors runtime.globrunqputhead.</summary>
    private void GlobRunqPutHead(G gp)
    {
        AssertLockHeld(ref _sched.Lock);
        _sched.Runq.PushFront(gp);
        Volatile.Write(ref _sched.RunqSize, _sched.RunqSize + 1);
    }

    /// <summary>Moves all of pp's free Gs to the global free list. Mirrors runtime.gfpurge.</summary>
    private void GFPurge(P pp)
    {
        using (_sched.GFreeLock.EnterScope())
        {
            while (pp.GFree.Pop() is { } gp) GFPutGlobalLocked(gp);
        }
    }
}

public static partial class Go
{
    /// <summary>
    /// runtime.GOMAXPROCS(n) from a goroutine: stops the world, resizes the Ps, starts the world,
    /// and returns the previous value; n &lt;= 0 only reads it. The caller may come back on another
    /// P (P0) if its own was removed.
    /// </summary>
    public static async GoFrame<int> SetGomaxprocs(int n)
    {
        var gp = GoRuntime.CurrentG("Go.SetGomaxprocs");
        int prev;
        // Another stopper holds worldsema: yield (it may be waiting for this very P) and retry.
        while (!gp.Runtime.TryGomaxprocs(gp, n, out prev)) await Gosched();
        return prev;
    }
}
