// Run queues: each P's local ring plus runnext, and the global queue.
//
// The local queue is a single-producer, multi-consumer ring (Go's runq). Only the P's owner M
// writes RunqTail (runqput, runqsteal into its own ring) and runnext (runqput); any M may consume
// from the head (runqget by the owner, runqgrab by thieves) by CAS on RunqHead. The pairing is the
// classic one: the producer writes the slot, then store-releases the tail; a consumer load-acquires
// head and tail, reads the slots, then CAS-releases the head, which commits the consumption. A
// thief that read slots the owner has since overwritten fails its CAS and retries, so it never
// returns a G twice.
//
// Ownership is in the method names' comments and in the check inside: the owner's methods assert
// that the calling M holds the P (RunqPut, RunqGet), and the thief's (RunqGrab) may be called from
// any M.
//
// The global queue is a FIFO under sched.lock. Differs from Go: it is a ring of G references
// (GQueue), not a list linked through g.schedlink. What goes in and comes out, and in which
// batches, is Go's; what differs is what a batch touches. globrunqget moves up to half a local
// ring (128 Gs) at a time, and after a burst the Gs on the global queue are long out of the
// caches: popping a linked list reads each G's link, one cache miss after the other (each
// address comes from the previous miss), which was 16% of the spawn benchmark's time at
// GOMAXPROCS=1. Popping ring slots touches no G; the owner's runqget then asks for the Gs a
// little ahead of running them (Internal/Prefetch.cs).
namespace GoSched;

/// <summary>A FIFO of Gs in a ring that grows by doubling (the global run queue). Not thread-safe: sched.lock guards it.</summary>
internal struct GQueue(int capacity)
{
    private G?[] _items = new G?[capacity]; // length a power of two
    private int _head, _count;

    public readonly int Count => _count;

    public void PushBack(G gp)
    {
        if (_count == _items.Length) Grow();
        _items[(_head + _count) & (_items.Length - 1)] = gp;
        _count++;
    }

    public void PushFront(G gp)
    {
        if (_count == _items.Length) Grow();
        _head = (_head - 1) & (_items.Length - 1);
        _items[_head] = gp;
        _count++;
    }

    public G? PopFront()
    {
        if (_count == 0) return null;
        G? gp = _items[_head];
        _items[_head] = null;
        _head = (_head + 1) & (_items.Length - 1);
        _count--;
        return gp;
    }

    /// <summary>Drops every G (a stopped runtime keeps none alive).</summary>
    public void Clear()
    {
        Array.Clear(_items);
        _head = _count = 0;
    }

    /// <summary>The Gs head first, left on the queue (tests, debugging).</summary>
    public readonly G[] ToArray()
    {
        var gs = new G[_count];
        for (int i = 0; i < _count; i++) gs[i] = _items[(_head + i) & (_items.Length - 1)]!;
        return gs;
    }

    private void Grow()
    {
        var bigger = new G?[_items.Length * 2];
        for (int i = 0; i < _count; i++) bigger[i] = _items[(_head + i) & (_items.Length - 1)];
        _items = bigger;
        _head = 0;
    }
}

