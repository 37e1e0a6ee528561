// Worker thread parking/unparking.
//
// The goal: keep enough Ms running to use every P that has work, and park the rest, without
// burning CPU on Ms that find nothing and without ever leaving runnable work stranded while a P
// sits idle. Two simple answers fail. Handing all scheduler state to one central place serialises
// every spawn and wake-up. Waking an M whenever a goroutine becomes ready (one per ready G) makes
// Ms thrash: most find the work already taken and park again, at two futex calls each.
//
// What is kept (the rule of Go's proc.go): an M is "spinning" while it is out of local work and
// looking for some in the global queue and in other Ps' queues. When a goroutine becomes ready
// (newproc, ready), we wake one more M only if there is an idle P and no M is spinning already
// (wakep). A spinning M that finds work stops spinning and, in resetspinning, itself calls wakep,
// so a burst of new work ramps Ms up one at a time, each new one only once the previous found
// something. Spinning Ms are capped at half of the busy Ps (findRunnable).
//
// The race this must survive: an M that stops spinning and parks concurrently with a submitter
// that saw nmspinning != 0 and so woke nobody. If both miss each other, work sits in a queue while
// every M sleeps. The protocol closes it, in this order:
//   1. The submitter publishes the work (run queue put), then reads nmspinning (wakep).
//   2. The spinning M first decrements nmspinning, then re-checks every P's run queue and the
//      global queue (findRunnable's "delicate dance", CheckRunqsNoP) before it parks.
// Interlocked operations are full fences in .NET, so either the submitter sees nmspinning == 0 and
// wakes an M, or the M's re-check sees the work. Go 1.21 (the seed) adds one more case: wakep may
// find no idle P while a non-spinning M is about to give its P up; pidlegetSpinning then sets
// needspinning, and that M, seeing it under sched.lock, becomes spinning instead of dropping its P.
// While that flag stands and no P is idle, wakep has nothing to add and returns after two reads
// (Go takes the lock to set it again; see WakeP).
using GoSched.Internal;

namespace GoSched;

public sealed partial class GoRuntime
{
    /// <summary>
    /// Tries to add one more P to execute Gs. Called when a G is made runnable (newproc, ready).
    /// Mirrors runtime.wakep (Go 1.21).
    /// </summary>
    internal void WakeP()
    {
        // Every P busy and needspinning already set: the locked path below would find no idle P
        // and set needspinning again, nothing more (see the essay above). Not in Go: there,
        // every readied G while all Ps are busy pays a CAS of nmspinning, sched.lock and a
        // decrement (4 locked instructions, ~45% of the spawn benchmark's time at GOMAXPROCS=2).
        // Sound because the caller's publication of the work is fenced (runnext's CAS, or the
        // barrier in RunqPut; the other callers follow an Interlocked op): whoever consumes this
        // needspinning (becomeSpinning, handoffp) does so after our read, so after the work is
        // visible, and looks at every queue from then on. An idle P we miss by reading NPIdle
        // racily was put there by an M that saw needspinning == 0 under sched.lock; the 1 we
        // read was set after it, by a wakep that found no idle P, so that P had been taken again
        // by an M that will look for work.
        if (Volatile.Read(ref _sched.NPIdle) == 0 && Volatile.Read(ref _sched.NeedSpinning) == 1) return;
        // Be conservative about spinning threads: only start one if none exist already.
        if (Volatile.Read(ref _sched.NmSpinning) != 0 || Interlocked.CompareExchange(ref _sched.NmSpinning, 1, 0) != 0)
            return;
        P? pp;
        using (_sched.Lock.EnterScope())
        {
            pp = PIdleGetSpinning();
            if (pp == null)
            {
                if (Interlocked.Decrement(ref _sched.NmSpinning) < 0) Throw("wakep: negative nmspinning");
                return;
            }
        }
        StartM(pp, spinning: true);
    }

    /// <summary>
    /// Called by an M that found work while spinning: it stops spinning and, since it took the
    /// last spinner's role, may wake another. Mirrors runtime.resetspinning.
    /// </summary>
    private void ResetSpinning(M mp)
    {
        if (!mp.Spinning) Throw("resetspinning: not a spinning m");
        mp.Spinning = false;
        if (Interlocked.Decrement(ref _sched.NmSpinning) < 0) Throw("findrunnable: negative nmspinning");
        // M wakeup policy is deliberately conservative: see the essay above.
        WakeP();
    }

