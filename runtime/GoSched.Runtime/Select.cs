// select (select.go): wait on several channel operations at once.
//
// Usage inside a goroutine:
//     var sel = Go.Select();
//     var r = sel.Recv(ch1);          // a case handle
//     var s = sel.Send(ch2, 42);
//     sel.Default();                  // optional: makes the select non-blocking
//     int i = await sel;              // the index of the case that ran, -1 for default
//     if (i == r.Index) use(r.Value, r.Ok);
//
// selectgo's algorithm, as Go's: cases are polled in a random order (fairness) and channels are
// locked in a fixed global order (by channel id, Go uses addresses) so two selects never lock in
// opposite orders. Pass 1 looks for a case that can proceed now (if one completes with a waiting
// goroutine, that goroutine is readied only after every lock is dropped); with none and a default, the
// default runs; otherwise pass 2 enqueues a sudog on every channel and parks holding all locks
// (released by the M after the frames unwind). The first waker to win the G's selectDone CAS
// completes its case and records its sudog in G.Param; on resume, pass 3 relocks and removes the
// other sudogs from their queues.
//
// The SelectBox is the goroutine's scratch space, reused by its next select; so are the case
// objects when a loop selects on the same types, so a steady select loop allocates nothing. What
// Go.Select() returns is a handle (a struct) stamped with the box's version, as a GoFrame is with
// its box's: a handle built before a later Go.Select(), or a case read after a later select
// reused it, is a GoUsageException rather than the later select's cases or value.
namespace GoSched;

/// <summary>One case of a select.</summary>
internal abstract class SelectCase
{
    public int Index;
    /// <summary>The version of the select that last used this case (SelectBox.Version).</summary>
    public int Version;
    public abstract long ChanId { get; }
    public abstract void LockChan();
    public abstract void UnlockChan();
    /// <summary>
    /// Pass 1: complete now if possible. Called with every channel locked, and returns with every
    /// one still locked: a goroutine it completed with is returned in ready, for the select to
    /// ready once it has dropped all its locks. Throws on a send to a closed channel.
    /// </summary>
    public abstract bool TryNow(G gp, out G? ready);
    /// <summary>Pass 2: enqueue the case's sudog.</summary>
    public abstract void Enqueue(G gp);
    /// <summary>Pass 3: if this case's sudog won, take its result and return true; else dequeue it.</summary>
    public abstract bool Finish(G gp, Sudog? winner);
    /// <summary>After Finish: a send case woken by close (the select panics).</summary>
    public abstract bool SendFailed { get; }
}

internal sealed class SelectCase<T> : SelectCase
{
    public Chan<T> C = null!;
    public bool IsSend;
    public T SendValue = default!;
    public T RecvValue = default!;
    public bool RecvOk;
    private readonly Sudog<T> _sg = new();

    public override long ChanId => C.Id;
    public override void LockChan() => C.LockChan();
    public override void UnlockChan() => C.UnlockChan();

    public override bool TryNow(G gp, out G? ready)
    {
        if (!IsSend) return C.TryRecvLocked(out RecvValue, out RecvOk, out ready);
        if (C.Closed) throw new ChannelClosedException("send on closed channel"); // selectgo's sclose
        return C.TrySendLocked(SendValue, out ready);
    }

    public override void Enqueue(G gp)
    {
        _sg.G = gp;
        _sg.IsSelect = true;
        _sg.Success = false;
        _sg.Elem = IsSend ? SendValue : default!;
        if (IsSend) C.SendQ.Enqueue(_sg); else C.RecvQ.Enqueue(_sg);
    }

    public override bool Finish(G gp, Sudog? winner)
    {
        if (winner == _sg)
        {
            if (IsSend)
            {
                if (!_sg.Success) { _sg.Elem = default!; return true; } // closed: the caller panics
            }
            else
            {
                RecvValue = _sg.Elem;
                RecvOk = _sg.Success;
            }
            _sg.Elem = default!;
            return true;
        }
        if (IsSend) C.SendQ.Remove(_sg); else C.RecvQ.Remove(_sg);
        _sg.Elem = default!;
        return false;
    }

    public override bool SendFailed => IsSend && !_sg.Success;
}