public sealed partial class GoRuntime
{
    /// <summary>
    /// Tries to put gp on the local runnable queue. If next, gp goes into runnext and the old runnext
    /// is kicked to the tail of the ring. If the ring is full, half of it plus gp move to the global
    /// queue. Executed only by the owner P. Mirrors runtime.runqput.
    /// </summary>
    internal void RunqPut(P pp, G gp, bool next)
    {
        // Callers that ask for runnext (newproc, ready) call wakep next, whose reads must not pass
        // this put (Park.cs): runnext's CAS is a full fence, a ring put is not. Go always takes
        // runnext there (except with randomizeScheduler), so it never needs the barrier below.
        bool fence = next;
        if (!_config.RunNext) next = false;
        if (_config.RandomizeScheduler && next && CurrentRand().Next(2) == 0) next = false;
        fence &= !next;

        if (next)
        {
            G? oldNext;
            do { oldNext = Volatile.Read(ref pp.RunNext); }
            while (Interlocked.CompareExchange(ref pp.RunNext, gp, oldNext) != oldNext);
            if (oldNext == null) return;
            // Kick the old runnext out to the regular run queue.
            gp = oldNext;
        }

        while (true)
        {
            uint h = Volatile.Read(ref pp.RunqHead); // load-acquire, synchronize with consumers
            uint t = pp.RunqTail;
            if (t - h < (uint)pp.Runq.Length)
            {
                pp.Runq[t & pp.RunqMask] = gp;
                Volatile.Write(ref pp.RunqTail, t + 1); // store-release, makes the item available for consumption
                if (fence) Interlocked.MemoryBarrier();
                return;
            }
            if (RunqPutSlow(pp, gp, h, t)) return; // its CAS of runqhead and the global queue's lock are fences
            // The queue is not full now (a thief took some), so the put above must succeed.
        }
    }

    /// <summary>
    /// Moves half of the full local ring plus gp to the global queue in one batch.
    /// Executed only by the owner P. Mirrors runtime.runqputslow.
    /// </summary>
    private bool RunqPutSlow(P pp, G gp, uint h, uint t)
    {
        uint n = (t - h) / 2;
        if (n != (uint)pp.Runq.Length / 2) Throw("runqputslow: queue is not full");
        var batch = pp.SlowBatch;
        for (uint i = 0; i < n; i++) batch[i] = pp.Runq[(h + i) & pp.RunqMask]!;
        if (Interlocked.CompareExchange(ref pp.RunqHead, h + n, h) != h) return false; // cas-release, commits consume
        batch[n] = gp;
        if (_config.RandomizeScheduler)
        {
            ref var rand = ref CurrentRand();
            for (uint i = 1; i <= n; i++)
            {
                uint j = rand.Next(i + 1);
                (batch[i], batch[j]) = (batch[j], batch[i]);
            }
        }
        // Differs from Go: no linking of the goroutines (the global queue is a ring, see above).
        using (_sched.Lock.EnterScope()) GlobRunqPutBatch(batch, (int)n + 1);
        return true;
    }

    /// <summary>
    /// Gets a G from the local runnable queue. inheritTime is true if it came from runnext (it shares
    /// the current time slice). Executed only by the owner P. Mirrors runtime.runqget.
    /// </summary>
    internal G? RunqGet(P pp, out bool inheritTime)
    {
        // If there's a runnext, it's the next G to run. If the CAS fails, a thief took it
        // (only thieves can clear it besides us), so fall through to the ring.
        G? next = Volatile.Read(ref pp.RunNext);
        if (next != null && Interlocked.CompareExchange(ref pp.RunNext, null, next) == next)
        {
            inheritTime = true;
            pp.Counters.RunNextHits++;
            return next;
        }
        inheritTime = false;
        while (true)
        {
            uint h = Volatile.Read(ref pp.RunqHead); // load-acquire, synchronize with other consumers
            uint t = pp.RunqTail;
            if (t == h) return null;
            G? gp = pp.Runq[h & pp.RunqMask];
            if (Interlocked.CompareExchange(ref pp.RunqHead, h + 1, h) == h) // cas-release, commits consume
            {
                // Ask for what the next two runqgets will run (Internal/Prefetch.cs): the G after
                // next, and the body of the next one, whose G the previous call asked for. Slots
                // past the tail or already stolen hold stale Gs: a useless hint, nothing more.
                if (t - h > 2) Internal.Prefetch.Lines(pp.Runq[(h + 2) & pp.RunqMask], 2);
                if (t - h > 1 && pp.Runq[(h + 1) & pp.RunqMask] is { } following) Internal.Prefetch.Lines(following.Body, 2);
                return gp;
            }
        }
    }

