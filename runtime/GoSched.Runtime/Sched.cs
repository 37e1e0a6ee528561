// Sched: the global scheduler state (runtime.schedt), one per runtime.
//
// Fields under Lock are only touched with it held; the counters read outside it (NmSpinning,
// NPIdle, RunqSize for the fast "is there anything?" checks) are updated with Interlocked or
// Volatile so that those racy reads see a recent value, as Go's atomics do.
namespace GoSched;

/// <summary>Mirrors runtime.schedt (runtime2.go).</summary>
internal sealed class Sched
{
    /// <summary>sched.lock: protects the idle lists, the global run queue and M creation.</summary>
    public Internal.RuntimeMutex Lock;

    // Idle Ms (sched.midle), under Lock.
    public M? MIdle;
    public int NmIdle;
    /// <summary>Ms created so far (mnext in Go).</summary>
    public long MNext;
    /// <summary>Ms that ended (a locked goroutine exited); mcount = MNext - NmFreed.</summary>
    public long NmFreed;
    /// <summary>Ms parked waiting for their locked goroutine (nmidlelocked).</summary>
    public int NmIdleLocked;
    /// <summary>Those Ms, so that stopping the runtime can wake them.</summary>
    public readonly HashSet<M> IdleLocked = new();

    // Idle Ps (sched.pidle), under Lock; NPIdle also read racily.
    public P? PIdle;
    public int NPIdle;

    /// <summary>Spinning Ms. See "Worker thread parking/unparking" in Park.cs.</summary>
    public int NmSpinning;

    /// <summary>Set when work was found that could not be taken for lack of a P (Go 1.21's needspinning).</summary>
    public int NeedSpinning;

    // Global run queue (sched.runq), under Lock; RunqSize also read racily.
    public GQueue Runq = new(256);
    public int RunqSize;

    // Global free Gs (sched.gFree), under GFreeLock.
    public Internal.RuntimeMutex GFreeLock;
    public GStack GFreeWithBody = new(64);
    public GStack GFreeNoBody = new(64);
    /// <summary>Gs on both lists; written under GFreeLock, read racily by gfget's emptiness check.</summary>
    public int GFreeCount;

    /// <summary>Time of the last poll; 0 while an M is blocked in the poller (sched.lastpoll).</summary>
    public long LastPoll;

    /// <summary>The time the blocked poller sleeps until, 0 if none (sched.pollUntil).</summary>
    public long PollUntil;

    /// <summary>goid generator (sched.goidgen); handed out to Ps in batches.</summary>
    public long GoidGen;

    /// <summary>When GOMAXPROCS last changed, or the runtime started (sched.procresizetime); under Lock.</summary>
    public long ProcResizeTime;
    /// <summary>∫ GOMAXPROCS dt up to ProcResizeTime, in P-nanoseconds (sched.totaltime); under Lock.</summary>
    public long TotalTime;
}
