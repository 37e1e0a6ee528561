// G: a goroutine.
//
// A goroutine body is a C# async method whose return type is GoTask (GoTask.cs). Its compiler-made
// state machine, boxed once, is the goroutine's "stack": the box holds every local that survives an
// await. The G is the scheduling record around it: status, links for run queues and free lists, and
// what the waker hands over. Like Go, a dead G keeps its stack (the box) on the free list, and
// gfget reuses it when the next goroutine has the same body type, so a steady stream of short
// goroutines allocates nothing (Go frees a stack of the wrong size; we replace a box of the wrong type).
using System.Runtime.CompilerServices;

namespace GoSched;

/// <summary>
/// Something the M can resume: a goroutine's root body or a suspended GoFrame. A base class, not
/// an interface: execute's resume is a call site that sees every body and frame type, where an
/// interface call goes through the runtime's virtual-stub resolver (a hash lookup) and a virtual
/// call is one load from the method table.
/// </summary>
internal abstract class Resumable
{
    public abstract void MoveNext();
    /// <summary>The compiler-made state machine of the method this frame runs (for tracebacks).</summary>
    public abstract Type StateMachineType { get; }
}

/// <summary>A goroutine's boxed root state machine (its "stack").</summary>
internal abstract class GBody : Resumable
{
    /// <summary>Drops the state machine's references so a G on the free list keeps nothing alive.</summary>
    public abstract void Clear();
}

internal sealed class GBody<TStateMachine> : GBody where TStateMachine : IAsyncStateMachine
{
    public TStateMachine StateMachine = default!;
    public override void MoveNext() => StateMachine.MoveNext();
    public override void Clear() => StateMachine = default!;
    public override Type StateMachineType => typeof(TStateMachine);
}

/// <summary>What the body's last MoveNext asked the M to do next (set by awaiters and builders on the M's thread).</summary>
internal enum GOutcome : byte
{
    /// <summary>MoveNext returned without a runtime await: a foreign awaitable was awaited (usage error).</summary>
    None,
    /// <summary>An awaiter recorded a park (gopark): publish it once the frames have unwound.</summary>
    Park,
    /// <summary>Go.Gosched: to the global queue.</summary>
    Yield,
    /// <summary>Asked to yield by preemption: to the global queue.</summary>
    Preempted,
    /// <summary>A GoFrame finished: resume its parent from the M loop (keeps the native stack flat).</summary>
    Continue,
    /// <summary>The root body returned: goexit.</summary>
    Exit,
    /// <summary>A system call returned and no P was free: exitsyscall0 (the G waits for a P, the M parks).</summary>
    ExitSyscall,
    /// <summary>An exception escaped the root body: fatal panic.</summary>
    Panic,
}

/// <summary>Mirrors runtime.g (runtime2.go), minus stacks and GC state.</summary>
internal sealed class G
{
    public G(GoRuntime rt) { Runtime = rt; }

    public readonly GoRuntime Runtime;

    /// <summary>Goroutine id (goid); reassigned on reuse from the free list.</summary>
    public long Goid;

    /// <summary>GStatus as an int; moved only by GoRuntime.CasGStatus (a checked release store, see there), read by anyone.</summary>
    public int AtomicStatus = (int)GStatus.Idle;

    public GStatus Status => (GStatus)Volatile.Read(ref AtomicStatus);

    /// <summary>
    /// Its runtime has stopped: it will never run again, and wait queues that outlive the runtime
    /// (a channel shared with the host or another runtime) skip it. Set once, at the stop
    /// (ReleaseGoroutines); a field of the G because a waker reads it beside the G's other fields.
    /// </summary>
    public bool Dropped;

    /// <summary>Link for the global run queue and free lists (sched.runq, gFree). Owned by whoever holds the list.</summary>
    public G? SchedLink;

    /// <summary>The M running it, while Running.</summary>
    public M? M;

    /// <summary>The boxed root state machine; kept across reuse like Go keeps a dead G's stack.</summary>
    public GBody? Body;

    /// <summary>The innermost suspended GoFrame to resume, or null to resume <see cref="Body"/>.</summary>
    public Resumable? Top;

    /// <summary>What the last MoveNext asked for; written by awaiters on the running M.</summary>
    public GOutcome Outcome;

    /// <summary>The lock(s) to release once the park is published (gopark's unlockf and lock).</summary>
    public IParkUnlock? ParkUnlock;

