// Goroutine scheduler: the M loop (schedule, findRunnable, execute) and the goroutine lifecycle.
//
// The scheduler's job is to distribute ready-to-run goroutines over worker threads. Its three
// entities are Go's: G (goroutine, G.cs), M (worker thread, M.cs) and P (processor, P.cs): an M
// needs a P to run goroutines, there are exactly GOMAXPROCS Ps, and an M without work gives its P
// back and parks (Park.cs).
//
// How a goroutine runs here. A goroutine body is a compiler-made async state machine; "running"
// it is one call of MoveNext on an M's thread. The body runs until it awaits a runtime primitive
// that must block (a channel op, a sema, Go.Gosched). That awaiter does the whole operation in
// IsCompleted: if it must block, it enqueues the G's sudog, records the park on the G (Outcome =
// Park, and the lock to release) and returns false *keeping the lock*. The body's frames then
// unwind back to this file's RunG, which publishes the park: status Running->Waiting, drop the
// G from the M, and only then release the lock (gopark's park_m and its unlockf). Publishing
// earlier, from inside OnCompleted, would race: a waker on another M could resume the G while this
// M is still inside its frames. After the release, any M that dequeues the sudog may ready the G
// (Waiting->Runnable, runqput into the waker's runnext, wakep).
//
// A finished GoFrame (a helper call that suspended) does not call its parent inline: it sets the
// parent as the G's resume point and asks the M loop to continue, so deep await chains never grow
// the native stack.
//
// findRunnable also checks timers first (checkTimers), polls the network without blocking before
// stealing, steals timers on stealWork's last pass, and blocks in netpoll (Netpoll.cs) until the
// earliest timer instead of stopm.
using GoSched.Internal;

namespace GoSched;

public sealed partial class GoRuntime
{
    /// <summary>Entry point of every M's thread. Mirrors runtime.mstart0/mstart1.</summary>
    private void MStart(M mp)
    {
        M.t_current = mp;
        try
        {
            if (mp.NextP == null) throw new RuntimeInvariantException("mstart: m has no p");
            AcquireNextP(mp);
            Schedule(mp);
        }
        catch (Exception e)
        {
            Fatal(e is RuntimeInvariantException or GoUsageException ? e : new RuntimeInvariantException($"M{mp.Id}: {e}"));
        }
        finally
        {
            // A stopping runtime: give back the P (for the final counters) and leave.
            if (mp.P is { } p) { mp.P = null; p.M = null; }
            if (mp.Spinning) { mp.Spinning = false; Interlocked.Decrement(ref _sched.NmSpinning); }
            // A leaving M runs no goroutine, even after a body threw: the stop names only Ms with one.
            mp.CurG = null;
            M.t_current = null;
            ThreadExited();
        }
    }

    /// <summary>
    /// One round of the scheduler, forever: find a runnable goroutine and execute it.
    /// Returns only when the runtime stops. Mirrors runtime.schedule.
    /// </summary>
    private void Schedule(M mp)
    {
        while (!_stopping && (mp.P != null || mp.LockedG != null))
        {
            if (mp.LockedG is { } locked)
            {
                // This M runs only its locked goroutine: wait until it is runnable, then run it.
                if (!StopLockedM(mp)) return;
                Execute(mp, locked, inheritTime: false);
                if (mp.Exited) return;
                continue;
            }
            P pp = mp.P!;
            if (GcWaiting)
            {
                if (!GcStopM(mp)) return;
                continue;
            }
            if (Volatile.Read(ref pp.RunSafePointFn) != 0) RunSafePointFn(pp);
            // Safety check: if we are spinning, the run queue should be empty.
            if (mp.Spinning && (Volatile.Read(ref pp.RunNext) != null || Volatile.Read(ref pp.RunqHead) != Volatile.Read(ref pp.RunqTail)))
                Throw("schedule: spinning with local work");

            G? gp = FindRunnable(mp, out bool inheritTime); // blocks until work is available
            if (gp == null) return; // stopping

            // This M is going to run a goroutine and is no longer spinning: if it was, it may
            // need to start another spinning M (resetspinning).
            if (mp.Spinning) ResetSpinning(mp);

            if (gp.LockedM != null)
            {
                // Hands off own P to the locked M, then blocks waiting for a new P.
                if (!StartLockedM(mp, gp)) return;
                continue;
            }
            Execute(mp, gp, inheritTime);
            if (mp.Exited) return;
        }
    }

