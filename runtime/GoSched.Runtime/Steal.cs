// Stealing: an M out of local and global work takes half of another P's queue.
//
// stealWork makes StealTries passes over all Ps in a random order. The order is a random start
// and a random stride coprime with the P count, so one pass visits every P exactly once and
// different Ms fan out differently (randomOrder). Idle Ps are skipped through the idle mask: a P
// on the idle list has nothing worth stealing, and reading one bit is cheaper than touching its
// queue's cache lines. Only the last pass may take a victim's runnext (and, in the timers issue,
// run its timers): runnext usually holds the G its P is about to run.
namespace GoSched;

/// <summary>A bitmap with one bit per P, read and written atomically. Mirrors runtime.pMask.</summary>
internal sealed class PMask
{
    private readonly int[] _words;

    public PMask(int nprocs) { _words = new int[(nprocs + 31) / 32]; }

    public bool Read(int id) => (Volatile.Read(ref _words[id / 32]) & (1 << (id % 32))) != 0;

    public void Set(int id) => Interlocked.Or(ref _words[id / 32], 1 << (id % 32));

    public void Clear(int id) => Interlocked.And(ref _words[id / 32], ~(1 << (id % 32)));
}

/// <summary>
/// Enumerates 0..count-1 in a pseudo-random order: start at a random position and step by a
/// stride coprime with count. Mirrors runtime.randomOrder and randomEnum.
/// </summary>
internal sealed class RandomOrder
{
    private readonly uint _count;
    private readonly uint[] _coprimes;

    public RandomOrder(uint count)
    {
        _count = count;
        var c = new List<uint>();
        for (uint i = 1; i <= count; i++) if (Gcd(i, count) == 1) c.Add(i);
        _coprimes = c.ToArray();
    }

    public uint Count => _count;

    /// <summary>
    /// The order for random number i: start at i mod count, stride from the next digits of i (i / count),
    /// so start and stride vary independently. Mirrors randomOrder.start.
    /// </summary>
    public Enum Start(uint i) => new(_count, i % _count, _coprimes[i / _count % (uint)_coprimes.Length]);

    private static uint Gcd(uint a, uint b) { while (b != 0) (a, b) = (b, a % b); return a; }

    public struct Enum(uint count, uint pos, uint inc)
    {
        private uint _i;
        private uint _pos = pos;
        public readonly bool Done => _i == count;
        public readonly uint Position => _pos;
        public void Next() { _i++; _pos = (_pos + inc) % count; }
    }
}

public sealed partial class GoRuntime
{
    /// <summary>
    /// Attempts to steal a runnable goroutine or a timer from any P. Called by a spinning M holding
    /// pp. newWork is true if timers ran (they may have made work appear). now and pollUntil are
    /// updated from the timers seen. Mirrors runtime.stealWork (Go 1.21, as in the seed).
    /// Differs from Go: with the stealTries knob at 0 (Go has a constant 4), one pass still runs
    /// the other Ps' due timers, so that timers of idle Ps keep firing; it steals no goroutine.
    /// </summary>
    private G? StealWork(M mp, P pp, ref long now, ref long pollUntil, out bool newWork, out bool inheritTime)
    {
        newWork = false;
        inheritTime = false;
        int stealTries = _config.StealTries;
        int passes = Math.Max(1, stealTries);
        var allp = _allp;
        var order = _stealOrder;
        bool ranTimer = false;
        for (int i = 0; i < passes; i++)
        {
            bool stealTimersOrRunNextG = i == passes - 1;
            for (var e = order.Start(mp.Rand.Next()); !e.Done; e.Next())
            {
                if (_stopping || GcWaiting) { newWork = true; return null; }
                P p2 = allp[e.Position];
                if (pp == p2) continue;

                // Steal timers from p2. This call to checkTimers is the only place where we might
                // hold a lock on a different P's timers. We do this once on the last pass before
                // checking runnext because stealing from the other P's runnext should be the last
                // resort, so if there are timers to steal do that first.
                if (stealTimersOrRunNextG && _timerpMask.Read((int)e.Position))
                {
                    now = CheckTimers(mp, p2, now, out long w, out bool ran);
                    if (w != 0 && (pollUntil == 0 || w < pollUntil)) pollUntil = w;
                    if (ran)
                    {
                        // Running the timers may have made goroutines ready and put them on this
                        // P's local run queue: try it before stealing from others.
                        G? g1 = RunqGet(pp, out inheritTime);
                        if (g1 != null) return g1;
                        ranTimer = true;
                    }
                }

                // Don't bother to attempt to steal if p2 is idle.
                if (stealTries > 0 && !_idlepMask.Read((int)e.Position))
                {
                    G? gp = RunqSteal(pp, p2, stealTimersOrRunNextG);
                    if (gp != null) return gp;
                }
            }
        }
        // No goroutines found to steal. Regardless, running a timer may have made some goroutine
        // ready that we missed. Indicate the next timer to wait for.
        newWork = ranTimer;
        return null;
    }

    /// <summary>
    /// Checks every P that was not idle in the snapshot for local work; returns an idle P to run it
    /// on, or null. Called by an M without a P after it stopped spinning. Mirrors runtime.checkRunqsNoP.
    /// </summary>
    private P? CheckRunqsNoP(P[] allpSnapshot, PMask idlepMaskSnapshot)
    {
        // Differs from Go (stealTries is a constant 4 there): with stealing off, another P's
        // local queue is work only its owner runs, so finding one is no reason to take a P back
        // and spin. Taking it anyway looped forever: spin, steal nothing, drop the P, see the
        // owner's queue, take a P, spin again, and the M never parked.
        if (_config.StealTries == 0) return null;
        for (int id = 0; id < allpSnapshot.Length; id++)
        {
            if (!idlepMaskSnapshot.Read(id) && !RunqEmpty(allpSnapshot[id]))
            {
                using (_sched.Lock.EnterScope())
                {
                    P? pp = PIdleGetSpinning();
                    return pp; // null: no idle P, someone else will run it (needspinning was set)
                }
            }
        }
        return null;
    }
}