    public WaitReason WaitReason;

    /// <summary>Set (by sysmon, or by Go.Work's own check) to ask the goroutine to yield at its next await.</summary>
    public volatile bool Preempt;

    /// <summary>The sudog that woke a select (gp.param), set by the waker under the channel lock.</summary>
    public Sudog? Param;

    /// <summary>Select race flag (g.selectDone): the first waker to CAS 0->1 wins.</summary>
    public int SelectDone;

    /// <summary>A sudog of the last element type used, reused by the next blocking channel op (acquireSudog's cache).</summary>
    public Sudog? SudogCache;

    /// <summary>The main goroutine of GoRuntime.Run: its exit ends the run.</summary>
    public bool IsMain;

    /// <summary>
    /// When a netpoll call returned this goroutine ready (nanotime), 0 otherwise: written by the
    /// polling M before the G is made runnable, read and cleared once by execute, which records the
    /// netpoll wake latency. A field rather than rare state: network goroutines set it on every wake.
    /// </summary>
    public long NetpollReadyNs;

    // The rest is state that most goroutines never touch (select, sleep, Go.Work, locked threads,
    // a panic). It lives in a side record allocated on first use and kept across reuse from the free
    // list, so a goroutine that only uses channels costs its G, its body and a sudog: the G is 40
    // bytes smaller than with these as fields, which is what keeps a parked goroutine under 256
    // bytes. A getter never allocates; a setter allocates only to store something non-default.
    private GRare? _rare;
    private GRare Rare => _rare ??= new GRare();

    /// <summary>The goroutine's select scratch space, reused by its next select.</summary>
    internal SelectBox? SelectCache { get => _rare?.SelectCache; set { if (value != null || _rare != null) Rare.SelectCache = value; } }

    /// <summary>Unrecovered exception, set when Outcome is Panic.</summary>
    public Exception? Panic { get => _rare?.Panic; set { if (value != null || _rare != null) Rare.Panic = value; } }

    /// <summary>The goroutine's sleep timer (gp.timer), reused by every Go.Sleep.</summary>
    internal RTimer? Timer { get => _rare?.Timer; set { if (value != null || _rare != null) Rare.Timer = value; } }

    /// <summary>Resets the sleep timer once the park is published (resetForSleep).</summary>
    internal SleepPark? SleepPark { get => _rare?.SleepPark; set { if (value != null || _rare != null) Rare.SleepPark = value; } }

    /// <summary>The M this goroutine is locked to (lockedm).</summary>
    public M? LockedM { get => _rare?.LockedM; set { if (value != null || _rare != null) Rare.LockedM = value; } }

    /// <summary>The LockOSThread nesting count.</summary>
    public int LockedCount { get => _rare?.LockedCount ?? 0; set { if (value != 0 || _rare != null) Rare.LockedCount = value; } }

    /// <summary>CPU work (ns) still owed by Go.Work when it was preempted; the M finishes it before resuming the body.</summary>
    public long WorkRemainingNs { get => _rare?.WorkRemainingNs ?? 0; set { if (value != 0 || _rare != null) Rare.WorkRemainingNs = value; } }

    /// <summary>Time it became runnable (for scheduling latency).</summary>
    public long RunnableSince { get => _rare?.RunnableSince ?? 0; set { if (value != 0 || _rare != null) Rare.RunnableSince = value; } }

    /// <summary>Parked on a semaphore: the M runs the waiter's retry (SemaWaiter.Resume) before the body resumes.</summary>
    internal SemaWaiter? SemaWake { get => _rare?.SemaWake; set { if (value != null || _rare != null) Rare.SemaWake = value; } }

    /// <summary>The G's sema waiter, reused by its next semacquire (acquireSudog's cache).</summary>
    internal SemaWaiter? SemaCache { get => _rare?.SemaCache; set { if (value != null || _rare != null) Rare.SemaCache = value; } }

    /// <summary>A starving Mutex.Unlock handed its P's turn to a waiter: yield to the local run queue at the next await (goyield).</summary>
    internal bool GoYieldPending { get => _rare?.GoYieldPending ?? false; set { if (value || _rare != null) Rare.GoYieldPending = value; } }

    /// <summary>Asks the running G to goyield at its next runtime await (as a preemption request, but to the local run queue).</summary>
    internal void RequestGoYield()
    {
        GoYieldPending = true;
        Preempt = true;
    }