    /// <summary>
    /// Finds a runnable goroutine to execute: local queue, global queue, stealing; parks the M when
    /// there is none. Returns null only when the runtime stops. Mirrors runtime.findRunnable (Go 1.21).
    /// </summary>
    private G? FindRunnable(M mp, out bool inheritTime)
    {
        inheritTime = false;
    top:
        if (_stopping) return null;
        P pp = mp.P!;
        if (GcWaiting)
        {
            if (!GcStopM(mp)) return null;
            goto top;
        }
        if (Volatile.Read(ref pp.RunSafePointFn) != 0) RunSafePointFn(pp);
        // now and pollUntil are saved for work stealing so that the M doesn't read the clock again.
        long now = CheckTimers(mp, pp, 0, out long pollUntil, out _);

        // Check the global runnable queue once in a while to ensure fairness. Otherwise two
        // goroutines can completely occupy the local runqueue by constantly respawning each other.
        // Differs from Go only in order: the interval is a knob, not the constant 61, so the
        // modulo is a division; the cheap emptiness read goes first to skip it on most rounds.
        if (Volatile.Read(ref _sched.RunqSize) > 0 && pp.SchedTick % _config.GlobalRunqCheckInterval == 0)
        {
            G? g1;
            using (_sched.Lock.EnterScope()) g1 = GlobRunqGet(pp, 1);
            if (g1 != null) return g1;
        }

        // local runq
        G? gp = RunqGet(pp, out inheritTime);
        if (gp != null) return gp;

        // global runq
        if (Volatile.Read(ref _sched.RunqSize) != 0)
        {
            using (_sched.Lock.EnterScope()) gp = GlobRunqGet(pp, 0);
            if (gp != null) return gp;
        }

        // Poll network: only an optimisation before stealing, skipped if nobody waits on the
        // network or an M is blocked in the poller already (NetpollNonBlocking, Netpoll.cs).
        gp = NetpollNonBlocking();
        if (gp != null) return gp;

        // Spinning Ms: steal work from other Ps. Limit the number of spinning Ms to half the
        // number of busy Ps: this is necessary to prevent excessive CPU consumption when
        // GOMAXPROCS>>1 but the program parallelism is low.
        if (mp.Spinning || 2 * Volatile.Read(ref _sched.NmSpinning) < _gomaxprocs - Volatile.Read(ref _sched.NPIdle))
        {
            if (!mp.Spinning) mp.BecomeSpinning(_sched);
            gp = StealWork(mp, pp, ref now, ref pollUntil, out bool newWork, out inheritTime);
            if (gp != null) return gp; // Successfully stole.
            if (newWork) goto top;     // There may be new timer or GC work; restart to discover.
        }

        // We have nothing to do. Before we drop our P, make a snapshot of the allp slice and the
        // masks: once the P is dropped, procresize may replace them, and the re-check below must
        // use the ones that match allpSnapshot. As in Go this copies the references, not the bits
        // (the bits are read atomically, as they are now), so going idle allocates nothing.
        var allpSnapshot = _allp;
        var idlepMaskSnapshot = _idlepMask;
        var timerpMaskSnapshot = _timerpMask;

        // return P and block
        using (_sched.Lock.EnterScope())
        {
            if (_stopping) return null;
            if (GcWaiting || Volatile.Read(ref pp.RunSafePointFn) != 0) goto top;
            if (_sched.RunqSize != 0)
            {
                gp = GlobRunqGet(pp, 0);
                return gp;
            }
            if (!mp.Spinning && Volatile.Read(ref _sched.NeedSpinning) == 1)
            {
                // See "Delicate dance" below, and Park.cs.
                mp.BecomeSpinning(_sched);
                goto top;
            }
            if (ReleaseP(mp) != pp) Throw("findrunnable: wrong p");
            PIdlePut(pp);
        }

        // Delicate dance: this M goes from spinning to non-spinning, possibly at the same time as
        // new work is submitted. We must drop nmspinning first and then check all sources again
        // (with a fence in between: Interlocked is one). If we did it the other way around, a
        // submitter could see nmspinning != 0 and wake nobody while we park with work queued.
        // Only the last spinning M strictly needs the re-check, but the count may be transiently
        // high, so every spinning M does it (go.dev/issue/43997).
        bool wasSpinning = mp.Spinning;
        if (mp.Spinning)
        {
            mp.Spinning = false;
            if (Interlocked.Decrement(ref _sched.NmSpinning) < 0) Throw("findrunnable: negative nmspinning");

            // Check global and P runqueues again.
            using (_sched.Lock.EnterScope())
            {
                if (_sched.RunqSize != 0)
                {
                    P? pp2 = PIdleGetSpinning();
                    if (pp2 != null)
                    {
                        gp = GlobRunqGet(pp2, 0);
                        if (gp == null) Throw("global runq empty with non-zero runqsize");
                        AcquireIdleP(mp, pp2);
                        mp.BecomeSpinning(_sched);
                        return gp;
                    }
                }
            }

            P? pp3 = CheckRunqsNoP(allpSnapshot, idlepMaskSnapshot);
            if (pp3 != null)
            {
                AcquireIdleP(mp, pp3);
                mp.BecomeSpinning(_sched);
                goto top;
            }
            // Finally, check for timer creation or expiry concurrently with transitioning from
            // spinning to non-spinning.
            pollUntil = CheckTimersNoP(allpSnapshot, timerpMaskSnapshot, pollUntil);
        }

        // Poll network until the next timer (forever if none) when goroutines wait on the network
        // or a timer is pending. Exactly one M blocks in the poller (sched.lastpoll == 0 while it
        // does); a new earlier timer breaks it (WakeNetPoller). That M holds no P and is not
        // idle, so checkdead does not call goroutines waiting on the network deadlocked.
        if ((Volatile.Read(ref _poller.Waiters) > 0 || pollUntil != 0) && Interlocked.Exchange(ref _sched.LastPoll, 0) != 0)
        {
            Interlocked.Exchange(ref _sched.PollUntil, pollUntil);
            if (mp.P != null) Throw("findrunnable: netpoll with p");
            if (mp.Spinning) Throw("findrunnable: netpoll with spinning");
            long delay = -1;
            if (pollUntil != 0)
            {
                delay = pollUntil - Clock.Nanotime();
                if (delay < 0) delay = 0;
            }
            // Not Blocked: Go sets m.blocked only inside notesleep (lock_futex.go), so the polling M
            // prints blocked=false in scheddetail. The sampler sees this M through sched.lastpoll == 0.
            var list = _poller.Netpoll(delay); // block until new work is available
            now = Clock.Nanotime();
            Interlocked.Exchange(ref _sched.PollUntil, 0);
            Interlocked.Exchange(ref _sched.LastPoll, now);
            if (_stopping) return null;
            P? pp4;
            using (_sched.Lock.EnterScope()) pp4 = PIdleGet();
            if (pp4 == null)
            {
                InjectGList(ref list);
            }
            else
            {
                AcquireIdleP(mp, pp4);
                gp = TakeFirstInjectRest(ref list);
                if (gp != null) return gp;
                if (wasSpinning) mp.BecomeSpinning(_sched);
                goto top;
            }
        }
        else if (pollUntil != 0)
        {
            long pollerPollUntil = Interlocked.Read(ref _sched.PollUntil);
            if (pollerPollUntil == 0 || pollerPollUntil > pollUntil) _poller.Break();
        }
        if (!StopM(mp)) return null;
        goto top;
    }

