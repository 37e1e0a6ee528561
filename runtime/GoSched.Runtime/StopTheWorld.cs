// Stop-the-world: halting every P, and asking every P to run a function at a safe point
// (proc.go stopTheWorldWithSema, startTheWorldWithSema, gcstopm, forEachP, runSafePointFn).
//
// Why it is needed. Some changes to the scheduler's own structure cannot be made while Ms run
// goroutines on Ps: GOMAXPROCS (procresize replaces the set of Ps, Procresize.cs) is the one this
// runtime has, and the synthetic pauses of the stwpauseus/stwperiodms knobs stand in for Go's GC
// pauses. Nothing can interrupt an M from outside (there are no signals here, as there were none
// in Go before 1.14), so stopping means asking every holder of a P to give it up at its next safe
// point, and waiting until all of them have.
//
// The protocol (stopTheWorldWithSema), with sched.lock held for steps 1-4:
//   1. stopwait = gomaxprocs; gcwaiting = 1. From now on every M that passes a scheduling point
//      (the top of schedule and findRunnable, the "about to drop my P" check, stealWork's loop,
//      handoffp, entersyscall) gives its P up in gcstopm: P to _Pgcstop, stopwait--, and the M
//      parks in stopm. The last one wakes the stopper (stopnote).
//   2. preemptall: every goroutine running on a P is asked to yield at its next await.
//   3. The stopper's own P, if it has one (a goroutine calling Go.SetGomaxprocs), is stopped in
//      place: its goroutine keeps running, as Go's stopping goroutine does.
//   4. Ps in system calls are taken by CAS (_Psyscall -> _Pgcstop), idle Ps off the idle list.
//   5. Wait on stopnote for the rest, re-preempting every 100 µs (a goroutine may have started
//      between preemptall and the end of its P's scheduling round, or come back from a syscall
//      onto its old P by winning the CAS of step 4).
// Then every P is in _Pgcstop and stopwait is 0, both checked (Go's "stopTheWorld: not
// stopped"). startTheWorldWithSema runs procresize (with the new GOMAXPROCS if one was asked),
// clears gcwaiting, hands each P with local work to an M and calls wakep for the rest.
//
// The race it must survive: an M that gives its P up for another reason at the same time (syscall
// hand-off, a locked M parking, an M going idle). Each such path checks gcwaiting under
// sched.lock before putting a P on the idle list and stops it instead, so each P is counted
// exactly once: by the stopper's loops (idle or in syscall) or by one gcstopm/handoffp.
//
// Invariant (checked, not assumed): while the world is stopped no goroutine starts running.
// casgstatus throws if a goroutine is moved to _Grunning while _worldStopped is set, and when the
// stop completes every goroutine but the stopper's own is checked not to be _Grunning.
//
// forEachP is the lighter sibling: without stopping anything, every P runs a function once at
// its next safe point (the P's owner at the top of schedule/findRunnable, the caller for idle Ps
// and for Ps taken out of syscalls), and the caller waits until all have (safePointWait).
//
// Differs from Go: the stopper may be a thread outside the runtime (the host calling
// GoRuntime.SetGomaxprocs, or the pause thread of the stwperiodms knob): it has no P, so stopwait
// starts at gomaxprocs and checkdead counts it as a running thread (_outsidePending) for as long
// as the world is stopped. worldsema is a flag: a host waits for it; a goroutine that finds it
// taken yields and retries (Go parks it on the semaphore), so that it never holds its P while
// another stopper waits for that P.
using GoSched.Internal;

namespace GoSched;

public sealed partial class GoRuntime
{
    /// <summary>sched.gcwaiting: a stop-the-world is in progress (or the world is stopped). Read racily at the scheduling points.</summary>
    private int _gcWaiting;

    /// <summary>sched.stopwait: Ps still to stop. Under sched.lock.</summary>
    private int _stopWait;

    /// <summary>sched.stopnote: the last P to stop wakes the stopper.</summary>
    private readonly Note _stopNote = new();

    /// <summary>Set from the end of stopTheWorld to the start of startTheWorld: no goroutine may start running (checked in CasGStatus).</summary>
    private volatile bool _worldStopped;

    /// <summary>worldsema: 1 while someone owns stop-the-world. Only one stopper at a time.</summary>
    private int _worldSema;

    /// <summary>newprocs: GOMAXPROCS for the next startTheWorld (0: unchanged). Written with worldsema held.</summary>
    private int _newProcs;

