// System calls: a goroutine that blocks its thread in the OS lets its P go (entersyscall /
// exitsyscall, proc.go).
//
// `await Go.Syscall(() => blockingCall())` runs the call on the goroutine's own M, synchronously.
// Before it, entersyscall leaves the P in _Psyscall, still associated with the M as oldp but not
// owned by it: if the call returns quickly, exitsyscall's fast path takes the same P back with one
// CAS and the goroutine continues as if nothing happened. If the call takes long, sysmon's retake
// takes the P from _Psyscall (after at least one sysmon tick, 20 µs to 10 ms) and hands it off to
// another M, so the P's queued goroutines keep running. When such a call returns, the M looks for
// any idle P (exitsyscallfast_pidle); failing that, the goroutine goes to the global queue and the
// M parks (exitsyscall0), all after the goroutine's frames have unwound.
//
// Go.SyscallBlock is entersyscallblock: for calls known to block long, the P is handed off at once.
namespace GoSched;

public sealed partial class GoRuntime
{
    /// <summary>
    /// System calls and hand-offs so far: the Ps' counters (plain fields written by their owners,
    /// read racily) and sysmon's retakes. Exact once every M has exited.
    /// </summary>
    internal Observability.SyscallCounters SyscallCounts()
    {
        long syscalls = 0, handoffs = 0;
        foreach (var p in AllPEver)
        {
            syscalls += p.Counters.Syscalls;
            handoffs += p.Counters.BlockHandoffs;
        }
        return new(syscalls, handoffs, SyscallRetakes);
    }

    /// <summary>The goroutine enters a system call; its P stays attached as oldp in _Psyscall. Mirrors runtime.reentersyscall.</summary>
    internal static void EnterSyscall(M mp, G gp)
    {
        CasGStatus(gp, GStatus.Running, GStatus.Syscall);
        P pp = mp.P!;
        var rt = gp.Runtime;
        if (Volatile.Read(ref pp.RunSafePointFn) != 0) rt.RunSafePointFn(pp); // forEachP (StopTheWorld.cs)
        mp.SyscallTick = pp.SyscallTick;
        pp.Counters.Syscalls++;
        pp.M = null;
        mp.OldP = pp;
        mp.P = null;
        Volatile.Write(ref pp.Status, (int)PStatus.Syscall);
        // sysmon may be in its deep sleep (every P was idle, Sysmon.cs): it must watch this P now,
        // or nobody retakes it while the call blocks. Mirrors runtime.entersyscall_sysmon.
        rt.SysmonWake(resetBackoff: true);
        if (rt.GcWaiting)
        {
            // The world is stopping: count this P as stopped now rather than when sysmon (asleep
            // during a stop) would retake it. Mirrors runtime.entersyscall_gcwait.
            using (rt._sched.Lock.EnterScope()) rt.StopPIfWaiting(pp, PStatus.Syscall);
        }
    }

    /// <summary>Like EnterSyscall, but hands the P off immediately. Mirrors runtime.entersyscallblock.</summary>
    internal void EnterSyscallBlock(M mp, G gp)
    {
        P pp = mp.P!;
        mp.SyscallTick = pp.SyscallTick;
        pp.SyscallTick++;
        pp.Counters.Syscalls++;
        pp.Counters.BlockHandoffs++;
        CasGStatus(gp, GStatus.Running, GStatus.Syscall);
        HandoffP(ReleaseP(mp));
    }

    /// <summary>
    /// The call returned: try to get a P without blocking, first the old one, then any idle one.
    /// True: the goroutine runs on. False: the slow path runs after the frames unwind.
    /// Mirrors runtime.exitsyscall's fast path (exitsyscallfast).
    /// </summary>
    internal bool ExitSyscallFast(M mp, G gp)
    {
        P? oldp = mp.OldP;
        mp.OldP = null;
        bool ok = false;
        // Try to re-acquire the last P.
        if (oldp != null && Volatile.Read(ref oldp.Status) == (int)PStatus.Syscall &&
            Interlocked.CompareExchange(ref oldp.Status, (int)PStatus.Idle, (int)PStatus.Syscall) == (int)PStatus.Syscall)
        {
            AcquireP(mp, oldp);
            // The P went through another syscall in between (retaken, then taken into one by
            // another M): count that one too. Mirrors runtime.exitsyscallfast_reacquired.
            if (mp.SyscallTick != oldp.SyscallTick) oldp.SyscallTick++;
            ok = true;
        }
        else if (Volatile.Read(ref _sched.PIdle) != null)
        {
            // Try to get any other idle P (exitsyscallfast_pidle).
            P? pp;
            using (_sched.Lock.EnterScope()) pp = PIdleGet();
            if (pp != null)
            {
                SysmonWake(resetBackoff: true); // the P was idle, so sysmon may be in its deep sleep (Go wakes it here too)
                AcquireP(mp, pp);
                ok = true;
            }
        }
        if (!ok) return false;
        mp.P!.SyscallTick++;
        CasGStatus(gp, GStatus.Syscall, GStatus.Running);
        return true;
    }

