// Channels (chan.go): a lock, a ring buffer, and two queues of waiting goroutines.
//
// Invariants (Go's, checked where cheap):
//   - at least one of sendq and recvq is empty, except for an unbuffered channel with a single
//     goroutine blocked on both through select;
//   - for a buffered channel: qcount > 0 implies recvq is empty; qcount < cap implies sendq is empty.
// A blocked operation's value travels in its sudog: the sender's sudog carries the element to the
// receiver, or the receiver's sudog is filled by the sender, always under the channel lock, so the
// woken goroutine finds the element there when it resumes (no second lock round).
//
// Each blocking operation is an awaiter that does everything in IsCompleted. If it must block,
// it enqueues the G's sudog and returns false with the channel lock still held; the M releases
// the lock once the G's frames have unwound (Proc.cs, ParkM). That is gopark(chanparkcommit).
using System.Runtime.CompilerServices;

namespace GoSched;

/// <summary>A goroutine waiting on a channel, and the element it sends or receives. Mirrors runtime.sudog.</summary>
internal abstract class Sudog
{
    public G? G;
    public Sudog? Next, Prev;
    public bool IsSelect;
    public bool InQueue;
    /// <summary>True if woken by a value passing; false if woken because the channel was closed.</summary>
    public bool Success;
}

internal sealed class Sudog<T> : Sudog
{
    public T Elem = default!;
}

/// <summary>A FIFO of sudogs (chan.go's waitq).</summary>
internal struct WaitQ<T>
{
    private Sudog<T>? _first, _last;

    public readonly bool IsEmpty => _first == null;

    public void Enqueue(Sudog<T> sg)
    {
        sg.Next = null;
        sg.Prev = _last;
        if (_last != null) _last.Next = sg; else _first = sg;
        _last = sg;
        sg.InQueue = true;
    }

    /// <summary>
    /// Takes the first sudog whose goroutine can still be woken. A select's sudog may sit in several
    /// queues; the first waker to CAS its G's selectDone 0->1 owns it, later ones skip it (the G
    /// removes the rest itself when it resumes). Mirrors waitq.dequeue.
    /// </summary>
    public Sudog<T>? Dequeue()
    {
        while (true)
        {
            var sg = _first;
            if (sg == null) return null;
            Remove(sg);
            // Differs from Go, where a channel cannot outlive its runtime: a goroutine of a runtime
            // that has stopped (a channel shared with the host, or with another runtime) is never
            // resumed, so it is dropped rather than handed a value that would be lost.
            if (sg.G!.Dropped) continue;
            if (sg.IsSelect && Interlocked.CompareExchange(ref sg.G!.SelectDone, 1, 0) != 0) continue;
            return sg;
        }
    }

    /// <summary>Unlinks sg if it is still queued. Mirrors waitq.dequeueSudoG.</summary>
    public void Remove(Sudog<T> sg)
    {
        if (!sg.InQueue) return;
        var prev = (Sudog<T>?)sg.Prev;
        var next = (Sudog<T>?)sg.Next;
        if (prev != null) prev.Next = next; else _first = next;
        if (next != null) next.Prev = prev; else _last = prev;
        sg.Next = sg.Prev = null;
        sg.InQueue = false;
    }
}

/// <summary>Send on a closed channel, close of a closed channel: Go's runtime panics.</summary>
public sealed class ChannelClosedException(string message) : InvalidOperationException(message);

/// <summary>
/// A debug check on the rule that no channel lock is held while a goroutine is readied (Go's
/// chansend, chanrecv, closechan and selectgo all unlock before goready; readying takes the run
/// queue, wakep and maybe sched.lock and a new M). It counts the channel locks each thread holds,
/// and <see cref="GoRuntime.Ready"/> throws if the count is not zero. Off unless the runtime's
/// configuration sets the switch GoSched.CheckChanLocks (the tests do, in their runtimeconfig);
/// off, the JIT folds every use away. Go counts all runtime locks a thread holds in m.locks.
/// </summary>
internal static class ChanLockCheck
{
    internal static readonly bool Enabled = AppContext.TryGetSwitch("GoSched.CheckChanLocks", out bool on) && on;

    [ThreadStatic] private static int t_held;

    /// <summary>Channel locks the calling thread holds (0 unless <see cref="Enabled"/>).</summary>
    internal static int Held => t_held;

