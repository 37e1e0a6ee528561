// Semaphores for sync primitives (sema.go), and WaitGroup on top of them (Mutex: Mutex.cs).
//
// Go keys semaphores by address in a global table of treaps; here each primitive owns its root,
// so the table is not needed. A root is the semaphore's count (Go's *addr) plus a queue of parked
// goroutines (one address's wait list of the treap) under a lock, and nwait, the number waiting.
//
// The wake-up rule is Go 1.19's semrelease1: a release adds one to the count and wakes the first
// waiter, which then competes for the unit like anyone else (cansemacquire); a goroutine that
// arrives meanwhile may take it, and the woken one parks again (semacquire1's loop, queued at the
// front when lifo). Only a release with handoff (sync.Mutex in starvation mode) takes the unit for
// the waiter at once (s.ticket = 1) and then yields the releaser's P to it (goyield).
//
// A woken waiter's retry runs on its M before its body resumes: SemaWaiter.Resume, which Execute
// calls for a G whose SemaWake is set. In Go the retry is the rest of semacquire1, on the
// goroutine's stack after gopark returns; here the body's frames have unwound at the park, so the
// M runs the retry itself, and may publish a second park without the body ever running.
namespace GoSched;

/// <summary>
/// Go's fatal("sync: ..."): a misuse the program cannot recover from (sync.fatal ends the process,
/// whatever the goroutine defers or recovers). Inside a goroutine the run ends with this error even
/// if the goroutine catches the exception (Fatal freezes the world first, as for a broken runtime
/// invariant): caught and ignored, it would leave a primitive in a state Go never reaches (a Cond
/// ticket taken by a Wait whose Unlock failed swallowed the next Signal). From outside any goroutine
/// (a test, the host) it is only thrown, the primitive's state restored.
/// </summary>
internal static class SyncFatal
{
    public static InvalidOperationException Error(string what)
    {
        var e = new InvalidOperationException("fatal error: " + what);
        if (M.t_current is { CurG: not null } mp) mp.Runtime.Fatal(e);
        return e;
    }
}

/// <summary>
/// What runs once a sema waiter holds its unit, before the waiting body resumes: the rest of the
/// primitive's slow path (sync.Mutex's lockSlow after runtime_SemacquireMutex). True: done, resume
/// the body; false: the G parked again (recorded on it, lock held, as an awaiter's park).
/// </summary>
internal interface ISemaAcquired
{
    bool SemaAcquired(G gp, SemaWaiter w);
}

/// <summary>
/// A goroutine waiting on a semaphore: Go's sudog as sema.go uses it (ticket), plus what the
/// waiting primitive keeps across the park (for sync.Mutex, lockSlow's locals). One per G, reused.
/// </summary>
internal sealed class SemaWaiter : Sudog
{
    /// <summary>1 if a handoff release took the unit for this waiter (sudog.ticket).</summary>
    public uint Ticket;
    public SemaRoot? Root;
    public bool Lifo;
    public WaitReason Reason;
    /// <summary>What continues once the unit is held; null: just resume the body.</summary>
    public ISemaAcquired? Then;
    /// <summary>sync.Mutex.lockSlow's locals across runtime_SemacquireMutex.</summary>
    public long WaitStartNs;
    public bool Starving;

    /// <summary>
    /// The rest of semacquire1 after gopark returns, on gp's M before its body resumes: "if
    /// s.ticket != 0 || cansemacquire(addr) break", else around the loop again (park).
    /// </summary>
    public bool Resume(G gp)
    {
        gp.SemaWake = null;
        var root = Root!;
        if (Ticket == 0 && !root.CanAcquire() && !root.Enqueue(gp, this))
            return false; // parked again
        return Acquired(gp);
    }

    /// <summary>The unit is held: run what follows (Then), or resume the body.</summary>
    public bool Acquired(G gp)
    {
        var then = Then;
        if (then == null) { Release(gp); return true; }
        return then.SemaAcquired(gp, this);
    }

    /// <summary>Back to gp's cache (releaseSudog).</summary>
    public void Release(G gp)
    {
        Root = null;
        Then = null;
        gp.SemaCache = this;
    }