    /// <summary>
    /// Schedules some M to run pp (an idle P if pp is null), creating an M if none is idle. If
    /// spinning, the caller has incremented nmspinning and pp must have an empty run queue.
    /// Mirrors runtime.startm.
    /// </summary>
    private void StartM(P? pp, bool spinning)
    {
        M? nmp;
        using (_sched.Lock.EnterScope())
        {
            if (pp == null)
            {
                if (spinning) Throw("startm: P required for spinning=true");
                pp = PIdleGet();
                if (pp == null) return;
            }
            // Work is arriving: sysmon must watch the P (see Sysmon.cs). Only now, with pp out of
            // the idle list (PIdleGet's Interlocked decrement is the fence): sysmon sets
            // sysmonwait and then re-reads npidle, so either it sees this P busy or we see it
            // waiting. Woken before the P was taken, sysmon could re-read npidle == gomaxprocs,
            // find no timer and sleep 60 s while the P ran a CPU-bound goroutine unpreempted.
            SysmonWake(resetBackoff: false);
            nmp = MGet();
            if (nmp == null)
            {
                long id = _sched.MNext++;
                // Differs from Go: newm runs under sched.lock here only to reserve the id; the
                // thread starts after the unlock, as in Go.
                nmp = new M(this, id, SeedFor(id)) { Spinning = spinning, NextP = pp };
                _allm.Add(nmp);
            }
            else
            {
                if (nmp.Spinning) Throw("startm: m is spinning");
                if (nmp.NextP != null) Throw("startm: m has p");
                if (spinning && !RunqEmpty(pp)) Throw("startm: p has runnable gs");
                nmp.Spinning = spinning;
                nmp.NextP = pp;
                nmp.Park.Wakeup();
                return;
            }
        }
        NewM(nmp);
    }

    /// <summary>Starts the OS thread of a new M. Mirrors runtime.newm + newosproc.</summary>
    private void NewM(M mp)
    {
        var t = new Thread(() =>
        {
            TimerSlack.MakePrecise(); // the M may block in the poller until a timer: see Internal/TimerSlack.cs
            MStart(mp);
        }, maxStackSize: 16 << 20)
        {
            IsBackground = true,
            Name = $"gosched-{_id}-M{mp.Id}",
        };
        mp.Thread = t;
        Interlocked.Increment(ref _threadsAlive);
        t.Start();
    }

    /// <summary>
    /// Stops execution of the current M until new work is available: parks it on the idle list,
    /// then takes the P its waker handed over. Mirrors runtime.stopm.
    /// Returns false if the runtime is stopping (the M must exit).
    /// </summary>
    private bool StopM(M mp)
    {
        if (mp.P != null) Throw("stopm holding p");
        if (mp.Spinning) Throw("stopm spinning");
        using (_sched.Lock.EnterScope())
        {
            if (_stopping) return false;
            MPut(mp);
        }
        mp.Blocked = true;
        mp.Park.Sleep();
        mp.Park.Clear();
        mp.Blocked = false;
        if (_stopping)
        {
            if (mp.NextP != null) { mp.NextP = null; }
            return false;
        }
        AcquireNextP(mp);
        return true;
    }

    /// <summary>
    /// Hands off P from an M that will block (syscall, locked thread): starts an M
    /// for it if it has work, else puts it on the idle list. Mirrors runtime.handoffp (Go 1.21).
    /// </summary>
    internal void HandoffP(P pp)
    {
        // If it has local work, start it straight away.
        if (!RunqEmpty(pp) || Volatile.Read(ref _sched.RunqSize) != 0) { StartM(pp, false); return; }
        // No local work: if no M is spinning or idle-P-waiting, our help is needed to look for work.
        if (Volatile.Read(ref _sched.NmSpinning) + Volatile.Read(ref _sched.NPIdle) == 0 &&
            Interlocked.CompareExchange(ref _sched.NmSpinning, 1, 0) == 0)
        {
            Volatile.Write(ref _sched.NeedSpinning, 0);
            StartM(pp, true);
            return;
        }
        long when;
        using (_sched.Lock.EnterScope())
        {
            if (StopPIfWaiting(pp, PStatus.Idle)) return; // the world is stopping: this P stops here
            RunSafePointFnLocked(pp);
            if (_sched.RunqSize != 0) goto start;
            // If this is the last running P and nobody is polling the network, wake another M
            // to poll it: a goroutine waiting on a socket would otherwise wait for the next M
            // to pass through findRunnable (sysmon sleeps while every P is idle).
            if (_sched.NPIdle == _gomaxprocs - 1 && Interlocked.Read(ref _sched.LastPoll) != 0) goto start;
            when = NoBarrierWakeTime(pp);
            PIdlePut(pp);
        }
        if (when != 0) WakeNetPoller(when);
        return;
    start:
        StartM(pp, false);
    }