    internal static void Acquired()
    {
        if (Enabled) t_held++;
    }

    internal static void Released()
    {
        if (Enabled) t_held--;
    }
}

internal static class ChanIds
{
    private static long s_next;
    internal static long Next() => Interlocked.Increment(ref s_next);
}

/// <summary>A Go channel of <typeparamref name="T"/>, unbuffered (capacity 0) or buffered.</summary>
public sealed class Chan<T> : IParkUnlock
{
    // select's lock order (Go sorts by channel address). One counter for every element type:
    // a static in Chan<T> would be per closed generic type, and a Chan<int> and a Chan<string>
    // in one select could then share an Id and be treated as one channel.
    internal readonly long Id = ChanIds.Next();
    // Embedded (Internal/RuntimeMutex.cs): never copy it, so never make it readonly.
    internal Internal.RuntimeMutex Lock;
    private readonly T[] _buf;
    private int _qcount;
    private int _sendx, _recvx;
    private bool _closed;
    /// <summary>
    /// The channel is Go's `&lt;-chan T` to user code (timer and ticker channels, `&lt;-chan Time`):
    /// Send, TrySend, a select's Send case and Close throw at the call, where Go's compiler refuses
    /// them. Differs from Go: a run-time check, as C# has one channel type. Only the runtime
    /// sends on it (<see cref="SelectNbSend"/>).
    /// </summary>
    private readonly bool _recvOnly;
    internal WaitQ<T> RecvQ, SendQ;

    /// <summary>make(chan T, capacity).</summary>
    public Chan(int capacity = 0) : this(capacity, recvOnly: false) { }