    /// <summary>gp's waiter, from its cache (acquireSudog).</summary>
    public static SemaWaiter For(G gp, SemaRoot root, bool lifo, WaitReason reason, ISemaAcquired? then)
    {
        var w = gp.SemaCache ?? new SemaWaiter();
        gp.SemaCache = null;
        w.G = gp;
        w.Root = root;
        w.Lifo = lifo;
        w.Reason = reason;
        w.Then = then;
        w.Ticket = 0;
        return w;
    }
}

/// <summary>A counting semaphore whose waiters are goroutines. Mirrors runtime.semaRoot with its address's *uint32.</summary>
/// <remarks>
/// Differs from Go, where a semaphore cannot outlive its runtime: a semaphore shared with the host
/// or with another runtime may hold waiters whose runtime has stopped (or is stopping), which will
/// never run again. What a release does with one depends on the primitive, which counts its
/// waiters in its own state and cannot uncount them. <paramref name="wakeNextPastDropped"/>
/// (sync.Mutex): the release goes to the next waiter, so that the mutex's woken bit and a
/// starving hand-off reach a goroutine that runs (the dead waiter stays counted, and a release
/// finding nobody leaves its unit for the next semacquire, which the mutex's protocol absorbs).
/// Otherwise (WaitGroup, RWMutex: one release per counted waiter) the dead waiter takes its
/// release with it, as if it had woken and never run again: passed on, it would be one unit too
/// many, left for a later semacquire that must wait (a reused WaitGroup's Wait returning before Done).
/// </remarks>
internal sealed class SemaRoot(bool wakeNextPastDropped = false) : IParkUnlock
{
    private Internal.RuntimeMutex _lock;
    private uint _count;
    private SemaWaiter? _head, _tail;
    private int _nwait;
    private readonly bool _wakeNextPastDropped = wakeNextPastDropped;

    /// <summary>gp will never run again: dropped with its stopped runtime, or its runtime is stopping (Ready resumes nobody then).</summary>
    private static bool NeverRuns(G gp) => gp.Dropped || gp.Runtime.Stopping;

    public int Waiting => Volatile.Read(ref _nwait);

    /// <summary>Takes a unit if there is one. Mirrors cansemacquire.</summary>
    public bool CanAcquire()
    {
        uint v = Volatile.Read(ref _count);
        while (v != 0)
        {
            uint seen = Interlocked.CompareExchange(ref _count, v - 1, v);
            if (seen == v) return true;
            v = seen;
        }
        return false;
    }

    /// <summary>
    /// One turn of semacquire1's loop under the root's lock: nwait++ (so a release takes the slow
    /// path), cansemacquire again against a lost wake-up, else queue w (at the front if lifo) and
    /// record the park, returning false with the lock held. True: the unit is taken, nothing queued.
    /// </summary>
    public bool Enqueue(G gp, SemaWaiter w)
    {
        _lock.Enter();
        Interlocked.Increment(ref _nwait);
        if (CanAcquire())
        {
            Interlocked.Decrement(ref _nwait);
            _lock.Exit();
            return true;
        }
        w.InQueue = true;
        if (w.Lifo)
        {
            w.Prev = null;
            w.Next = _head;
            if (_head != null) _head.Prev = w; else _tail = w;
            _head = w;
        }
        else
        {
            w.Next = null;
            w.Prev = _tail;
            if (_tail != null) _tail.Next = w; else _head = w;
            _tail = w;
        }
        gp.Park(this, w.Reason);
        gp.SemaWake = w;
        return false;
    }

    /// <summary>
    /// Waits for a unit: the easy case, else the loop (Enqueue, and SemaWaiter.Resume after each
    /// wake). True: held now; false: parked. Mirrors semacquire1.
    /// </summary>
    public bool Acquire(G gp, bool lifo, WaitReason reason, ISemaAcquired? then, out SemaWaiter? parked)
    {
        parked = null;
        if (CanAcquire()) return true;
        var w = SemaWaiter.For(gp, this, lifo, reason, then);
        if (Enqueue(gp, w)) { w.Release(gp); return true; }
        parked = w;
        return false;
    }

