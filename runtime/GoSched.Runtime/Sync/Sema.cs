// Semaphores for sync primitives (sema.go), and WaitGroup and Mutex on top of them.
//
// Go keys semaphores by address in a global table of treaps; here each primitive owns its root,
// so the table is not needed. A root is a count plus a FIFO of parked goroutines under a lock.
// The wake-up rule is Go's: semrelease adds to the count and, if anyone waits, hands one unit to
// the first waiter directly (so a released unit is never stolen by a late acquirer while the
// woken goroutine is on its way).
namespace GoSched;

/// <summary>A counting semaphore whose waiters are goroutines. Mirrors runtime.semaRoot.</summary>
internal sealed class SemaRoot : IParkUnlock
{
    private Internal.RuntimeMutex _lock;
    private int _count;
    private WaitQ<bool> _waiters;
    private int _nwait;

    public int Waiting => Volatile.Read(ref _nwait);

    /// <summary>
    /// Takes one unit, or enqueues gp and returns false with the lock held (the M publishes the
    /// park). Mirrors runtime.semacquire1.
    /// </summary>
    public bool Acquire(G gp, WaitReason reason, out Sudog<bool>? parked)
    {
        parked = null;
        // Easy case: a unit is available.
        int c = Volatile.Read(ref _count);
        while (c > 0)
        {
            int seen = Interlocked.CompareExchange(ref _count, c - 1, c);
            if (seen == c) return true;
            c = seen;
        }
        _lock.Enter();
        // Check the count again under the lock: a release may have come in between.
        c = _count;
        if (c > 0) { _count = c - 1; _lock.Exit(); return true; }
        var sg = gp.AcquireSudog<bool>();
        _waiters.Enqueue(sg);
        _nwait++;
        gp.Park(this, reason);
        parked = sg;
        return false;
    }

    /// <summary>Releases one unit: to the first waiter if any, else to the count. Mirrors runtime.semrelease1 (handoff).</summary>
    public void Release()
    {
        _lock.Enter();
        var sg = _waiters.Dequeue();
        if (sg == null)
        {
            Interlocked.Increment(ref _count);
            _lock.Exit();
            return;
        }
        _nwait--;
        sg.Success = true;
        var gp = sg.G!;
        _lock.Exit();
        gp.Runtime.Ready(gp);
    }

    void IParkUnlock.ParkUnlock() => _lock.Exit();

    public struct Awaiter : IGoAwaiter
    {
        private readonly SemaRoot _root;
        private readonly WaitReason _reason;
        private Sudog<bool>? _sg;

        internal Awaiter(SemaRoot root, WaitReason reason) { _root = root; _reason = reason; _sg = null; }

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("a sync wait");
                return _root.Acquire(gp, _reason, out _sg) && !gp.YieldIfPreempted();
            }
        }

        public void GetResult()
        {
            if (_sg == null) return;
            _sg.G!.ReleaseSudog(_sg);
            _sg = null;
        }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }

    public readonly struct Awaitable(SemaRoot root, WaitReason reason)
    {
        public Awaiter GetAwaiter() => new(root, reason);
    }
}

/// <summary>
/// sync.WaitGroup: Add/Done from anywhere, `await wg.Wait()` in a goroutine.
/// State as Go's: counter in the high 32 bits, waiter count in the low 32 bits of one 64-bit word.
/// </summary>
public sealed class WaitGroup
{
    private long _state;
    private readonly SemaRoot _sema = new();

    /// <summary>Adds delta (may be negative) to the counter; at zero, releases every waiter.</summary>
    public void Add(int delta)
    {
        long state = Interlocked.Add(ref _state, (long)delta << 32);
        int v = (int)(state >> 32);
        uint w = (uint)state;
        if (v < 0) throw new InvalidOperationException("sync: negative WaitGroup counter");
        if (w != 0 && delta > 0 && v == delta) throw new InvalidOperationException("sync: WaitGroup misuse: Add called concurrently with Wait");
        if (v > 0 || w == 0) return;
        // The counter is 0 and there are waiters: reset the state and wake them all.
        if (Interlocked.Read(ref _state) != state) throw new InvalidOperationException("sync: WaitGroup misuse: Add called concurrently with Wait");
        Interlocked.Exchange(ref _state, 0);
        for (; w != 0; w--) _sema.Release();
    }

    /// <summary>Add(-1).</summary>
    public void Done() => Add(-1);

    /// <summary>The counter now.</summary>
    public int Count => (int)(Interlocked.Read(ref _state) >> 32);

    /// <summary>`wg.Wait()`: await it inside a goroutine.</summary>
    public WaitAwaitable Wait() => new(this);

    public readonly struct WaitAwaitable(WaitGroup wg)
    {
        public WaitAwaiter GetAwaiter() => new(wg);
    }