    /// <summary>sched.safePointWait / safePointFn / safePointNote (forEachP). Wait and Fn under sched.lock.</summary>
    private int _safePointWait;
    private Action<P>? _safePointFn;
    private readonly Note _safePointNote = new();

    /// <summary>The world stop in progress: who asked and when (for the recording).</summary>
    private string _stwReason = "";
    private long _stwStartNs, _stwStoppedNs;
    private bool _stwByHost;
    private long _stwCount, _stwTotalNs;

    /// <summary>True while a stop-the-world is in progress or the world is stopped (racy read).</summary>
    internal bool GcWaiting => Volatile.Read(ref _gcWaiting) != 0;

    /// <summary>True from the moment every P stopped until the world starts again.</summary>
    internal bool WorldStopped => _worldStopped;

    /// <summary>GOMAXPROCS now (it changes at run time through <see cref="SetGomaxprocs"/>).</summary>
    public int Gomaxprocs => Volatile.Read(ref _gomaxprocs);

    /// <summary>
    /// Stops the world from a thread outside the runtime: returns once no P runs goroutines, false
    /// if the runtime stopped meanwhile. Pair with <see cref="StartTheWorld"/>. Mirrors
    /// runtime.stopTheWorld (semacquire(&amp;worldsema) + stopTheWorldWithSema).
    /// </summary>
    internal bool StopTheWorld(string reason)
    {
        if (M.t_current?.Runtime == this)
            throw new GoUsageException("a goroutine stops the world through Go.SetGomaxprocs, not StopTheWorld");
        if (!_started) throw new InvalidOperationException("the runtime is not started");
        if (!AcquireWorldSemaHost()) return false;
        Interlocked.Increment(ref _outsidePending); // checkdead: the stopper is a running thread
        if (StopTheWorldWithSema(reason, host: true)) return true;
        Interlocked.Decrement(ref _outsidePending);
        Volatile.Write(ref _worldSema, 0);
        return false;
    }

    /// <summary>
    /// Starts the world a host thread stopped, with <paramref name="newProcs"/> Ps if not 0 (Go's
    /// newprocs). Mirrors runtime.startTheWorld (startTheWorldWithSema + semrelease).
    /// </summary>
    internal void StartTheWorld(int newProcs = 0)
    {
        if (Volatile.Read(ref _worldSema) == 0 || !_stwByHost) Throw("startTheWorld: world not stopped by this thread");
        if (newProcs != 0) _newProcs = newProcs;
        StartTheWorldWithSema();
        Volatile.Write(ref _worldSema, 0);
        if (Interlocked.Decrement(ref _outsidePending) == 0) RecheckDead();
    }

    /// <summary>
    /// Halts every P; the caller holds worldsema. Returns false if the runtime started stopping
    /// first. Mirrors runtime.stopTheWorldWithSema.
    /// </summary>
    private bool StopTheWorldWithSema(string reason, bool host)
    {
        M? mp = host ? null : M.t_current;
        P? own = mp?.P;
        _stwReason = reason;
        _stwByHost = host;
        _stwStartNs = Clock.Nanotime();
        bool wait;
        using (_sched.Lock.EnterScope())
        {
            if (_stopping) return false;
            _stopWait = _gomaxprocs;
            Interlocked.Exchange(ref _gcWaiting, 1);
            PreemptAll(mp?.CurG);
            // Stop the current P: its goroutine goes on running (Pgcstop is only diagnostic).
            if (own != null)
            {
                Volatile.Write(ref own.Status, (int)PStatus.GcStop);
                _stopWait--;
            }
            // Try to retake all Ps in Psyscall status.
            foreach (var pp in _allp)
            {
                if (Volatile.Read(ref pp.Status) == (int)PStatus.Syscall &&
                    Interlocked.CompareExchange(ref pp.Status, (int)PStatus.GcStop, (int)PStatus.Syscall) == (int)PStatus.Syscall)
                {
                    pp.SyscallTick++;
                    _stopWait--;
                }
            }
            // Stop idle Ps.
            while (PIdleGet() is { } pp)
            {
                Volatile.Write(ref pp.Status, (int)PStatus.GcStop);
                _stopWait--;
            }
            wait = _stopWait > 0;
        }

        // Wait for remaining Ps to stop voluntarily.
        if (wait && !WaitRepreempting(_stopNote, mp?.CurG)) return false;

        // Sanity checks.
        string bad = "";
        using (_sched.Lock.EnterScope())
        {
            if (_stopWait != 0) bad = "stopTheWorld: not stopped (stopwait != 0)";
            else
            {
                foreach (var pp in _allp)
                    if (Volatile.Read(ref pp.Status) != (int)PStatus.GcStop) bad = "stopTheWorld: not stopped (status != _Pgcstop)";
            }
        }
        if (bad != "") Throw(bad);
        foreach (var gp in AllGs())
        {
            if (gp != mp?.CurG && gp.Status == GStatus.Running)
                Throw($"stopTheWorld: not stopped (goroutine {gp.Goid} is running)");
        }
        _stwStoppedNs = Clock.Nanotime();
        _worldStopped = true; // worldStopped()
        return true;
    }

