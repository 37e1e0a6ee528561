// sync.Mutex as Go 1.19's sync/mutex.go has it: normal mode, starvation mode, and the spinning
// that lets a goroutine on a busy machine take the lock without parking.
//
// The state word is Go's: bit 0 locked, bit 1 woken (a waiter has been woken, or a spinner
// announced itself, so Unlock need not wake another), bit 2 starving, and the number of waiters
// above them. In normal mode waiters queue FIFO on the semaphore, but a woken waiter does not own
// the lock: it competes with goroutines arriving meanwhile, which usually win, since they are
// already running. A waiter that loses goes back to the front of the queue (lifo), and one that
// has waited more than 1 ms switches the mutex to starvation mode. There, Unlock hands the lock
// straight to the first waiter (semrelease with handoff, and a yield of the unlocker's P to it),
// newcomers neither spin nor barge but queue at the back, and the mutex leaves starvation mode
// when the waiter it was handed to is the last one or waited less than 1 ms.
//
// Normal mode is what makes an uncontended-looking mutex fast under contention (a lock and unlock
// by the same running goroutine need no context switch); starvation mode bounds the tail. Both
// show in a schedtrace: barging keeps the owner's P busy and its waiters parked; hand-offs move
// the lock, and the goroutine, from P to P.
//
// Differs from Go: Go's starving Unlock yields at once (goyield inside semrelease1); Unlock here is
// a plain call in the middle of the body, so the yield happens at the goroutine's next runtime
// await (a flag on the G that Execute turns into goyield_m: the local run queue, not the global).
using GoSched.Internal;

namespace GoSched;

/// <summary>
/// sync.Mutex for goroutines: `await mu.Lock()`, `mu.Unlock()` (Unlock also from outside any
/// goroutine). Normal and starvation modes, with spinning, as Go 1.19's sync.Mutex.
/// </summary>
public sealed class Mutex : ISemaAcquired, ILocker
{
    private const int MutexLocked = 1, MutexWoken = 2, MutexStarving = 4, MutexWaiterShift = 3;
    private const long StarvationThresholdNs = 1_000_000;

    private int _state;
    private readonly SemaRoot _sema = new(wakeNextPastDropped: true);

    // What the slow path did, for the mutex workload (slow path only: the fast path counts nothing).
    private long _parks, _starvationSwitches;

    /// <summary>How many times a Lock parked on the semaphore (a woken waiter that parks again counts again).</summary>
    public long Parks => Interlocked.Read(ref _parks);

    /// <summary>How many times a waiter switched the mutex to starvation mode (after waiting more than 1 ms).</summary>
    public long StarvationSwitches => Interlocked.Read(ref _starvationSwitches);

    /// <summary>The state word (locked, woken, starving, waiters), for tests and traces.</summary>
    internal int State => Volatile.Read(ref _state);
    internal bool Starving => (State & MutexStarving) != 0;
    internal int Waiters => State >> MutexWaiterShift;

    /// <summary>Locks, waiting if needed: await it inside a goroutine.</summary>
    public LockAwaitable Lock() => new(this);

    /// <summary>Tries to lock without waiting. Mirrors sync.Mutex.TryLock.</summary>
    public bool TryLock()
    {
        int old = Volatile.Read(ref _state);
        if ((old & (MutexLocked | MutexStarving)) != 0) return false;
        // There may be a goroutine waiting for the mutex, but we are running now and can try to grab it before it wakes.
        return Interlocked.CompareExchange(ref _state, old | MutexLocked, old) == old;
    }

    /// <summary>
    /// Unlocks. In normal mode wakes a waiter unless one is already awake; in starvation mode hands
    /// the lock to the first waiter. Mirrors sync.Mutex.Unlock and unlockSlow.
    /// </summary>
    public void Unlock()
    {
        // Fast path: drop lock bit.
        int @new = Interlocked.Add(ref _state, -MutexLocked);
        if (@new != 0) UnlockSlow(@new);
    }