    /// <summary>make(chan T, capacity), receive-only to user code when recvOnly.</summary>
    internal Chan(int capacity, bool recvOnly)
    {
        if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity), "makechan: size out of range");
        _buf = capacity == 0 ? Array.Empty<T>() : new T[capacity];
        _recvOnly = recvOnly;
    }

    /// <summary>Throws if user code may not send on or close this channel (a call site check, one field read).</summary>
    internal void CheckSendable(string op)
    {
        if (_recvOnly) throw RecvOnly(op);
    }

    private static GoUsageException RecvOnly(string op) => new(
        $"invalid operation: cannot {op} receive-only channel (a timer's or ticker's C, Go's <-chan Time): only the runtime sends on it; receive from it, and use Stop/Reset to control the timer");

    /// <summary>len(ch).</summary>
    public int Count => Volatile.Read(ref _qcount);

    /// <summary>cap(ch).</summary>
    public int Capacity => _buf.Length;

    /// <summary>`ch &lt;- v`: await it.</summary>
    public SendAwaitable Send(T value)
    {
        CheckSendable("send to");
        return new(this, value);
    }

    /// <summary>`v := &lt;-ch`: await it. A closed, drained channel gives default(T).</summary>
    public RecvAwaitable Recv() => new(this);

    /// <summary>`v, ok := &lt;-ch`: await it; ok is false once the channel is closed and drained.</summary>
    public RecvOkAwaitable RecvOk() => new(this);

    /// <summary>Takes the channel's lock (lock(&amp;c.lock)), counted by <see cref="ChanLockCheck"/>.</summary>
    internal void LockChan()
    {
        Lock.Enter();
        ChanLockCheck.Acquired();
    }

    /// <summary>Releases the channel's lock (unlock(&amp;c.lock)), counted by <see cref="ChanLockCheck"/>.</summary>
    internal void UnlockChan()
    {
        ChanLockCheck.Released();
        Lock.Exit();
    }

    /// <summary>close(ch). Callable from anywhere. Throws if already closed. Mirrors runtime.closechan.</summary>
    public void Close()
    {
        CheckSendable("close");
        G? glist = null;
        LockChan();
        if (_closed)
        {
            UnlockChan();
            throw new ChannelClosedException("close of closed channel");
        }
        _closed = true;
        // Release all readers: they get the zero value and ok=false.
        while (RecvQ.Dequeue() is { } sg)
        {
            sg.Elem = default!;
            sg.Success = false;
            sg.G!.Param = sg;
            sg.G.SchedLink = glist;
            glist = sg.G;
        }
        // Release all writers: they will panic.
        while (SendQ.Dequeue() is { } sg)
        {
            sg.Elem = default!;
            sg.Success = false;
            sg.G!.Param = sg;
            sg.G.SchedLink = glist;
            glist = sg.G;
        }
        UnlockChan();
        // Ready all Gs now that we've dropped the channel lock.
        while (glist != null)
        {
            var gp = glist;
            glist = gp.SchedLink;
            gp.SchedLink = null;
            gp.Runtime.Ready(gp);
        }
    }

    void IParkUnlock.ParkUnlock() => UnlockChan();

    /// <summary>
    /// A send that never blocks (select with a default case): true if a receiver took the value or
    /// it went into the buffer. Callable from anywhere. Throws on a closed channel.
    /// </summary>
    public bool TrySend(T value)
    {
        CheckSendable("send to");
        return SelectNbSend(value);
    }

    /// <summary>
    /// TrySend without the receive-only check: how the runtime sends on a timer's channel
    /// (sendTime). Mirrors runtime.selectnbsend (chansend with block = false).
    /// </summary>
    internal bool SelectNbSend(T value)
    {
        LockChan();
        if (_closed)
        {
            UnlockChan();
            throw new ChannelClosedException("send on closed channel");
        }
        bool sent = TrySendLocked(value, out G? ready);
        UnlockChan();
        ready?.Runtime.Ready(ready);
        return sent;
    }

    /// <summary>
    /// Sends value, or enqueues gp's sudog and returns false with the lock held (the M publishes
    /// the park). Mirrors runtime.chansend (block = true).
    /// </summary>
    internal bool ChanSend(G gp, T value, out Sudog<T>? parked)
    {
        parked = null;
        LockChan();
        if (_closed)
        {
            UnlockChan();
            throw new ChannelClosedException("send on closed channel");
        }
        if (TrySendLocked(value, out G? ready))
        {
            // send's unlockf, then goready: the receiver is readied with no channel lock held.
            UnlockChan();
            ready?.Runtime.Ready(ready, gp.M);
            return true;
        }
        // Block on the channel. Someone receiving will complete the operation for us.
        var mysg = gp.AcquireSudog<T>();
        mysg.Elem = value;
        SendQ.Enqueue(mysg);
        gp.Park(this, WaitReason.ChanSend);
        parked = mysg;
        return false;
    }

    /// <summary>
    /// Hands value to a waiting receiver and returns the receiver's G, for the caller to ready once
    /// it has dropped its locks. Lock held. Mirrors runtime.send, whose unlockf and goready are the
    /// caller's: chansend drops this channel's lock, selectgo every channel's (selunlock).
    /// </summary>
    private static G SendDirect(Sudog<T> sg, T value)
    {
        sg.Elem = value;
        sg.Success = true;
        var gp = sg.G!;
        gp.Param = sg;
        return gp;
    }

    /// <summary>
    /// Receives into value/ok, or enqueues gp's sudog and returns false with the lock held.
    /// Mirrors runtime.chanrecv (block = true).
    /// </summary>
    internal bool ChanRecv(G gp, out T value, out bool ok, out Sudog<T>? parked)
    {
        parked = null;
        LockChan();
        if (TryRecvLocked(out value, out ok, out G? ready))
        {
            // recv's unlockf, then goready: the sender is readied with no channel lock held.
            UnlockChan();
            ready?.Runtime.Ready(ready, gp.M);
            return true;
        }
        var mysg = gp.AcquireSudog<T>();
        mysg.Elem = default!;
        RecvQ.Enqueue(mysg);
        gp.Park(this, WaitReason.ChanReceive);
        parked = mysg;
        return false;
    }

    /// <summary>
    /// The non-blocking part of chanrecv: closed-and-empty, a waiting sender, or the buffer. True
    /// if it received. Lock held on entry and on return: a sender it took from is returned in
    /// ready, for the caller to ready once it has dropped its locks (runtime.recv's unlockf and
    /// goready are the caller's, as for <see cref="SendDirect"/>).
    /// </summary>
    internal bool TryRecvLocked(out T value, out bool ok, out G? ready)
    {
        ready = null;
        if (_closed && _qcount == 0)
        {
            value = default!;
            ok = false;
            return true;
        }
        if (SendQ.Dequeue() is { } sg)
        {
            // A waiting sender: if unbuffered, take its value; else the buffer is full: take the
            // head and put the sender's value at the tail (same slot, as the ring is full).
            if (_buf.Length == 0) value = sg.Elem;
            else
            {
                value = _buf[_recvx];
                _buf[_recvx] = sg.Elem;
                if (++_recvx == _buf.Length) _recvx = 0;
                _sendx = _recvx;
            }
            sg.Elem = default!;
            sg.Success = true;
            ready = sg.G!;
            ready.Param = sg;
            ok = true;
            return true;
        }
        if (_qcount > 0)
        {
            value = _buf[_recvx];
            _buf[_recvx] = default!;
            if (++_recvx == _buf.Length) _recvx = 0;
            _qcount--;
            ok = true;
            return true;
        }
        value = default!;
        ok = false;
        return false;
    }

    /// <summary>
    /// The non-blocking part of chansend on an open channel (the caller checks closed, as chansend
    /// and selectgo do): a waiting receiver gets the value, or the buffer takes it. True if sent.
    /// Lock held on entry and on return; a receiver handed the value is returned in ready, for the
    /// caller to ready once it has dropped its locks.
    /// </summary>
    internal bool TrySendLocked(T value, out G? ready)
    {
        ready = null;
        if (RecvQ.Dequeue() is { } sg)
        {
            ready = SendDirect(sg, value);
            return true;
        }
        if (_qcount < _buf.Length)
        {
            _buf[_sendx] = value;
            if (++_sendx == _buf.Length) _sendx = 0;
            _qcount++;
            return true;
        }
        return false;
    }

    internal bool Closed => _closed;

    /// <summary>The awaitable of <see cref="Send"/>.</summary>
    public readonly struct SendAwaitable(Chan<T> c, T value)
    {
        public SendAwaiter GetAwaiter() => new(c, value);
    }

    public struct SendAwaiter : IGoAwaiter
    {
        private readonly Chan<T> _c;
        private readonly T _value;
        private Sudog<T>? _sg;

        internal SendAwaiter(Chan<T> c, T value) { _c = c; _value = value; _sg = null; }

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("a channel send");
                return _c.ChanSend(gp, _value, out _sg) && !gp.YieldIfPreempted();
            }
        }

        public void GetResult()
        {
            if (_sg == null) return;
            var gp = _sg.G!;
            bool success = _sg.Success;
            gp.ReleaseSudog(_sg);
            _sg = null;
            if (!success) throw new ChannelClosedException("send on closed channel");
        }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }

    /// <summary>The awaitable of <see cref="Recv"/>.</summary>
    public readonly struct RecvAwaitable(Chan<T> c)
    {
        public RecvAwaiter GetAwaiter() => new(c);
    }

    /// <summary>The awaitable of <see cref="RecvOk"/>.</summary>
    public readonly struct RecvOkAwaitable(Chan<T> c)
    {
        public RecvOkAwaiter GetAwaiter() => new(c);
    }

    /// <summary>The receive operation shared by both awaiters.</summary>
    private struct RecvCore(Chan<T> c)
    {
        private T _value = default!;
        private bool _ok;
        private Sudog<T>? _sg;

        public bool TryComplete()
        {
            var gp = GoRuntime.CurrentG("a channel receive");
            return c.ChanRecv(gp, out _value, out _ok, out _sg) && !gp.YieldIfPreempted();
        }

        public (T Value, bool Ok) Result()
        {
            if (_sg != null)
            {
                var gp = _sg.G!;
                _value = _sg.Elem;
                _ok = _sg.Success;
                gp.ReleaseSudog(_sg);
                _sg = null;
            }
            return (_value, _ok);
        }
    }

    public struct RecvAwaiter : IGoAwaiter
    {
        private RecvCore _core;
        internal RecvAwaiter(Chan<T> c) { _core = new RecvCore(c); }
        public bool IsCompleted => _core.TryComplete();
        /// <summary>The value received (default(T) once the channel is closed and drained).</summary>
        public T GetResult() => _core.Result().Value;
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }

    public struct RecvOkAwaiter : IGoAwaiter
    {
        private RecvCore _core;
        internal RecvOkAwaiter(Chan<T> c) { _core = new RecvCore(c); }
        public bool IsCompleted => _core.TryComplete();
        /// <summary>(value, ok): ok is false once the channel is closed and drained.</summary>
        public (T Value, bool Ok) GetResult() => _core.Result();
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}