    /// <summary>Puts mp on the idle list. sched.lock must be held. Mirrors runtime.mput (and its checkdead call).</summary>
    private void MPut(M mp)
    {
        AssertLockHeld(ref _sched.Lock);
        mp.SchedLink = _sched.MIdle;
        _sched.MIdle = mp;
        _sched.NmIdle++;
        CheckDead();
    }

    /// <summary>Takes an M from the idle list. sched.lock must be held. Mirrors runtime.mget.</summary>
    private M? MGet()
    {
        AssertLockHeld(ref _sched.Lock);
        M? mp = _sched.MIdle;
        if (mp != null)
        {
            _sched.MIdle = mp.SchedLink;
            _sched.NmIdle--;
            mp.SchedLink = null;
        }
        return mp;
    }

    /// <summary>Puts pp on the idle-P list. sched.lock must be held. Mirrors runtime.pidleput.</summary>
    private void PIdlePut(P pp)
    {
        AssertLockHeld(ref _sched.Lock);
        if (!RunqEmpty(pp)) Throw("pidleput: P has non-empty run queue");
        UpdateTimerPMask(pp); // clear if there are no timers.
        _idlepMask.Set(pp.Id);
        pp.Link = _sched.PIdle;
        _sched.PIdle = pp;
        Interlocked.Increment(ref _sched.NPIdle);
    }

    /// <summary>Takes a P from the idle list. sched.lock must be held. Mirrors runtime.pidleget.</summary>
    private P? PIdleGet()
    {
        AssertLockHeld(ref _sched.Lock);
        P? pp = _sched.PIdle;
        if (pp != null)
        {
            // Timer may get added at any time now.
            _timerpMask.Set(pp.Id);
            _idlepMask.Clear(pp.Id);
            _sched.PIdle = pp.Link;
            pp.Link = null;
            Interlocked.Decrement(ref _sched.NPIdle);
        }
        return pp;
    }

    /// <summary>
    /// pidleget for a caller that found work it cannot take without a P: if there is none, tells a
    /// non-spinning M about to drop its P to spin instead. sched.lock must be held.
    /// Mirrors runtime.pidlegetSpinning (Go 1.21; Go 1.19 has no needspinning).
    /// </summary>
    private P? PIdleGetSpinning()
    {
        P? pp = PIdleGet();
        if (pp == null) Volatile.Write(ref _sched.NeedSpinning, 1);
        return pp;
    }

    /// <summary>Associates pp with mp. Mirrors runtime.acquirep / wirep.</summary>
    private static void AcquireP(M mp, P pp)
    {
        if (mp.P != null) Throw("wirep: already in go");
        if (pp.M != null || pp.Status != (int)PStatus.Idle) Throw("wirep: invalid p state");
        mp.P = pp;
        pp.M = mp;
        Volatile.Write(ref pp.Status, (int)PStatus.Running);
    }

    /// <summary>
    /// Takes the P that startm (or startlockedm) handed over in m.nextp: the
    /// `acquirep(mp.nextp.ptr()); mp.nextp = 0` of mstart1, stopm and stoplockedm. An M that startm
    /// made spinning (wakep, handoffp) begins its spinning episode here, new or woken from the idle
    /// list, so this is where the episode is counted; BecomeSpinning counts the others.
    /// </summary>
    private static void AcquireNextP(M mp)
    {
        P pp = mp.NextP!;
        mp.NextP = null;
        AcquireP(mp, pp);
        if (mp.Spinning) pp.Counters.Spins++;
    }

    /// <summary>Disassociates mp from its P. Mirrors runtime.releasep.</summary>
    private static P ReleaseP(M mp)
    {
        P? pp = mp.P;
        if (pp == null || pp.M != mp || pp.Status != (int)PStatus.Running) Throw("releasep: invalid p state");
        mp.P = null;
        pp!.M = null;
        Volatile.Write(ref pp.Status, (int)PStatus.Idle);
        return pp;
    }
}
