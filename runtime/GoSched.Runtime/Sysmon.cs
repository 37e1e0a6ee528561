// sysmon: the system monitor, an M of its own with no P (proc.go sysmon, retake, preemptone).
//
// Go's scheduler is cooperative at its core: a goroutine gives up its P only when it blocks,
// yields or is preempted. sysmon is what preempts. It wakes every 20 µs, backing off by doubling
// after 1 ms of idle rounds up to 10 ms, and for each P that is running Go code, compares the P's
// schedtick with what it saw last round: a P whose schedtick has not moved for forcePreemptNS
// (10 ms) has run one goroutine (or a chain of runnext hand-offs sharing one time slice) for that
// long, and that goroutine is asked to yield (preemptone).
//
// Differs from Go: there is no asynchronous preemption (no signals into a running thread). The
// request is a flag the goroutine sees at its next runtime await, or within a couple of µs inside
// Go.Work; code that never awaits cannot be preempted (Go <= 1.13 semantics). And when every P
// is idle, sysmon sleeps until the earliest timer or until an M is started (Go waits for a
// syscall exit or a stop-the-world to wake it, and caps the sleep at forcegcperiod/2), so that a
// goroutine that starts hogging a P after a quiet spell is still preempted on time. That wake-up
// keeps sysmon's backed-off delay; only Go's own wake-ups (system calls, startTheWorld) restart
// the 20 µs polling.
//
// retake also takes back Ps held in long system calls (Syscall.cs), and sysmon polls the network
// when nobody has for 10 ms (SysmonNetpoll, Netpoll.cs), injecting the goroutines it finds ready.
using GoSched.Internal;

namespace GoSched;

public sealed partial class GoRuntime
{
    private Thread? _sysmonThread;
    private readonly Note _sysmonNote = new();
    private int _sysmonWait;
    private int _sysmonResetBackoff; // set by a wake-up that restarts the 20 µs polling (SysmonWake)
    private long _sysmonPreempts;
    private long _syscallRetakes;

    /// <summary>Ps sysmon took back from system calls and handed off.</summary>
    internal long SyscallRetakes => Interlocked.Read(ref _syscallRetakes);

    private long _sysmonLoops;

    /// <summary>Rounds of sysmon's loop so far (each one a sleep, then the poll and retake).</summary>
    internal long SysmonLoops => Interlocked.Read(ref _sysmonLoops);

    /// <summary>Goroutines sysmon has asked to yield.</summary>
    internal long SysmonPreempts => Interlocked.Read(ref _sysmonPreempts);

    private void StartSysmon()
    {
        Interlocked.Increment(ref _threadsAlive);
        _sysmonThread = new Thread(Sysmon, maxStackSize: 1 << 20) { IsBackground = true, Name = $"gosched-{_id}-sysmon" };
        _sysmonThread.Start();
    }

    /// <summary>
    /// Wakes sysmon from its deep sleep (all Ps idle) if it is in one. resetBackoff: the wake-up is
    /// Go's (a system call entered or left, the world restarted: entersyscall_sysmon,
    /// exitsyscallfast_pidle, exitsyscall0, startTheWorldWithSema), after which sysmon polls every
    /// 20 µs again. StartM's wake-up is this runtime's own (see the essay above) and keeps sysmon's
    /// backed-off delay, as a timer's expiry does in Go.
    /// </summary>
    private void SysmonWake(bool resetBackoff)
    {
        if (Volatile.Read(ref _sysmonWait) != 0 && Interlocked.Exchange(ref _sysmonWait, 0) != 0)
        {
            if (resetBackoff) Volatile.Write(ref _sysmonResetBackoff, 1);
            _sysmonNote.Signal();
        }
    }

    /// <summary>The monitor loop. Mirrors runtime.sysmon.</summary>
    private void Sysmon()
    {
        try
        {
            int idle = 0;       // how many cycles in succession we had not woken somebody
            long delay = 0;     // µs
            while (!_stopping)
            {
                if (idle == 0) delay = 20;          // start with 20 µs sleep...
                else if (idle > 50) delay *= 2;     // start doubling the sleep after 1 ms...
                if (delay > 10 * 1000) delay = 10 * 1000; // up to 10 ms
                _sysmonNote.TSleep(delay * 1000);
                _sysmonNote.Consume();
                Interlocked.Increment(ref _sysmonLoops);
                if (_stopping) break;
                long now = Clock.Nanotime();
                if (GcWaiting || Volatile.Read(ref _sched.NPIdle) == Volatile.Read(ref _gomaxprocs))
                {
                    // Every P is idle, or the world is stopping (StopTheWorld.cs): nothing to
                    // preempt or retake. Sleep until the next timer, or until work arrives (StartM
                    // and startTheWorld wake us), instead of polling.
                    Interlocked.Exchange(ref _sysmonWait, 1); // a full fence before re-reading: pairs with SysmonWake
                    if ((GcWaiting || Volatile.Read(ref _sched.NPIdle) == Volatile.Read(ref _gomaxprocs)) && !_stopping)
                    {
                        long next = TimeSleepUntil();
                        long sleep = next == MaxWhen ? 60_000_000_000L : Math.Max(0, next - now);
                        bool woken = sleep > 0 && _sysmonNote.TSleep(sleep);
                        _sysmonNote.Consume();
                        // Only Go's wake-ups (a system call, startTheWorld) restart the fast
                        // polling; a timer's expiry and StartM's wake-up keep the backed-off delay
                        // ("to avoid adding system load to applications that spend most of their
                        // time sleeping", as Go's comment says). Restarting it on StartM made
                        // sysmon loop 3-15 times as often as Go's among 10,000 sleepers.
                        bool syscallWake = Interlocked.Exchange(ref _sysmonResetBackoff, 0) != 0;
                        if (woken && syscallWake)
                        {
                            idle = 0;
                            delay = 20;
                        }
                    }
                    Volatile.Write(ref _sysmonWait, 0);
                    // Go falls through to the network poll and retake with a fresh now: a wake-up
                    // for a syscall (entersyscall_sysmon) must not wait one more sleep round.
                    now = Clock.Nanotime();
                }
                // Poll the network if not polled for more than 10 ms (Netpoll.cs).
                SysmonNetpoll(now);
                if (Retake(now) != 0) idle = 0;
                else idle++;
            }
        }
        catch (Exception e)
        {
            Fatal(e is RuntimeInvariantException ? e : new RuntimeInvariantException($"sysmon: {e}"));
        }
        finally
        {
            ThreadExited();
        }
    }