    private void UnlockSlow(int @new)
    {
        if (((@new + MutexLocked) & MutexLocked) == 0)
        {
            Interlocked.Add(ref _state, MutexLocked); // as it was, so the caller's handler sees a consistent mutex
            throw SyncFatal.Error("sync: unlock of unlocked mutex");
        }
        if ((@new & MutexStarving) == 0)
        {
            int old = @new;
            while (true)
            {
                // No waiters, or a goroutine has already been woken or grabbed the lock, or the mutex
                // went into starvation mode (ownership passes from unlocker to waiter, and we did not
                // see it when we unlocked): nobody to wake.
                if ((old >> MutexWaiterShift) == 0 || (old & (MutexLocked | MutexWoken | MutexStarving)) != 0) return;
                // Grab the right to wake someone.
                @new = (old - (1 << MutexWaiterShift)) | MutexWoken;
                int seen = Interlocked.CompareExchange(ref _state, @new, old);
                if (seen == old)
                {
                    _sema.Release(handoff: false);
                    return;
                }
                old = seen;
            }
        }
        // Starving mode: hand ownership to the next waiter, and yield our time slice to it.
        // mutexLocked is not set: the waiter sets it when it wakes; while mutexStarving is set,
        // newcomers do not take the mutex anyway.
        _sema.Release(handoff: true);
    }

    /// <summary>
    /// The slow path of Lock, from its start (w null) or after runtime_SemacquireMutex returned
    /// (w holds the loop's locals). True: locked; false: parked on the semaphore (recorded on gp,
    /// the semaphore's lock held). Mirrors sync.Mutex.lockSlow.
    /// </summary>
    private bool LockSlow(G gp, SemaWaiter? w)
    {
        long waitStartTime = 0;
        bool starving = false, awoke = false;
        int iter = 0;
        bool acquired = w != null; // back from runtime_SemacquireMutex
        if (w != null)
        {
            waitStartTime = w.WaitStartNs;
            starving = w.Starving;
            w.Release(gp);
        }
        int old = Volatile.Read(ref _state);
        while (true)
        {
            if (acquired)
            {
                acquired = false;
                starving = starving || Clock.Nanotime() - waitStartTime > StarvationThresholdNs;
                old = Volatile.Read(ref _state);
                if ((old & MutexStarving) != 0)
                {
                    // Woken in starvation mode: ownership was handed to us, but the state is not yet
                    // consistent: mutexLocked is not set and we are still counted as a waiter.
                    if ((old & (MutexLocked | MutexWoken)) != 0 || (old >> MutexWaiterShift) == 0)
                        GoRuntime.Throw("sync: inconsistent mutex state");
                    int delta = MutexLocked - (1 << MutexWaiterShift);
                    // Leave starvation mode if we did not wait long or are the last waiter: two
                    // goroutines could otherwise go lock-step in it forever.
                    if (!starving || (old >> MutexWaiterShift) == 1) delta -= MutexStarving;
                    Interlocked.Add(ref _state, delta);
                    return true;
                }
                awoke = true;
                iter = 0;
            }
            // Spin only in normal mode with the lock held: in starvation mode ownership is handed
            // to the waiters, so spinning cannot get it.
            if ((old & (MutexLocked | MutexStarving)) == MutexLocked && gp.Runtime.SyncCanSpin(iter))
            {
                // Set mutexWoken so that Unlock does not wake a waiter while we are about to take it.
                if (!awoke && (old & MutexWoken) == 0 && (old >> MutexWaiterShift) != 0 &&
                    Interlocked.CompareExchange(ref _state, old | MutexWoken, old) == old)
                    awoke = true;
                GoRuntime.SyncDoSpin();
                iter++;
                old = Volatile.Read(ref _state);
                continue;
            }
            int @new = old;
            // Do not try to take a starving mutex: newcomers queue.
            if ((old & MutexStarving) == 0) @new |= MutexLocked;
            if ((old & (MutexLocked | MutexStarving)) != 0) @new += 1 << MutexWaiterShift;
            // Switch to starvation mode, unless the mutex is unlocked now (Unlock expects a starving
            // mutex to have waiters, which would not hold then).
            if (starving && (old & MutexLocked) != 0) @new |= MutexStarving;
            if (awoke)
            {
                // Woken from sleep (or announced as spinning): reset the flag in either case.
                if ((@new & MutexWoken) == 0) GoRuntime.Throw("sync: inconsistent mutex state");
                @new &= ~MutexWoken;
            }
            int seen = Interlocked.CompareExchange(ref _state, @new, old);
            if (seen != old)
            {
                old = seen;
                continue;
            }
            if ((old & (MutexLocked | MutexStarving)) == 0) return true; // locked with the CAS
            if ((@new & ~old & MutexStarving) != 0) Interlocked.Increment(ref _starvationSwitches);
            // Waited before: queue at the front.
            bool queueLifo = waitStartTime != 0;
            if (waitStartTime == 0) waitStartTime = Clock.Nanotime();
            // runtime_SemacquireMutex: Go 1.19 parks it in semacquire1, wait reason "semacquire".
            if (!_sema.Acquire(gp, queueLifo, WaitReason.Semacquire, this, out var parked))
            {
                Interlocked.Increment(ref _parks);
                parked!.WaitStartNs = waitStartTime;
                parked.Starving = starving;
                return false;
            }
            acquired = true; // the semaphore had a unit: no park
        }
    }