    /// <summary>
    /// findRunnable's acquirep of a P it has just taken from the idle list itself (no startm).
    /// Differs from Go in the wake-up, as StartM's does (Sysmon.cs): if every P was idle, sysmon may
    /// be in its deep sleep, and nothing else would wake it while this P runs goroutines, which
    /// then go unpreempted and a poll-less network unwatched for up to a minute (in Go, until a
    /// system call or a timer wakes it). The wake-up keeps sysmon's backed-off delay.
    /// </summary>
    private void AcquireIdleP(M mp, P pp)
    {
        AcquireP(mp, pp);
        SysmonWake(resetBackoff: false);
    }

    /// <summary>
    /// Schedules gp to run on the current M and runs it until it parks, yields or exits.
    /// inheritTime: gp inherits the remaining time slice (it came from runnext), so schedtick does
    /// not advance. Mirrors runtime.execute (plus gogo: the MoveNext calls).
    /// </summary>
    private void Execute(M mp, G gp, bool inheritTime)
    {
        // A goroutine found before a fatal error does not start after it (FreezeTheWorld's step 1).
        if (_stopping) return;
    again:
        P pp = mp.P!;
        mp.CurG = gp;
        gp.M = mp;
        CasGStatus(gp, GStatus.Runnable, GStatus.Running);
        gp.Preempt = false;
        if (gp.GoYieldPending) gp.GoYieldPending = false; // it parked or yielded since: nothing left to yield
        if (!inheritTime) pp.SchedTick++;
        if (gp.NetpollReadyNs != 0) RecordNetpollWake(pp, gp);

        while (true)
        {
            GOutcome outcome;
            if (gp.WorkRemainingNs > 0 && !GoSched.Go.DoPendingWork(gp, pp))
            {
                outcome = GOutcome.Preempted;
            }
            else if (_stopping)
            {
                // Differs from Go: Go's process exits after a fatal error; here the M must not resume
                // any body once the runtime stops (FreezeTheWorld's step 1), and leaves gp runnable.
                CasGStatus(gp, GStatus.Running, GStatus.Runnable);
                DropG(mp, gp);
                return;
            }
            else if (gp.SemaWake is { } w && !w.Resume(gp))
            {
                // Woken from a semaphore, and the retry parked it again (semacquire1's loop, or
                // sync.Mutex's lockSlow losing to a newcomer): the body has not run.
                outcome = GOutcome.Park;
            }
            else
            {
                gp.Outcome = GOutcome.None;
                (gp.Top ?? gp.Body!).MoveNext();
                outcome = gp.Outcome;
            }

            switch (outcome)
            {
                case GOutcome.Continue:
                    continue;
                case GOutcome.Park:
                    ParkM(mp, gp);
                    return;
                case GOutcome.Preempted when gp.GoYieldPending:
                    GoYieldM(mp, gp);
                    return;
                case GOutcome.Yield:
                case GOutcome.Preempted:
                    GoschedM(mp, gp, outcome == GOutcome.Preempted);
                    return;
                case GOutcome.Exit:
                    GoExit0(mp, gp);
                    return;
                case GOutcome.ExitSyscall:
                    if (ExitSyscall0(mp, gp))
                    {
                        inheritTime = false;
                        goto again; // execute(gp, false) on the P that turned up
                    }
                    // gp is on the global queue. A locked M waits for it to be handed back
                    // (the schedule loop's stoplockedm); any other M parks until there is work.
                    if (mp.LockedG == null) StopM(mp);
                    return;
                case GOutcome.Panic:
                    // The body's builder froze the world when the exception escaped (GoTask.cs's
                    // SetException); this wakes the idle Ms. Record the error before goexit: if gp
                    // is main, its exit ends the run.
                    Fatal(gp.Panic!);
                    GoExit0(mp, gp);
                    return;
                default:
                    Fatal(new GoUsageException(
                        $"goroutine {gp.Goid} returned to the scheduler without a runtime await (it awaited something the runtime does not resume)"));
                    return;
            }
        }
    }

