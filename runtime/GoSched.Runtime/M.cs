// M: a worker thread.
//
// Each M is a dedicated OS thread running the scheduler loop (Proc.cs, MStart). It holds at most
// one P, and parks on its own futex note when there is nothing to do (Park.cs, stopm). The
// runtime's threads are ordinary .NET threads with a large reserved stack; no goroutine code ever
// runs on the .NET ThreadPool.
using GoSched.Internal;

namespace GoSched;

/// <summary>Mirrors runtime.m (runtime2.go).</summary>
internal sealed class M
{
    [ThreadStatic] internal static M? t_current;

    public M(GoRuntime rt, long id, ulong seed)
    {
        Runtime = rt;
        Id = id;
        Rand = new FastRand(seed);
    }

    public readonly GoRuntime Runtime;
    public readonly long Id;

    /// <summary>
    /// Another runtime whose Go() a goroutine of this M is calling (`rt2.Go(body)` inside a
    /// goroutine of this runtime): the body's spawn goes there, not to this M's runtime. Null
    /// otherwise; written and read only by this M's thread.
    /// </summary>
    public GoRuntime? SpawnTarget;

    /// <summary>The goroutine currently running on this M, or null while in the scheduler.</summary>
    public G? CurG;

    /// <summary>Attached P for executing Go code (null while idle or in the scheduler without a P).</summary>
    public P? P;

    /// <summary>P handed over by startm; taken with acquirep when the M wakes.</summary>
    public P? NextP;

    /// <summary>The goroutine locked to this M (lockedg).</summary>
    public G? LockedG;

    /// <summary>The M's thread ended with its locked goroutine (mexit).</summary>
    public bool Exited;

    /// <summary>The P this M held when it entered a system call (m.oldp).</summary>
    public P? OldP;

    /// <summary>The P's syscalltick when the system call started.</summary>
    public long SyscallTick;

    /// <summary>True while this M is out of work and actively looking for it (counted in sched.nmspinning).</summary>
    public bool Spinning;

    /// <summary>
    /// Asleep on <see cref="Park"/> (stopm, stoplockedm): Go's m.blocked, which only notesleep sets.
    /// An M waiting in netpoll is not blocked (scheddetail prints blocked=false for it, as Go's).
    /// </summary>
    public volatile bool Blocked;

    /// <summary>Link on the idle-M list (sched.midle); owned by sched.lock.</summary>
    public M? SchedLink;

    /// <summary>Sleep/wakeup for stopm/startm.</summary>
    public readonly Note Park = new();

    public FastRand Rand;

    public Thread? Thread;

    /// <summary>Time this M was last spinning from (for the spinning-time counter).</summary>
    public long SpinStart;

    /// <summary>Mirrors m.becomeSpinning (Go 1.21, as the seed has it).</summary>
    public void BecomeSpinning(Sched sched)
    {
        Spinning = true;
        Interlocked.Increment(ref sched.NmSpinning);
        Volatile.Write(ref sched.NeedSpinning, 0);
        if (P != null) P.Counters.Spins++;
    }
}