    /// <summary>
    /// exitsyscall's slow path, on the M after the goroutine's frames unwound: the goroutine runs
    /// here if an idle P turned up, else goes to the global queue and the M parks. Returns true if
    /// the M got a P and gp should be executed at once. Mirrors runtime.exitsyscall0.
    /// </summary>
    private bool ExitSyscall0(M mp, G gp)
    {
        CasGStatus(gp, GStatus.Syscall, GStatus.Runnable);
        DropG(mp, gp);
        P? pp;
        using (_sched.Lock.EnterScope())
        {
            pp = PIdleGet();
            if (pp == null) GlobRunqPut(gp);
        }
        if (pp != null)
        {
            SysmonWake(resetBackoff: true);
            AcquireP(mp, pp);
            return true;
        }
        return false;
    }
}

public static partial class Go
{
    /// <summary>
    /// Runs a blocking call (file I/O, a native call, Thread.Sleep) as a system call: the P may be
    /// taken by sysmon and handed to another M while it blocks. The call runs on this goroutine's
    /// thread; its exception, if any, is rethrown to the goroutine.
    /// </summary>
    public static SyscallAwaitable<T> Syscall<T>(Func<T> call) => new(call, block: false);

    /// <summary><see cref="Syscall{T}(Func{T})"/> for a call with no result.</summary>
    public static SyscallAwaitable<bool> Syscall(Action call) => new(() => { call(); return true; }, block: false);

    /// <summary>A system call known to block long: the P is handed off at once (entersyscallblock).</summary>
    public static SyscallAwaitable<T> SyscallBlock<T>(Func<T> call) => new(call, block: true);

    /// <summary><see cref="SyscallBlock{T}(Func{T})"/> for a call with no result.</summary>
    public static SyscallAwaitable<bool> SyscallBlock(Action call) => new(() => { call(); return true; }, block: true);

    public readonly struct SyscallAwaitable<T>(Func<T> call, bool block)
    {
        public SyscallAwaiter<T> GetAwaiter() => new(call, block);
    }

    public struct SyscallAwaiter<T> : IGoAwaiter
    {
        private readonly Func<T> _call;
        private readonly bool _block;
        private T _result;
        private Exception? _error;
        private bool _slowPath;

        internal SyscallAwaiter(Func<T> call, bool block)
        {
            ArgumentNullException.ThrowIfNull(call);
            _call = call;
            _block = block;
            _result = default!;
            _error = null;
            _slowPath = false;
        }

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("Go.Syscall");
                var rt = gp.Runtime;
                var mp = gp.M!;
                if (_block) rt.EnterSyscallBlock(mp, gp);
                else GoRuntime.EnterSyscall(mp, gp);
                try { _result = _call(); }
                catch (Exception e) { _error = e; }
                if (rt.ExitSyscallFast(mp, gp))
                {
                    // A fatal error froze the world while the call blocked: its preemptall did not
                    // reach this goroutine (its P was in _Psyscall), so yield here, and the M
                    // resumes no body once the runtime stops (Proc.cs, Execute).
                    if (rt.Stopping) { gp.Outcome = GOutcome.Yield; return false; }
                    return !gp.YieldIfPreempted();
                }
                gp.Outcome = GOutcome.ExitSyscall;
                _slowPath = true;
                return false;
            }
        }

        public T GetResult()
        {
            // Back from exitsyscall0 on whichever P runs the goroutine now: Go's exitsyscall counts
            // the syscall exit on it once mcall(exitsyscall0) returns.
            if (_slowPath && GoRuntime.CurrentG("Go.Syscall").M!.P is { } pp) pp.SyscallTick++;
            if (_error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_error);
            return _result;
        }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}