    /// <summary>
    /// A goroutine that netpoll readied starts running: records the time since the poll returned it
    /// into pp's histogram (made on the P's first one, so the hot path allocates nothing). Owner only.
    /// </summary>
    private static void RecordNetpollWake(P pp, G gp)
    {
        long waited = Clock.Nanotime() - gp.NetpollReadyNs;
        gp.NetpollReadyNs = 0;
        Observability.Latency.Record(pp.NetpollWakeLatency ??= Observability.Latency.NewHistogram(), waited);
    }

    /// <summary>
    /// Publishes a park recorded by an awaiter, now that gp's frames have unwound: Running->Waiting,
    /// drop gp from the M, then release the awaiter's lock. After the release a waker may ready gp.
    /// Mirrors runtime.park_m.
    /// </summary>
    private void ParkM(M mp, G gp)
    {
        CasGStatus(gp, GStatus.Running, GStatus.Waiting);
        DropG(mp, gp);
        mp.P!.Counters.Parks++;
        var unlock = gp.ParkUnlock;
        gp.ParkUnlock = null;
        unlock?.ParkUnlock();
    }

    /// <summary>
    /// Puts gp on the global queue and schedules. Mirrors runtime.goschedImpl (gosched_m /
    /// gopreempt_m) of Go 1.19, which wakes no P: this M goes straight back to schedule and finds
    /// gp there itself if nothing else is runnable, so a goroutine looping on Gosched beside an
    /// idle P leaves it idle (schedtrace idleprocs=1), as in Go 1.19. (Later Go calls wakep here;
    /// the seed has no goschedImpl, so Go 1.19 decides.)
    /// </summary>
    private void GoschedM(M mp, G gp, bool preempted)
    {
        CasGStatus(gp, GStatus.Running, GStatus.Runnable);
        DropG(mp, gp);
        gp.RunnableSince = 0;
        using (_sched.Lock.EnterScope()) GlobRunqPut(gp);
        if (preempted) mp.P!.Counters.Preempts++;
    }