    /// <summary>
    /// Resizes the Ps if a new GOMAXPROCS was asked, clears gcwaiting, gives every P with local
    /// work to an M and wakes one more for the rest. Mirrors runtime.startTheWorldWithSema.
    /// </summary>
    private void StartTheWorldWithSema()
    {
        if (!_worldStopped) Throw("startTheWorld: world not stopped");
        if (_poller.Inited)
        {
            var list = _poller.Netpoll(0); // non-blocking
            InjectGList(ref list);
        }
        P? p1;
        int oldProcs;
        using (_sched.Lock.EnterScope())
        {
            oldProcs = _gomaxprocs;
            int procs = _gomaxprocs;
            if (_newProcs != 0)
            {
                procs = _newProcs;
                _newProcs = 0;
            }
            if (_stopping)
            {
                // The runtime is ending: no P is handed out again.
                _worldStopped = false;
                Interlocked.Exchange(ref _gcWaiting, 0);
                return;
            }
            p1 = ProcResize(procs);
            _worldStopped = false; // worldStarted()
            Interlocked.Exchange(ref _gcWaiting, 0);
        }
        SysmonWake(resetBackoff: true); // sysmon slept while the world was stopped (sched.sysmonwait)

        while (p1 != null)
        {
            P pp = p1;
            p1 = pp.Link;
            pp.Link = null;
            StartM(pp, spinning: false); // to an idle M (Go's mget in procresize) or a new one
        }
        long end = Clock.Nanotime();
        // Wakeup an additional proc in case we have excessive runnable goroutines in local queues
        // or in the global queue. If we don't, the proc will park itself.
        WakeP();
        RecordPause(new Observability.StwPause(_stwStartNs - _startNs, _stwStoppedNs - _stwStartNs, end - _stwStartNs, _stwReason, oldProcs, Gomaxprocs));
    }

    /// <summary>Takes worldsema from a thread outside the runtime; false if the runtime started stopping first.</summary>
    private bool AcquireWorldSemaHost()
    {
        var spin = new SpinWait();
        while (Interlocked.CompareExchange(ref _worldSema, 1, 0) != 0)
        {
            if (_stopping) return false;
            spin.SpinOnce(); // escalates to sleeping: the holder may be a goroutine that needs this core
        }
        return true;
    }

    /// <summary>
    /// Waits until <paramref name="note"/> is woken (the last P stopped, or ran the safe point
    /// function), every 100 µs re-preempting in case of races (a goroutine started after
    /// preemptall, or one came back from a syscall onto its P). False if the runtime started stopping.
    /// </summary>
    private bool WaitRepreempting(Note note, G? self)
    {
        while (true)
        {
            if (note.TSleep(100_000))
            {
                note.Clear();
                return true;
            }
            if (_stopping) return false;
            using (_sched.Lock.EnterScope()) PreemptAll(self);
        }
    }

    /// <summary>
    /// Asks the goroutine on every running P, except <paramref name="self"/>, to yield at its next
    /// await. Only reads the Ps: stop-the-world calls it with sched.lock held, FreezeTheWorld
    /// without (as Go's freezetheworld does), and a request that races an M switching goroutines is
    /// harmless (a goroutine that starts while stopping is never resumed). Mirrors runtime.preemptall.
    /// </summary>
    private void PreemptAll(G? self)
    {
        foreach (var pp in _allp)
        {
            if (Volatile.Read(ref pp.Status) != (int)PStatus.Running) continue;
            G? gp = pp.M?.CurG;
            if (gp != null && gp != self) gp.Preempt = true;
        }
    }