    /// <summary>
    /// Releases one unit and wakes the first waiter. With handoff, takes the unit for it at once
    /// and makes the caller yield its P to it at its next await. Mirrors semrelease1.
    /// </summary>
    public void Release(bool handoff = false)
    {
        // A goroutine that dropped a blocked GoFrame (`_ = rw.Lock()`) may hold this root's lock in
        // its recorded park: taking it again would spin forever (NotAwaited releases it).
        if (M.t_current?.CurG is { Outcome: not GOutcome.None } dropper) throw GoRuntime.NotAwaited(dropper, "a sync release");
        // A waiter that will never run, first in line, takes this release with it: under the lock,
        // before the unit is published, so no other goroutine can take the unit meant for it.
        if (!_wakeNextPastDropped && Volatile.Read(ref _nwait) != 0 && ConsumedByDeadHead()) return;
        Interlocked.Increment(ref _count);
        // Easy case: no waiter (nwait is raised before a waiter's last check of the count).
        if (Volatile.Read(ref _nwait) == 0) return;
        while (true)
        {
            _lock.Enter();
            if (Volatile.Read(ref _nwait) == 0) { _lock.Exit(); return; }
            var w = _head;
            while (w != null)
            {
                Unlink(w);
                Interlocked.Decrement(ref _nwait);
                // A goroutine of a runtime that has stopped or is stopping is never resumed, so the
                // next waiter is woken instead (see the class remarks).
                if (!NeverRuns(w.G!)) break;
                if (!_wakeNextPastDropped)
                {
                    // It died since the check before the unit was published: it takes the unit back
                    // if nobody has taken it meanwhile.
                    _lock.Exit();
                    CanAcquire();
                    return;
                }
                w = _head;
            }
            _lock.Exit();
            if (w == null) return;
            if (handoff && CanAcquire()) w.Ticket = 1;
            bool handedOff = w.Ticket == 1; // read before ready: once readied, w is the waiter's again
            var gp = w.G!;
            if (gp.Runtime.Ready(gp))
            {
                // Direct G hand-off: ready put the waiter in this P's runnext; goyield lets it run now, and
                // puts the releaser on the local run queue (not the global one, as Gosched would).
                if (handedOff && M.t_current is { CurG: { } me } mp && mp.Runtime == gp.Runtime) me.RequestGoYield();
                return;
            }
            // Its runtime began stopping after the check above: gp will never take what it was
            // given. Give a handed-off unit back and wake the next waiter with this release, or
            // let gp take its release with it (the class remarks).
            if (!_wakeNextPastDropped) { if (!handedOff) CanAcquire(); return; }
            if (handedOff) Interlocked.Increment(ref _count);
        }
    }

    /// <summary>Takes the first waiter off the queue if it will never run (without the release's unit). True: it was, nothing else to do.</summary>
    private bool ConsumedByDeadHead()
    {
        _lock.Enter();
        var w = _head;
        if (w == null || !NeverRuns(w.G!)) { _lock.Exit(); return false; }
        Unlink(w);
        Interlocked.Decrement(ref _nwait);
        _lock.Exit();
        return true;
    }

    private void Unlink(SemaWaiter w)
    {
        var prev = (SemaWaiter?)w.Prev;
        var next = (SemaWaiter?)w.Next;
        if (prev != null) prev.Next = next; else _head = next;
        if (next != null) next.Prev = prev; else _tail = prev;
        w.Next = w.Prev = null;
        w.InQueue = false;
    }

    void IParkUnlock.ParkUnlock() => _lock.Exit();

    /// <summary>`await` of a plain semacquire (WaitGroup.Wait): FIFO, no continuation.</summary>
    public struct Awaiter : IGoAwaiter
    {
        private readonly SemaRoot _root;
        private readonly WaitReason _reason;

        internal Awaiter(SemaRoot root, WaitReason reason) { _root = root; _reason = reason; }

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("a sync wait");
                return _root.Acquire(gp, lifo: false, _reason, then: null, out _) && !gp.YieldIfPreempted();
            }
        }

        // The retry after a wake ran on the M (SemaWaiter.Resume) and returned the waiter to the G.
        public readonly void GetResult() { }

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