/// <summary>
/// A select statement under construction, then awaited. Get one from <see cref="Go.Select"/>.
/// It is a handle on the goroutine's one <see cref="SelectBox"/>, stamped with the box's version:
/// the next Go.Select() reuses the box, so a handle built before it is refused (GoUsageException)
/// instead of running the newer select's cases, as a reused GoFrame box is.
/// </summary>
public readonly struct Select
{
    private readonly SelectBox _box;
    private readonly int _version;

    internal Select(SelectBox box)
    {
        _box = box;
        _version = box.Version;
    }

    private SelectBox Box
    {
        get
        {
            if (_box == null) throw new GoUsageException("a default(Select): get a select from Go.Select()");
            _box.Check(_version);
            return _box;
        }
    }

    /// <summary>Adds `case v, ok := &lt;-ch`.</summary>
    public RecvCase<T> Recv<T>(Chan<T> ch) => Box.Recv(ch);

    /// <summary>Adds `case ch &lt;- value`; returns the case's index.</summary>
    public int Send<T>(Chan<T> ch, T value) => Box.Send(ch, value);

    /// <summary>Adds `default:`: the select never blocks and returns -1 when no case is ready.</summary>
    public void Default() => Box.Default();

    /// <summary>Await the select once: the index of the case that ran, or -1 for default.</summary>
    public SelectAwaiter GetAwaiter() => new(Box);

    public struct SelectAwaiter : IGoAwaiter
    {
        private readonly SelectBox _s;
        internal SelectAwaiter(SelectBox s) { _s = s; }
        public bool IsCompleted => _s.Begin();
        /// <summary>The index of the case that ran, or -1 for default.</summary>
        public int GetResult() => _s.End();
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}

/// <summary>
/// The cases and scratch space of a goroutine's select (selectgo's scases, pollorder and
/// lockorder), reused by its next select so that a select loop allocates nothing. Each
/// Go.Select() bumps Version; handles of an earlier one are refused.
/// </summary>
internal sealed class SelectBox : IParkUnlock
{
    private readonly List<SelectCase> _cases = new();
    private int _n;
    private bool _hasDefault;
    private SelectCase[] _lockOrder = new SelectCase[4];
    private int[] _pollOrder = new int[4];
    private G? _gp;
    private int _chosen = -1;
    private bool _parked;

    /// <summary>Bumped by every Go.Select() on this box; a <see cref="Select"/> handle remembers the one it was made with.</summary>
    internal int Version;

    internal SelectBox() { }

    /// <summary>Starts a new select on the box, for goroutine gp.</summary>
    internal SelectBox Reset(G gp)
    {
        Version++;
        _gp = gp;
        _n = 0;
        _hasDefault = false;
        _chosen = -1;
        _parked = false;
        return this;
    }

    private SelectCase<T> NewCase<T>()
    {
        SelectCase<T> c;
        if (_n < _cases.Count && _cases[_n] is SelectCase<T> reuse) c = reuse;
        else
        {
            c = new SelectCase<T>();
            if (_n < _cases.Count) _cases[_n] = c; else _cases.Add(c);
        }
        c.Index = _n++;
        c.Version = Version;
        return c;
    }

    /// <summary>Refuses a handle made by an earlier Go.Select() on this box, or one already awaited.</summary>
    internal void Check(int version)
    {
        if (version != Version)
            throw new GoUsageException(
                "this select was built before a later Go.Select() in the same goroutine, which reuses it: await each select before calling Go.Select() again");
        if (_gp == null) throw new GoUsageException("select used after it completed; call Go.Select() again");
    }

    internal RecvCase<T> Recv<T>(Chan<T> ch)
    {
        ArgumentNullException.ThrowIfNull(ch);
        var c = NewCase<T>();
        c.C = ch;
        c.IsSend = false;
        return new RecvCase<T>(c);
    }

    internal int Send<T>(Chan<T> ch, T value)
    {
        ArgumentNullException.ThrowIfNull(ch);
        ch.CheckSendable("send to");
        var c = NewCase<T>();
        c.C = ch;
        c.IsSend = true;
        c.SendValue = value;
        return c.Index;
    }

    internal void Default() => _hasDefault = true;

    /// <summary>Passes 1 and 2. True if done (a case ran, or default); false if parked with every lock held. Mirrors runtime.selectgo.</summary>
    internal bool Begin()
    {
        var gp = _gp ?? throw new GoUsageException("select used after it completed; call Go.Select() again");
        if (_n == 0)
        {
            if (_hasDefault) { _chosen = -1; return true; }
            // select {}: block forever.
            gp.Park(null, WaitReason.SelectNoCases);
            _parked = true;
            return false;
        }
        if (_pollOrder.Length < _n) { _pollOrder = new int[_n * 2]; _lockOrder = new SelectCase[_n * 2]; }

        // Generate permuted order (a random shuffle, Fisher-Yates inside-out).
        ref var rand = ref gp.Runtime.RandOf(gp);
        for (int i = 0; i < _n; i++)
        {
            int j = (int)rand.Next((uint)i + 1);
            _pollOrder[i] = _pollOrder[j];
            _pollOrder[j] = i;
        }
        // Lock order: by channel id (insertion sort, n is small).
        for (int i = 0; i < _n; i++)
        {
            var c = _cases[i];
            int k = i;
            while (k > 0 && _lockOrder[k - 1].ChanId > c.ChanId) { _lockOrder[k] = _lockOrder[k - 1]; k--; }
            _lockOrder[k] = c;
        }

        SelLock();
        // Pass 1: look for something already waiting.
        for (int i = 0; i < _n; i++)
        {
            var c = _cases[_pollOrder[i]];
            bool done;
            G? ready;
            try { done = c.TryNow(gp, out ready); }
            catch { SelUnlock(); throw; }
            if (done)
            {
                // Go passes selunlock to send/recv as their unlockf: every channel's lock is
                // dropped before the goroutine on the other side is readied.
                SelUnlock();
                ready?.Runtime.Ready(ready, gp.M);
                _chosen = c.Index;
                return !gp.YieldIfPreempted();
            }
        }
        if (_hasDefault)
        {
            SelUnlock();
            _chosen = -1;
            return true;
        }
        // Pass 2: enqueue on all channels and park.
        gp.Param = null;
        Volatile.Write(ref gp.SelectDone, 0);
        for (int i = 0; i < _n; i++) _lockOrder[i].Enqueue(gp);
        gp.Park(this, WaitReason.Select);
        _parked = true;
        return false;
    }

    /// <summary>Pass 3, after the wake-up: relock, keep the winning case, dequeue the others.</summary>
    internal int End()
    {
        var gp = _gp!;
        _gp = null;
        if (!_parked) return _chosen;
        SelLock();
        Volatile.Write(ref gp.SelectDone, 0);
        Sudog? winner = gp.Param;
        gp.Param = null;
        SelectCase? won = null;
        for (int i = 0; i < _n; i++)
            if (_lockOrder[i].Finish(gp, winner)) won = _lockOrder[i];
        SelUnlock();
        if (won == null) GoRuntime.Throw("selectgo: bad wakeup");
        _chosen = won!.Index;
        if (won.SendFailed) throw new ChannelClosedException("send on closed channel");
        return _chosen;
    }

    void IParkUnlock.ParkUnlock() => SelUnlock();

    private void SelLock()
    {
        long last = -1;
        for (int i = 0; i < _n; i++)
        {
            var c = _lockOrder[i];
            if (c.ChanId != last) { c.LockChan(); last = c.ChanId; }
        }
    }

    private void SelUnlock()
    {
        // Unlock in reverse lock order, each channel once.
        for (int i = _n - 1; i >= 0; i--)
        {
            var c = _lockOrder[i];
            if (i > 0 && _lockOrder[i - 1].ChanId == c.ChanId) continue;
            c.UnlockChan();
        }
    }
}

/// <summary>A receive case of a select: after the select, its value and ok if it was chosen.</summary>
public readonly struct RecvCase<T>
{
    private readonly SelectCase<T> _c;
    private readonly int _version;
    internal RecvCase(SelectCase<T> c) { _c = c; _version = c.Version; }

    /// <summary>The case's index: compare with what `await sel` returned.</summary>
    public int Index => _c.Index;

    /// <summary>The value received, if this case was chosen. Read it before the goroutine's next Go.Select().</summary>
    public T Value => Case.RecvValue;

    /// <summary>False if the channel was closed and drained.</summary>
    public bool Ok => Case.RecvOk;

    /// <summary>The case, unless a later select has reused it (its value would be that select's).</summary>
    private SelectCase<T> Case
    {
        get
        {
            if (_c.Version != _version)
                throw new GoUsageException("a select case read after a later Go.Select() reused it: read a case's Value and Ok before building the next select");
            return _c;
        }
    }

    public static implicit operator int(RecvCase<T> c) => c.Index;
}