    /// <summary>Lock as a Locker (for a <see cref="Cond"/>).</summary>
    async GoFrame ILocker.Lock() => await Lock();

    /// <summary>The semaphore was acquired after a wake: lockSlow goes on, on the waiter's M, before its body resumes.</summary>
    bool ISemaAcquired.SemaAcquired(G gp, SemaWaiter w) => LockSlow(gp, w);

    public readonly struct LockAwaitable(Mutex mu)
    {
        public LockAwaiter GetAwaiter() => new(mu);
    }

    public readonly struct LockAwaiter : IGoAwaiter
    {
        private readonly Mutex _mu;

        internal LockAwaiter(Mutex mu) { _mu = mu; }

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("Mutex.Lock");
                // Fast path: grab an unlocked mutex.
                if (Interlocked.CompareExchange(ref _mu._state, MutexLocked, 0) == 0 || _mu.LockSlow(gp, null))
                    return !gp.YieldIfPreempted();
                return false;
            }
        }

        // After a park the M finished lockSlow (SemaWaiter.Resume) before resuming the body: the lock is held.
        public void GetResult() { }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}

public sealed partial class GoRuntime
{
    // sync.Mutex spins at most this many times (active_spin), each a procyield of this many pauses (active_spin_cnt).
    private const int ActiveSpin = 4, ActiveSpinCnt = 30;

    /// <summary>
    /// Whether a goroutine in Mutex.lockSlow may spin: conservative, as sync.Mutex is cooperative.
    /// Only a few times, on a multicore machine, with GOMAXPROCS > 1, at least one other running P,
    /// and an empty local run queue (spinning would delay work queued behind the spinner).
    /// Mirrors runtime.sync_runtime_canSpin.
    /// </summary>
    internal bool SyncCanSpin(int i)
    {
        if (i >= ActiveSpin || Environment.ProcessorCount <= 1 ||
            Volatile.Read(ref _gomaxprocs) <= Volatile.Read(ref _sched.NPIdle) + Volatile.Read(ref _sched.NmSpinning) + 1)
            return false;
        return M.t_current?.P is { } pp && RunqEmpty(pp);
    }

    /// <summary>One spin of lockSlow. Mirrors runtime.sync_runtime_doSpin (procyield(active_spin_cnt)).</summary>
    internal static void SyncDoSpin() => Thread.SpinWait(ActiveSpinCnt);
}
