// P: a processor, the resource an M must hold to run goroutines.
//
// Each P owns a local run queue: a ring of LocalRunqSize slots plus the runnext slot (RunQueue.cs
// has the algorithms and who may call which). Its counters are plain fields written only by the M
// that owns the P; the sampler and the end-of-run summary read them racily (a torn read of a
// 64-bit field cannot happen on the 64-bit platforms we run on).
using System.Runtime.InteropServices;

namespace GoSched;

/// <summary>Mirrors runtime.p (runtime2.go).</summary>
internal sealed class P
{
    public P(int id, int runqSize)
    {
        Id = id;
        Runq = new G?[runqSize];
        RunqMask = (uint)runqSize - 1;
        SlowBatch = new G[runqSize / 2 + 1];
    }

    /// <summary>runqputslow's scratch batch (half the ring plus one), reused so overflow allocates nothing.</summary>
    public readonly G[] SlowBatch;

    public readonly int Id;

    /// <summary>PStatus as int. Changed only by the owning M, or under sched.lock while the P is idle.</summary>
    public int Status = (int)PStatus.Idle;

    /// <summary>Link on the idle-P list (sched.pidle); owned by sched.lock.</summary>
    public P? Link;

    /// <summary>The M that owns this P (back-link), null while idle.</summary>
    public M? M;

    /// <summary>Incremented on every scheduler call that does not inherit the time slice.</summary>
    public long SchedTick;

    /// <summary>Incremented on every system call.</summary>
    public long SyscallTick;

    /// <summary>sysmon's view (sysmontick): the SchedTick it last saw and when it first saw it. sysmon's thread only.</summary>
    public long SysmonTick = -1, SysmonWhen;

    /// <summary>sysmon's view of SyscallTick and when it first saw it.</summary>
    public long SysmonSyscallTick = -1, SysmonSyscallWhen;

    /// <summary>When SchedTick last changed; with SchedTick, what sysmon uses to decide preemption.</summary>
    public long SchedWhen;

    // --- Local run queue (RunQueue.cs). Accessed without locks. ---
    /// <summary>The indices and runnext that stealers read and CAS, on cache lines of their own (see <see cref="RunqShared"/>).</summary>
    private RunqShared _runq;
    /// <summary>Consumer index: advanced by the owner (runqget) and by stealers (runqgrab), CAS-release.</summary>
    public ref uint RunqHead => ref _runq.Head;
    /// <summary>Producer index: advanced only by the owner, store-release.</summary>
    public ref uint RunqTail => ref _runq.Tail;
    public readonly G?[] Runq;
    public readonly uint RunqMask;
    /// <summary>
    /// If non-null, the next G to run, ahead of the ring: a G readied by the running G inherits the rest
    /// of the time slice. Written by the owner, CAS-cleared by stealers on their last try.
    /// </summary>
    public ref G? RunNext => ref _runq.Next;

    // --- Timers (Timers.cs). The heap is under TimersLock; the counters and times are also read without it. ---
    public Internal.RuntimeMutex TimersLock;
    /// <summary>The 4-ary heap, ordered by When; entries [0, TimersLen).</summary>
    public RTimer?[] Timers = new RTimer?[16];
    public int TimersLen;
    /// <summary>Timers on the heap (numTimers), written under TimersLock, read racily.</summary>
    public int NumTimers;
    /// <summary>Deleted timers still on the heap (deletedTimers); anyone may increment.</summary>
    public int DeletedTimers;
    /// <summary>When of the heap's top timer, 0 if empty (timer0When).</summary>
    public long Timer0When;
    /// <summary>Earliest NextWhen of a ModifiedEarlier timer, 0 if none (timerModifiedEarliest).</summary>
    public long TimerModifiedEarliest;
    /// <summary>Deleted timers removed by clearDeletedTimers (the 1/4 rule), for the recording.</summary>
    public long ClearedDeletedTimers;
    /// <summary>Lateness of every timer this P ran. Written under TimersLock.</summary>
    public readonly Observability.TimerStats TimerStats = new();

    /// <summary>Netpoll wake latency of the goroutines this P executed; made on the first one. Owner only.</summary>
    public HdrHistogram.LongHistogram? NetpollWakeLatency;

    // --- Free Gs (GFree.cs). Owner only. ---
    /// <summary>The P's free Gs (gFree); it spills to the global list on reaching 64.</summary>
    public GStack GFree = new(64);
    /// <summary>How many Gs GFree holds (gFree.n); racy when read by another thread (scheddetail).</summary>
    public int GFreeCount => GFree.Count;

    // --- goid cache (newproc). Owner only. ---
    public long GoidCache;
    public long GoidCacheEnd;

    // --- Counters (Counters.cs reads them). Owner only. ---
    public PCounters Counters;

    /// <summary>1 while forEachP waits for this P to run sched.safePointFn (runSafePointFn); CAS to 0 by whoever runs it.</summary>
    public int RunSafePointFn;

    /// <summary>Goroutines created/finished by Ms holding this P (for status counts without a lock).</summary>
    public long GStarted, GFinished;
}

/// <summary>
/// The part of a P that other Ps write: runqhead (stealers CAS it) and runnext (stealers CAS it on
/// their last try), with runqtail, which every steal reads. A class's fields are laid out by the
/// runtime, which packed these between the owner's hottest fields (the goid cache, the free-G
/// stack, the started/finished counts), so every steal took the line those sit on away from the
/// owner in the middle of newproc. 64 bytes of nothing on each side keep the line to themselves
/// wherever the P lands (objects are only 8-byte aligned). Go's p has no padding here; its
/// runqhead and runqtail sit between goidcache and the 256-slot ring, which keeps runnext apart.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 144)]
internal struct RunqShared
{
    [FieldOffset(64)] public G? Next;
    [FieldOffset(72)] public uint Head;
    [FieldOffset(76)] public uint Tail;
}

/// <summary>Per-P counters: plain fields written only by the P's owner M.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PCounters
{
    public long StealOps;       // successful runqsteal calls by this P
    public long StolenGs;       // goroutines taken by those steals
    public long RunNextHits;    // runqget served from runnext
    public long GlobalRunqTakes;// globrunqget calls that returned a G
    public long Spins;          // times the M holding this P became spinning (BecomeSpinning, or started spinning by startm)
    public long Parks;          // goroutines parked by this P's M
    public long Preempts;       // goroutines asked to yield by preemption
    public long Syscalls;       // system calls entered by goroutines on this P (entersyscall, entersyscallblock)
    public long BlockHandoffs;  // of those, Go.SyscallBlock calls that handed the P off at once
}