    /// <summary>
    /// Preempts goroutines that have held a P for more than forcePreemptNS on one schedtick, and
    /// takes back Ps that have been in a system call since sysmon's previous look (handoffp), by
    /// Go's rules. Returns the number of Ps taken back from system calls.
    /// Mirrors runtime.retake.
    /// </summary>
    private int Retake(long now)
    {
        long forcePreemptNs = _config.ForcePreemptNs;
        int n = 0;
        foreach (var pp in _allp)
        {
            int s = Volatile.Read(ref pp.Status);
            bool sysretake = false;
            if (s == (int)PStatus.Running || s == (int)PStatus.Syscall)
            {
                // Preempt G if it's running for too long.
                long t = Volatile.Read(ref pp.SchedTick);
                if (pp.SysmonTick != t)
                {
                    pp.SysmonTick = t;
                    pp.SysmonWhen = now;
                }
                else if (pp.SysmonWhen + forcePreemptNs <= now)
                {
                    PreemptOne(pp);
                    // In case of syscall, preemptone() doesn't work, because there is no M wired to P.
                    sysretake = true;
                }
            }
            if (s == (int)PStatus.Syscall)
            {
                // Retake P from syscall if it's there for more than 1 sysmon tick (at least 20 µs).
                long t = Volatile.Read(ref pp.SyscallTick);
                if (!sysretake && pp.SysmonSyscallTick != t)
                {
                    pp.SysmonSyscallTick = t;
                    pp.SysmonSyscallWhen = now;
                    continue;
                }
                // On the one hand we don't want to retake Ps if there is no other work to do, but
                // on the other hand we want to retake them eventually because they can prevent the
                // sysmon thread from deep sleep.
                if (RunqEmpty(pp) && Volatile.Read(ref _sched.NmSpinning) + Volatile.Read(ref _sched.NPIdle) > 0 &&
                    pp.SysmonSyscallWhen + 10_000_000 > now)
                    continue;
                // Need to decrement number of idle locked M's (pretending that one more is running)
                // before the CAS. Otherwise the M from which we retake can exit the syscall, find no
                // idle P while this one is in hand-off, go idle and make checkdead report runnable
                // goroutines with no running M (sysmon is not counted as one).
                IncIdleLocked(-1);
                if (Interlocked.CompareExchange(ref pp.Status, (int)PStatus.Idle, (int)PStatus.Syscall) == (int)PStatus.Syscall)
                {
                    n++;
                    pp.SyscallTick++;
                    Interlocked.Increment(ref _syscallRetakes);
                    HandoffP(pp);
                }
                IncIdleLocked(1);
            }
        }
        return n;
    }

    /// <summary>Adds v to the idle-locked M count; checkdead when it grows. Mirrors runtime.incidlelocked.</summary>
    private void IncIdleLocked(int v)
    {
        using (_sched.Lock.EnterScope())
        {
            _sched.NmIdleLocked += v;
            if (v > 0) CheckDead();
        }
    }

    /// <summary>Asks the goroutine running on pp to stop at its next await. Mirrors runtime.preemptone.</summary>
    private bool PreemptOne(P pp)
    {
        M? mp = pp.M;
        G? gp = mp?.CurG;
        if (gp == null) return false;
        if (!gp.Preempt)
        {
            gp.Preempt = true;
            Interlocked.Increment(ref _sysmonPreempts);
        }
        return true;
    }

    /// <summary>The earliest timer of all Ps (MaxWhen if none). Mirrors runtime.timeSleepUntil.</summary>
    private long TimeSleepUntil()
    {
        long next = MaxWhen;
        foreach (var pp in _allp)
        {
            long w = Volatile.Read(ref pp.Timer0When);
            if (w != 0 && w < next) next = w;
            w = Volatile.Read(ref pp.TimerModifiedEarliest);
            if (w != 0 && w < next) next = w;
        }
        return next;
    }
}