    /// <summary>
    /// Stops the current M for stop-the-world: gives its P up as _Pgcstop, counts it, parks.
    /// Returns false if the runtime is stopping. Mirrors runtime.gcstopm.
    /// </summary>
    private bool GcStopM(M mp)
    {
        if (!GcWaiting) Throw("gcstopm: not waiting for gc");
        if (mp.Spinning)
        {
            mp.Spinning = false;
            // OK to just drop nmspinning here, startTheWorld will unpark threads as necessary.
            if (Interlocked.Decrement(ref _sched.NmSpinning) < 0) Throw("gcstopm: negative nmspinning");
        }
        P pp = ReleaseP(mp);
        using (_sched.Lock.EnterScope())
        {
            Volatile.Write(ref pp.Status, (int)PStatus.GcStop);
            if (--_stopWait == 0) _stopNote.Wakeup();
        }
        return StopM(mp);
    }

    /// <summary>
    /// A P given up while the world stops (handoffp, entersyscall) is counted as stopped instead of
    /// going idle. sched.lock must be held. True if pp was stopped. Mirrors the gcwaiting branch of
    /// runtime.handoffp and runtime.entersyscall_gcwait.
    /// </summary>
    private bool StopPIfWaiting(P pp, PStatus from)
    {
        AssertLockHeld(ref _sched.Lock);
        if (!GcWaiting || _stopWait <= 0) return false;
        if (Interlocked.CompareExchange(ref pp.Status, (int)PStatus.GcStop, (int)from) != (int)from) return false;
        if (from == PStatus.Syscall) pp.SyscallTick++;
        if (--_stopWait == 0) _stopNote.Wakeup();
        return true;
    }

    /// <summary>Records a finished stop in the recording, with its share of the run's totals.</summary>
    private void RecordPause(Observability.StwPause pause)
    {
        Interlocked.Increment(ref _stwCount);
        Interlocked.Add(ref _stwTotalNs, pause.DurationNs);
        Recording.AddPause(pause);
    }

    /// <summary>Stop-the-worlds completed so far, and their total length in ns.</summary>
    internal (long Count, long TotalNs) PauseTotals => (Interlocked.Read(ref _stwCount), Interlocked.Read(ref _stwTotalNs));

    /// <summary>
    /// Calls <paramref name="fn"/> once for every P, each at a safe point of that P (its M between
    /// goroutines), without stopping the world; returns when all have run. Called from a thread
    /// outside the runtime; false if the runtime stopped first. Mirrors runtime.forEachP.
    /// Differs from Go: the caller has no P of its own, so safePointWait starts at gomaxprocs.
    /// </summary>
    internal bool ForEachP(Action<P> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        if (M.t_current?.Runtime == this) throw new GoUsageException("forEachP is called from outside the runtime's goroutines");
        if (!_started) throw new InvalidOperationException("the runtime is not started");
        // The caller must hold worldsema: GOMAXPROCS cannot change under forEachP.
        if (!AcquireWorldSemaHost()) return false;
        // checkdead must count this thread as running, as Go counts forEachP's M: a P it takes out
        // of a syscall is in hand-off while that syscall's M may come back and go idle.
        Interlocked.Increment(ref _outsidePending);
        try { return ForEachPWithSema(fn); }
        finally
        {
            Volatile.Write(ref _worldSema, 0);
            if (Interlocked.Decrement(ref _outsidePending) == 0) RecheckDead();
        }
    }

    private bool ForEachPWithSema(Action<P> fn)
    {
        bool wait;
        using (_sched.Lock.EnterScope())
        {
            if (_stopping) return false;
            if (_safePointWait != 0) Throw("forEachP: sched.safePointWait != 0");
            _safePointWait = _gomaxprocs;
            _safePointFn = fn;
            // Ask all Ps to run the safe point function.
            foreach (var pp in _allp) Volatile.Write(ref pp.RunSafePointFn, 1);
            PreemptAll(null);
            // Any P entering _Pidle or _Psyscall from now on will observe runSafePointFn == 1 and
            // will call runSafePointFn when changing its status. Run the safe point function for
            // all idle Ps: sched.pidle will not change because we hold sched.lock.
            for (P? pp = _sched.PIdle; pp != null; pp = pp.Link)
            {
                if (Interlocked.CompareExchange(ref pp.RunSafePointFn, 0, 1) == 1)
                {
                    fn(pp);
                    _safePointWait--;
                }
            }
            wait = _safePointWait > 0;
        }

        // Force Ps currently in _Psyscall into _Pidle and hand them off to induce safe point
        // function execution.
        foreach (var pp in _allp)
        {
            if (Volatile.Read(ref pp.Status) == (int)PStatus.Syscall && Volatile.Read(ref pp.RunSafePointFn) == 1 &&
                Interlocked.CompareExchange(ref pp.Status, (int)PStatus.Idle, (int)PStatus.Syscall) == (int)PStatus.Syscall)
            {
                pp.SyscallTick++;
                HandoffP(pp);
            }
        }

        // Wait for remaining Ps to run fn.
        if (wait && !WaitRepreempting(_safePointNote, null)) return false;
        using (_sched.Lock.EnterScope())
        {
            if (_safePointWait != 0) Throw("forEachP: not done");
            foreach (var pp in _allp)
                if (Volatile.Read(ref pp.RunSafePointFn) != 0) Throw("forEachP: P did not run fn");
            _safePointFn = null;
        }
        return true;
    }