    /// <summary>
    /// Puts gp on its P's local run queue (at the tail, not in runnext) and schedules: the yield of
    /// a starving Mutex.Unlock, whose waiter ready put in runnext. Mirrors runtime.goyield_m.
    /// </summary>
    private void GoYieldM(M mp, G gp)
    {
        gp.GoYieldPending = false;
        CasGStatus(gp, GStatus.Running, GStatus.Runnable);
        DropG(mp, gp);
        RunqPut(mp.P!, gp, next: false);
    }

    /// <summary>Finishes a goroutine: to Dead, onto the P's free list with its body kept. Mirrors runtime.goexit0.</summary>
    private void GoExit0(M mp, G gp)
    {
        P pp = mp.P!;
        CasGStatus(gp, GStatus.Running, GStatus.Dead);
        DropG(mp, gp);
        bool isMain = gp.IsMain;
        gp.IsMain = false;
        gp.Body?.Clear();
        gp.Top = null;
        gp.Param = null;
        gp.Panic = null;
        gp.Preempt = false;
        gp.WorkRemainingNs = 0;
        gp.WaitReason = WaitReason.Zero;
        pp.GFinished++;
        bool locked = gp.LockedM != null;
        if (locked)
        {
            gp.LockedM = null;
            gp.LockedCount = 0;
            mp.LockedG = null;
        }
        GFPut(pp, gp);
        if (isMain) MainExited();
        if (locked)
        {
            // The goroutine exited locked: its thread goes with it.
            mp.Exited = true;
            MExitLocked(mp);
        }
    }

    private static void DropG(M mp, G gp)
    {
        gp.M = null;
        mp.CurG = null;
    }

    /// <summary>
    /// Marks gp ready to run: Waiting->Runnable, into the current P's runnext (it inherits the
    /// waker's time slice), then wakep. From a thread with no P (a .NET task completion), gp goes
    /// to the global queue. No channel lock may be held (checked with ChanLockCheck on).
    /// Mirrors runtime.ready (goready). False, with nothing done, once the runtime is stopping.
    /// </summary>
    internal bool Ready(G gp) => Ready(gp, M.t_current);