    /// <summary>True if pp has no G on its local queue (ring or runnext). Racy by nature. Mirrors runtime.runqempty.</summary>
    internal static bool RunqEmpty(P pp)
    {
        // Read head, tail and runnext so that they were observed at once: a G moving from runnext
        // to the ring (runqput kick-out) must not make the queue look empty in between.
        while (true)
        {
            uint head = Volatile.Read(ref pp.RunqHead);
            uint tail = Volatile.Read(ref pp.RunqTail);
            G? runnext = Volatile.Read(ref pp.RunNext);
            if (tail == Volatile.Read(ref pp.RunqTail)) return head == tail && runnext == null;
        }
    }

    /// <summary>
    /// Grabs a batch of half of pp's ring into batch starting at batchHead; on the last steal try,
    /// takes runnext when the ring is empty. Can be executed by any P. Returns the number grabbed.
    /// Mirrors runtime.runqgrab.
    /// </summary>
    internal uint RunqGrab(P pp, G?[] batch, uint batchHead, uint batchMask, bool stealRunNextG)
    {
        while (true)
        {
            uint h = Volatile.Read(ref pp.RunqHead); // load-acquire, synchronize with other consumers
            uint t = Volatile.Read(ref pp.RunqTail); // load-acquire, synchronize with the producer
            uint n = t - h;
            n -= n / 2;
            if (n == 0)
            {
                if (stealRunNextG)
                {
                    G? next = Volatile.Read(ref pp.RunNext);
                    if (next != null)
                    {
                        if (Volatile.Read(ref pp.Status) == (int)PStatus.Running)
                        {
                            // pp is running and is likely about to run its runnext (the G it just
                            // readied, e.g. the other end of a channel, before blocking). Stealing
                            // it now would only bounce it between Ps: back off to give pp a chance
                            // to schedule it first. As Go, a real usleep(3), which gives the CPU
                            // away and in practice lasts the kernel's wake-up latency (tens of µs
                            // here), not a 3 µs busy spin that competes with pp for the CPU.
                            Internal.OsSleep.Usleep(3);
                        }
                        if (Interlocked.CompareExchange(ref pp.RunNext, null, next) != next) continue;
                        batch[batchHead & batchMask] = next;
                        return 1;
                    }
                }
                return 0;
            }
            if (n > (uint)pp.Runq.Length / 2) continue; // read inconsistent h and t
            for (uint i = 0; i < n; i++)
                batch[(batchHead + i) & batchMask] = pp.Runq[(h + i) & pp.RunqMask];
            if (Interlocked.CompareExchange(ref pp.RunqHead, h + n, h) == h) // cas-release, commits consume
                return n;
        }
    }

    /// <summary>
    /// Steals half of p2's queue into pp's and returns one of the stolen Gs, or null.
    /// Executed only by pp's owner. Mirrors runtime.runqsteal.
    /// </summary>
    internal G? RunqSteal(P pp, P p2, bool stealRunNextG)
    {
        uint t = pp.RunqTail;
        uint n = RunqGrab(p2, pp.Runq, t, pp.RunqMask, stealRunNextG);
        if (n == 0) return null;
        pp.Counters.StealOps++;
        pp.Counters.StolenGs += n;
        n--;
        G? gp = pp.Runq[(t + n) & pp.RunqMask];
        if (n == 0) return gp;
        uint h = Volatile.Read(ref pp.RunqHead); // load-acquire, synchronize with consumers
        if (t - h + n >= (uint)pp.Runq.Length) Throw("runqsteal: runq overflow");
        Volatile.Write(ref pp.RunqTail, t + n); // store-release, makes the item available for consumption
        return gp;
    }

    /// <summary>Puts gp on the global runnable queue. sched.lock must be held. Mirrors runtime.globrunqput.</summary>
    internal void GlobRunqPut(G gp)
    {
        AssertLockHeld(ref _sched.Lock);
        _sched.Runq.PushBack(gp);
        Volatile.Write(ref _sched.RunqSize, _sched.RunqSize + 1);
    }