    /// <summary>
    /// Runs the pending safe point function for pp, unless forEachP already ran it on pp's behalf
    /// (the CAS resolves that race). Must be checked on every P transition to idle or syscall and at
    /// the top of schedule. Mirrors runtime.runSafePointFn.
    /// </summary>
    private void RunSafePointFn(P pp)
    {
        if (Interlocked.CompareExchange(ref pp.RunSafePointFn, 0, 1) != 1) return;
        _safePointFn!(pp);
        using (_sched.Lock.EnterScope())
        {
            if (--_safePointWait == 0) _safePointNote.Wakeup();
        }
    }

    /// <summary>
    /// runSafePointFn for a P being handed off or going idle, sched.lock held (the handoffp branch).
    /// </summary>
    private void RunSafePointFnLocked(P pp)
    {
        AssertLockHeld(ref _sched.Lock);
        if (Volatile.Read(ref pp.RunSafePointFn) == 0 || Interlocked.CompareExchange(ref pp.RunSafePointFn, 0, 1) != 1) return;
        _safePointFn!(pp);
        if (--_safePointWait == 0) _safePointNote.Wakeup();
    }
}

// Synthetic pauses (the stwpauseus / stwperiodms knobs): a thread of the runtime's own stops the
// world every stwperiodms and keeps it stopped for stwpauseus once every P has stopped, standing
// in for Go's GC stop-the-world phases, so that a notebook can see how pauses show in scheduling
// and timer latency. The k-th pause is asked for at start + k·period, never earlier, or as soon as
// the previous one ends if the thread fell behind: while a stop plus a pause fit in a period, a
// run of length W has W/period pauses (±1); when stops are slower (CPU-bound goroutines on a busy
// machine) the pauses run behind their schedule, never ahead. Each pause is recorded
// (Recording.Pauses) with its time-to-stop and length.
public sealed partial class GoRuntime
{
    private Thread? _pauserThread;
    private readonly Note _pauserNote = new();

    private void StartPauser()
    {
        if (_config.StwPeriodNs <= 0) return;
        Interlocked.Increment(ref _threadsAlive);
        _pauserThread = new Thread(Pauser, maxStackSize: 1 << 20) { IsBackground = true, Name = $"gosched-{_id}-stw" };
        _pauserThread.Start();
    }

    /// <summary>Wakes the pause thread so it sees the runtime stopping.</summary>
    private void WakePauser()
    {
        if (_pauserThread != null) _pauserNote.Signal();
    }

    private void Pauser()
    {
        try
        {
            long period = _config.StwPeriodNs, pause = _config.StwPauseNs;
            long next = _startNs + period;
            while (!_stopping)
            {
                if (!SleepUntil(next)) break;
                next += period;
                if (!StopTheWorld("pause")) break;
                SleepUntil(Clock.Nanotime() + pause);
                StartTheWorld();
            }
        }
        catch (Exception e)
        {
            Fatal(e is RuntimeInvariantException ? e : new RuntimeInvariantException($"stw pauser: {e}"));
        }
        finally
        {
            ThreadExited();
        }
    }

    /// <summary>
    /// Waits until <paramref name="deadline"/> (nanotime): futex sleep, then a spin for the last
    /// 200 µs (a futex wait wakes about 0.1 ms late). False if the runtime started stopping.
    /// </summary>
    private bool SleepUntil(long deadline)
    {
        while (!_stopping)
        {
            long left = deadline - Clock.Nanotime();
            if (left <= 0) return true;
            if (left > 200_000)
            {
                _pauserNote.TSleep(left - 200_000);
                _pauserNote.Consume();
            }
            else
            {
                Thread.SpinWait(64);
            }
        }
        return false;
    }
}