    /// <summary>
    /// <see cref="Ready(G)"/> from the goroutine running on mp (its waker's gp.M, which the
    /// channel and select paths hold already): saves reading the thread's M again, a call into
    /// the TLS helper here (Go's getg() is a register).
    /// </summary>
    internal bool Ready(G gp, M? mp)
    {
        // A stopped runtime resumes nobody (a goroutine of it may still sit in a wait queue that
        // outlives it: a sema shared with the host or with another runtime). False: gp will not run.
        if (_stopping) return false;
        if (ChanLockCheck.Enabled && ChanLockCheck.Held != 0) Throw("ready: called with a channel lock held");
        CasGStatus(gp, GStatus.Waiting, GStatus.Runnable);
        if (mp != null && mp.Runtime == this && mp.P is { } pp)
        {
            RunqPut(pp, gp, next: true);
            WakeP();
        }
        else
        {
            InjectFromOutside(gp);
        }
        return true;
    }

    /// <summary>
    /// Queues a runnable G from a thread that holds no P (the host, a .NET task completion).
    /// Differs from Go: there, only Ms make Gs runnable, so checkdead always sees the submitter as
    /// a running M; here the submitter is counted in _outsidePending until wakep is done, and
    /// checkdead treats it as running. Mirrors runtime.injectglist for a single G.
    /// </summary>
    internal void InjectFromOutside(G gp)
    {
        Interlocked.Increment(ref _outsidePending);
        try
        {
            using (_sched.Lock.EnterScope()) GlobRunqPut(gp);
            StartM(null, false); // like injectglist: start an M for the new work if a P is idle
        }
        finally { if (Interlocked.Decrement(ref _outsidePending) == 0) RecheckDead(); }
    }

    /// <summary>
    /// checkdead skipped while a thread outside the runtime was readying a G: once that thread is
    /// done, check again if every M went idle meanwhile (no M would otherwise check).
    /// </summary>
    internal void RecheckDead()
    {
        if (_stopping) return;
        using (_sched.Lock.EnterScope())
        {
            if (_sched.MNext - _sched.NmFreed - _sched.NmIdle - _sched.NmIdleLocked == 0) CheckDead();
        }
    }

    /// <summary>
    /// The one gate for G status changes: an illegal move throws. Mirrors runtime.casgstatus.
    /// </summary>
    /// <remarks>
    /// Differs from Go: a checked store, not a compare-and-swap. Go's casgstatus must CAS because
    /// the garbage collector sets the _Gscan bit on a G in any status, concurrently with its owner;
    /// nothing here scans goroutines, so every legal move is made by the G's one owner of the
    /// moment (the table on GStatus: the M running it, the M that dequeued it, the waker that won
    /// its sudog under a lock or the select's selectDone CAS), and the queue or lock that handed it
    /// over already orders it. Readers of the status (sampler, schedtrace, checkdead) only read.
    /// The store is a release, so whoever next takes the G through that queue or lock sees it. A
    /// hop through a channel moves three statuses; as lock cmpxchg they were three full fences
    /// (about 10 ns each here) for nothing. The check still throws on a move from the wrong status
    /// (a G readied twice one after the other, run while running, exited twice). What it no longer
    /// catches is two owners racing on one move (two wakers both reading Waiting): that would be a
    /// broken hand-off upstream, and it shows as a goroutine run twice, which the conservation
    /// tests count.
    /// </remarks>
    internal static void CasGStatus(G gp, GStatus oldval, GStatus newval)
    {
        if (Volatile.Read(ref gp.AtomicStatus) != (int)oldval)
            Throw($"casgstatus: goroutine {gp.Goid} from {oldval} to {newval}, but status is {gp.Status}");
        Volatile.Write(ref gp.AtomicStatus, (int)newval);
        // The stop-the-world invariant (StopTheWorld.cs): nothing starts running while the world is stopped.
        if (newval == GStatus.Running && gp.Runtime.WorldStopped)
            Throw($"casgstatus: goroutine {gp.Goid} starts running while the world is stopped");
    }

