// sync.Cond as Go 1.19's sync/cond.go, on the runtime's notifyList (sema.go).
//
// A notifyList hands out tickets: Wait takes the next one (notifyListAdd) before it unlocks the
// Locker, then parks unless its ticket has already been notified. Signal notifies the oldest
// ticket not yet notified, Broadcast all of them. Because the ticket is taken while the Locker is
// still held, a Signal that comes between the Unlock and the park is not lost: the waiter finds
// its ticket notified and does not park. A Signal with no waiter is lost, as in Go (a condition
// variable has no memory; the condition itself lives under the Locker).
namespace GoSched;

/// <summary>
/// sync.Cond for goroutines: `await c.Wait()` (with c.L held), `c.Signal()`, `c.Broadcast()`
/// (Signal and Broadcast also from outside any goroutine). Go 1.19's.
/// </summary>
public sealed class Cond(ILocker l)
{
    private readonly NotifyList _notify = new();

    /// <summary>Held while observing or changing the condition.</summary>
    public ILocker L { get; } = l ?? throw new ArgumentNullException(nameof(l));

    /// <summary>
    /// Unlocks L, waits for a Signal or Broadcast, and locks L again before returning. Call it
    /// with L held and in a loop over the condition. Mirrors sync.Cond.Wait.
    /// </summary>
    public async GoFrame Wait()
    {
        uint t = _notify.Add();
        L.Unlock();
        await _notify.Wait(t);
        await L.Lock();
    }

    /// <summary>Wakes the goroutine that has waited longest, if any. Mirrors sync.Cond.Signal.</summary>
    public void Signal() => _notify.NotifyOne();

    /// <summary>Wakes every waiting goroutine. Mirrors sync.Cond.Broadcast.</summary>
    public void Broadcast() => _notify.NotifyAll();
}

/// <summary>A ticket-based notification list. Mirrors runtime.notifyList.</summary>
internal sealed class NotifyList : IParkUnlock
{
    private uint _wait;   // ticket of the next waiter (atomic)
    private uint _notify; // ticket of the next waiter to notify (written under _lock, read without)
    private Internal.RuntimeMutex _lock;
    private Sudog<uint>? _head, _tail; // waiters in ticket order; Elem is the ticket

    /// <summary>Takes a ticket. Mirrors notifyListAdd.</summary>
    public uint Add() => Interlocked.Increment(ref _wait) - 1;

    /// <summary>Waits for ticket t to be notified. Mirrors notifyListWait.</summary>
    public WaitAwaitable Wait(uint t) => new(this, t);

    /// <summary>Notifies every ticket taken so far. Mirrors notifyListNotifyAll.</summary>
    public void NotifyAll()
    {
        // Fast path: no new waiter since the last notification.
        if (Volatile.Read(ref _wait) == Volatile.Read(ref _notify)) return;
        _lock.Enter();
        var s = _head;
        _head = _tail = null;
        Volatile.Write(ref _notify, Volatile.Read(ref _wait));
        _lock.Exit();
        // Ready them all, with the lock dropped.
        while (s != null)
        {
            var next = (Sudog<uint>?)s.Next;
            s.Next = null;
            s.InQueue = false;
            var gp = s.G!;
            if (!gp.Dropped) gp.Runtime.Ready(gp);
            s = next;
        }
    }

    /// <summary>Notifies the oldest ticket not yet notified, readying its waiter if it has parked. Mirrors notifyListNotifyOne.</summary>
    public void NotifyOne()
    {
        if (Volatile.Read(ref _wait) == Volatile.Read(ref _notify)) return;
        _lock.Enter();
    next:
        uint t = _notify;
        if (t == Volatile.Read(ref _wait)) { _lock.Exit(); return; }
        // Move on to the next ticket; its waiter, if it has not parked yet, will see it notified.
        Volatile.Write(ref _notify, t + 1);
        // Find the sudog with ticket t, if it has parked (waiters may enqueue out of ticket order:
        // one can take its ticket and be slow to reach the list).
        for (Sudog<uint>? p = null, s = _head; s != null; p = s, s = (Sudog<uint>?)s.Next)
        {
            if (s.Elem != t) continue;
            var n = (Sudog<uint>?)s.Next;
            if (p != null) p.Next = n; else _head = n;
            if (n == null) _tail = p;
            s.Next = null;
            s.InQueue = false;
            var gp = s.G!;
            // Differs from Go, where a Cond cannot outlive its runtime: a waiter of a runtime that
            // has stopped (or is stopping) never runs again, so the signal goes to the next ticket,
            // as a channel or a Mutex passes a wake-up on past such a waiter.
            if (gp.Dropped || gp.Runtime.Stopping) goto next;
            _lock.Exit();
            if (!gp.Runtime.Ready(gp)) NotifyOne(); // its runtime began stopping just now
            return;
        }
        _lock.Exit();
    }

    /// <summary>a before b, in ticket order that survives wrap-around. Mirrors sema.go's less.</summary>
    private static bool Less(uint a, uint b) => (int)(a - b) < 0;

    void IParkUnlock.ParkUnlock() => _lock.Exit();

    public readonly struct WaitAwaitable(NotifyList l, uint t)
    {
        public WaitAwaiter GetAwaiter() => new(l, t);
    }

    public struct WaitAwaiter : IGoAwaiter
    {
        private readonly NotifyList _l;
        private readonly uint _t;
        private Sudog<uint>? _s;

        internal WaitAwaiter(NotifyList l, uint t) { _l = l; _t = t; _s = null; }

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("Cond.Wait");
                var l = _l;
                l._lock.Enter();
                // Return right away if this ticket has already been notified.
                if (Less(_t, l._notify)) { l._lock.Exit(); return !gp.YieldIfPreempted(); }
                var s = gp.AcquireSudog<uint>();
                s.Elem = _t;
                s.Next = null;
                s.InQueue = true;
                if (l._tail == null) l._head = s; else l._tail.Next = s;
                l._tail = s;
                gp.Park(l, WaitReason.SyncCondWait);
                _s = s;
                return false;
            }
        }

        public void GetResult()
        {
            if (_s == null) return;
            _s.G!.ReleaseSudog(_s);
            _s = null;
        }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}