    private sealed class GRare
    {
        public SelectBox? SelectCache;
        public Exception? Panic;
        public RTimer? Timer;
        public SleepPark? SleepPark;
        public M? LockedM;
        public int LockedCount;
        public long WorkRemainingNs;
        public long RunnableSince;
        public SemaWaiter? SemaWake;
        public SemaWaiter? SemaCache;
        public bool GoYieldPending;
    }
}

/// <summary>The lock a park releases once the goroutine's frames have unwound (gopark's unlockf).</summary>
internal interface IParkUnlock
{
    void ParkUnlock();
}

internal static class GExtensions
{
    /// <summary>A sudog for a blocking op on a Chan&lt;T&gt;: the G's cached one if it has the type. Mirrors acquireSudog.</summary>
    public static Sudog<T> AcquireSudog<T>(this G gp)
    {
        if (gp.SudogCache is Sudog<T> s) gp.SudogCache = null;
        else s = new Sudog<T>();
        s.G = gp;
        s.IsSelect = false;
        s.Success = false;
        return s;
    }

    /// <summary>Returns a sudog to the G's cache. Mirrors releaseSudog.</summary>
    public static void ReleaseSudog<T>(this G gp, Sudog<T> s)
    {
        if (s.InQueue) GoRuntime.Throw("releaseSudog: sudog still on a wait queue");
        s.Elem = default!;
        gp.Param = null;
        gp.SudogCache = s;
    }

    /// <summary>
    /// Records a park for the M to publish once the frames unwind (gopark): the lock to release
    /// and why. The caller holds that lock and returns false from its awaiter's IsCompleted.
    /// </summary>
    public static void Park(this G gp, IParkUnlock? unlock, WaitReason reason)
    {
        gp.ParkUnlock = unlock;
        gp.WaitReason = reason;
        gp.Outcome = GOutcome.Park;
    }

    /// <summary>
    /// Cooperative preemption at a runtime await: if the G was asked to yield, the completed
    /// operation's awaiter reports "not completed" and the M puts the G on the global queue; the
    /// result is still in the awaiter when the body resumes.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool YieldIfPreempted(this G gp)
    {
        if (!gp.Preempt) return false;
        gp.Preempt = false;
        gp.Outcome = GOutcome.Preempted;
        return true;
    }
}

/// <summary>
/// A parked goroutine's frames as Go's traceback names them ("main.main()", "main.worker.func1()"),
/// innermost first: the GoFrame helpers it is suspended in, then its body. Only a goroutine that
/// is not running may be walked (its frames do not change while it waits). Mirrors the function
/// lines of runtime.traceback; there are no file:line lines, as a state machine has no pc to map.
/// </summary>
internal static class Traceback
{
    public static List<string> Frames(G gp)
    {
        var frames = new List<string>();
        for (Resumable? r = gp.Top ?? gp.Body; r != null; r = (r as FrameBox)?.Parent)
            frames.Add(FrameName(r.StateMachineType) + "()");
        return frames;
    }

    /// <summary>
    /// "Namespace.Type.Method" from the compiler's state machine names: "&lt;Method&gt;d__3" for a
    /// method, "&lt;&lt;Outer&gt;g__Local|3_0&gt;d" for a local function (Outer.Local, as Go's
    /// main.func1 names a closure after its enclosing function), "&lt;&lt;Outer&gt;b__3_0&gt;d" for a
    /// lambda (Outer.func); compiler-made display classes are skipped.
    /// </summary>
    public static string FrameName(Type stateMachine)
    {
        string n = stateMachine.Name;
        string method = n.StartsWith('<') && n.LastIndexOf('>') is var end and > 0 ? n[1..end] : n;
        if (method.StartsWith('<') && method.IndexOf('>') is var close and > 0)
        {
            string outer = method[1..close], rest = method[(close + 1)..];
            method = rest.StartsWith("g__", StringComparison.Ordinal) ? $"{outer}.{rest[3..].Split('|')[0]}" : $"{outer}.func";
        }
        Type? t = stateMachine.DeclaringType;
        while (t != null && t.Name.StartsWith('<')) t = t.DeclaringType;
        return t == null ? method : $"{(t.FullName ?? t.Name).Replace('+', '.')}.{method}";
    }
}