    /// <summary>
    /// Called with sched.lock held when an M goes idle: if no M is running, no goroutine can ever
    /// become runnable again, and goroutines that wait are deadlocked. Mirrors runtime.checkdead.
    /// </summary>
    private void CheckDead()
    {
        AssertLockHeld(ref _sched.Lock);
        if (_stopping || _fatal != null) return;
        long run = _sched.MNext - _sched.NmFreed - _sched.NmIdle - _sched.NmIdleLocked;
        if (run > 0) return;
        if (run < 0) Throw("checkdead: inconsistent counts");
        if (Volatile.Read(ref _outsidePending) > 0 || Volatile.Read(ref _externalWaits) > 0) return;

        int waiting = 0;
        var blocked = new List<string>();
        var tracebacks = new List<string>();
        lock (_allgsLock)
        {
            foreach (var gp in _allgs)
            {
                switch (gp.Status)
                {
                    case GStatus.Waiting:
                        waiting++;
                        if (blocked.Count < 64)
                        {
                            string header = $"goroutine {gp.Goid} [{gp.WaitReason.Text()}]";
                            blocked.Add(header);
                            tracebacks.Add($"{header}:\n{string.Join("\n", Traceback.Frames(gp))}");
                        }
                        break;
                    case GStatus.Runnable:
                    case GStatus.Running:
                    case GStatus.Syscall:
                        Throw($"checkdead: runnable g (goroutine {gp.Goid} in status {gp.Status})");
                        break;
                }
            }
        }
        // Differs from Go: no goroutines at all is an idle runtime (a notebook between runs), not
        // "no goroutines (main called runtime.Goexit) - deadlock!".
        if (waiting == 0) return;
        // There are no goroutines running, so we can look at the Ps: a pending timer will ready
        // a goroutine. Goroutines waiting on the network never get here: while any waits, the
        // last M to go idle blocks in netpoll instead (findRunnable), and run above counts it.
        foreach (var pp in _allp)
            if (Volatile.Read(ref pp.NumTimers) > 0) return;
        FatalLocked(new DeadlockException("fatal error: all goroutines are asleep - deadlock!", blocked, tracebacks));
    }

    /// <summary>
    /// Go's throw: a broken invariant stops the runtime. On one of a runtime's Ms the world is
    /// frozen here, before the exception unwinds (fatalthrow's startpanic_m); the catch that
    /// receives it (MStart's, or the goroutine's builder) then calls Fatal.
    /// </summary>
    internal static void Throw(string message)
    {
        var e = new RuntimeInvariantException(message);
        M.t_current?.Runtime.FreezeTheWorld(e);
        throw e;
    }

    /// <summary>
    /// Checks that l is held. Differs from Go: the runtime's mutex does not record its owner
    /// (Internal/RuntimeMutex.cs), so this catches a lock nobody holds, not one held by another M.
    /// </summary>
    private static void AssertLockHeld(ref Internal.RuntimeMutex l)
    {
        if (!l.IsHeld) Throw("assertLockHeld: lock not held");
    }

    /// <summary>The running M's random generator (the host's, when called from outside).</summary>
    private ref FastRand CurrentRand()
    {
        M? mp = M.t_current;
        if (mp != null && mp.Runtime == this) return ref mp.Rand;
        return ref _hostRand;
    }

    /// <summary>The random generator of the M running gp.</summary>
    internal ref FastRand RandOf(G gp) => ref gp.M!.Rand;

    private ulong SeedFor(long mid)
    {
        ulong s = _config.Seed != 0 ? _config.Seed : (ulong)Random.Shared.NextInt64();
        return s * 0x9E3779B97F4A7C15UL + (ulong)mid * 0xBF58476D1CE4E5B9UL + 1;
    }
}