    public struct WaitAwaiter : IGoAwaiter
    {
        private readonly WaitGroup _wg;
        private SemaRoot.Awaiter _inner;
        private bool _waiting;

        internal WaitAwaiter(WaitGroup wg) { _wg = wg; _inner = default; _waiting = false; }

        public bool IsCompleted
        {
            get
            {
                while (true)
                {
                    long state = Interlocked.Read(ref _wg._state);
                    if ((int)(state >> 32) == 0) return !GoRuntime.CurrentG("WaitGroup.Wait").YieldIfPreempted();
                    // Increment the waiter count, then sleep on the semaphore.
                    if (Interlocked.CompareExchange(ref _wg._state, state + 1, state) == state)
                    {
                        _waiting = true;
                        // Go 1.19's Wait sleeps in runtime_Semacquire: "semacquire", as Mutex.Lock.
                        _inner = new SemaRoot.Awaiter(_wg._sema, WaitReason.Semacquire);
                        return _inner.IsCompleted;
                    }
                }
            }
        }

        public void GetResult()
        {
            if (!_waiting) return;
            _inner.GetResult();
            if (Interlocked.Read(ref _wg._state) != 0)
                throw new InvalidOperationException("sync: WaitGroup is reused before previous Wait has returned");
        }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}

/// <summary>
/// sync.Mutex for goroutines: `await mu.Lock()`, `mu.Unlock()`.
/// Differs from Go: no spinning and no normal/starvation switch; a contended unlock always hands
/// the lock to the longest waiter (Go's starvation mode), which is fair and simple to reason about.
/// </summary>
public sealed class Mutex : IParkUnlock
{
    // Bit 0: locked. Bit 1: there are waiters (set and cleared only under _lock).
    private const int Locked = 1, HasWaiters = 2;
    private int _state;
    private Internal.RuntimeMutex _lock;
    private WaitQ<bool> _waiters;

    /// <summary>Locks, waiting if needed: await it inside a goroutine.</summary>
    public LockAwaitable Lock() => new(this);

    /// <summary>Tries to lock without waiting.</summary>
    public bool TryLock() => Interlocked.CompareExchange(ref _state, Locked, 0) == 0;

    /// <summary>Unlocks; hands the lock to the first waiter if there is one.</summary>
    public void Unlock()
    {
        // Fast path: locked, nobody waiting.
        if (Interlocked.CompareExchange(ref _state, 0, Locked) == Locked) return;
        _lock.Enter();
        int s = Volatile.Read(ref _state);
        if ((s & Locked) == 0) { _lock.Exit(); throw new InvalidOperationException("fatal error: sync: unlock of unlocked mutex"); }
        var sg = _waiters.Dequeue();
        if (sg == null)
        {
            Volatile.Write(ref _state, 0);
            _lock.Exit();
            return;
        }
        // Hand the lock to the waiter: the state stays locked.
        Volatile.Write(ref _state, _waiters.IsEmpty ? Locked : Locked | HasWaiters);
        sg.Success = true;
        var gp = sg.G!;
        _lock.Exit();
        gp.Runtime.Ready(gp);
    }

    /// <summary>The slow path of Lock: take it, or enqueue and return false holding _lock. Mirrors sync.Mutex.lockSlow (starvation mode).</summary>
    private bool LockSlow(G gp, out Sudog<bool>? parked)
    {
        parked = null;
        _lock.Enter();
        while (true)
        {
            int s = Volatile.Read(ref _state);
            if ((s & Locked) == 0)
            {
                if (Interlocked.CompareExchange(ref _state, s | Locked, s) == s) { _lock.Exit(); return true; }
                continue;
            }
            // Announce a waiter so Unlock's fast path fails and comes to _lock, which we hold
            // until the M publishes our park.
            if (Interlocked.CompareExchange(ref _state, s | HasWaiters, s) == s) break;
        }
        var sg = gp.AcquireSudog<bool>();
        _waiters.Enqueue(sg);
        gp.Park(this, WaitReason.Semacquire); // Go 1.19: runtime_SemacquireMutex parks in semacquire1
        parked = sg;
        return false;
    }

    void IParkUnlock.ParkUnlock() => _lock.Exit();

    public readonly struct LockAwaitable(Mutex mu)
    {
        public LockAwaiter GetAwaiter() => new(mu);
    }

    public struct LockAwaiter : IGoAwaiter
    {
        private readonly Mutex _mu;
        private Sudog<bool>? _sg;

        internal LockAwaiter(Mutex mu) { _mu = mu; _sg = null; }

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("Mutex.Lock");
                if (_mu.TryLock() || _mu.LockSlow(gp, out _sg)) return !gp.YieldIfPreempted();
                return false;
            }
        }

        public void GetResult()
        {
            if (_sg == null) return;
            _sg.G!.ReleaseSudog(_sg);
            _sg = null;
        }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}