    /// <summary>
    /// Puts a list of qsize Gs linked through SchedLink on pp's local ring, in order, as far as it
    /// has room, and the rest on the global queue in one batch (not runqput's half-the-ring moves
    /// per overflow). Executed only by the owner P. Mirrors runtime.runqputbatch.
    /// </summary>
    internal void RunqPutBatch(P pp, G? list, int qsize)
    {
        uint h = Volatile.Read(ref pp.RunqHead); // load-acquire, synchronize with consumers
        uint t = pp.RunqTail;
        uint start = t, n = 0;
        while (list != null && t - h < (uint)pp.Runq.Length)
        {
            G gp = list;
            list = gp.SchedLink;
            gp.SchedLink = null;
            pp.Runq[t & pp.RunqMask] = gp;
            t++;
            n++;
        }
        qsize -= (int)n;
        if (_config.RandomizeScheduler)
        {
            ref var rand = ref CurrentRand();
            for (uint i = 1; i < n; i++)
            {
                uint j = rand.Next(i + 1);
                (pp.Runq[(start + i) & pp.RunqMask], pp.Runq[(start + j) & pp.RunqMask]) = (pp.Runq[(start + j) & pp.RunqMask], pp.Runq[(start + i) & pp.RunqMask]);
            }
        }
        Volatile.Write(ref pp.RunqTail, t); // store-release, makes the items available for consumption
        if (list != null)
        {
            using (_sched.Lock.EnterScope()) GlobRunqPutBatch(list, qsize);
        }
    }

    /// <summary>
    /// Puts the first n Gs of a list linked through SchedLink (netpoll's gList) on the global
    /// queue, in order. sched.lock must be held. Mirrors runtime.globrunqputbatch.
    /// </summary>
    internal void GlobRunqPutBatch(G head, int n)
    {
        AssertLockHeld(ref _sched.Lock);
        G? gp = head;
        for (int i = 0; i < n; i++)
        {
            G next = gp ?? throw new RuntimeInvariantException("globrunqputbatch: list shorter than its count");
            gp = next.SchedLink;
            next.SchedLink = null;
            _sched.Runq.PushBack(next);
        }
        Volatile.Write(ref _sched.RunqSize, _sched.RunqSize + n);
    }

    /// <summary>Puts batch[0..n) on the global queue, in order. sched.lock must be held. Mirrors runtime.globrunqputbatch.</summary>
    internal void GlobRunqPutBatch(G[] batch, int n)
    {
        AssertLockHeld(ref _sched.Lock);
        for (int i = 0; i < n; i++) _sched.Runq.PushBack(batch[i]);
        Volatile.Write(ref _sched.RunqSize, _sched.RunqSize + n);
    }

    /// <summary>
    /// Takes a batch from the global queue: its fair share (size/gomaxprocs + 1), at most max (if
    /// max &gt; 0) and at most half the local ring; returns one, puts the rest on pp's local queue.
    /// sched.lock must be held. Mirrors runtime.globrunqget.
    /// </summary>
    internal G? GlobRunqGet(P pp, int max)
    {
        AssertLockHeld(ref _sched.Lock);
        int size = _sched.RunqSize;
        if (size == 0) return null;
        int n = size / _gomaxprocs + 1;
        if (n > size) n = size;
        if (max > 0 && n > max) n = max;
        if (n > pp.Runq.Length / 2) n = pp.Runq.Length / 2;
        Volatile.Write(ref _sched.RunqSize, size - n);

        G gp = GlobRunqPop()!;
        n--;
        for (; n > 0; n--) RunqPut(pp, GlobRunqPop()!, false);
        pp.Counters.GlobalRunqTakes++;
        return gp;
    }

    private G? GlobRunqPop() => _sched.Runq.PopFront();
}
