// Statuses of Gs and Ps, who owns the object in each, and the one gate that moves a G between them.
namespace GoSched;

/// <summary>
/// A goroutine's status (runtime2.go _Gidle.._Gdead; the numbers are Go's, so scheddetail reads the same).
/// Legal moves, each made only through <see cref="GoRuntime.CasGStatus"/>:
/// <code>
///   Dead     -> Runnable   newproc (owner: the spawning M)
///   Runnable -> Running    execute (owner: the M that dequeued it)
///   Running  -> Waiting    park_m, after the body's frames have unwound (owner: its M)
///   Running  -> Runnable   gosched/preempt (owner: its M, then the queue)
///   Running  -> Dead       goexit0 (owner: its M, then the free list)
///   Waiting  -> Runnable   ready (owner: whoever dequeued its sudog under the channel/sema lock)
/// </code>
/// </summary>
public enum GStatus
{
    /// <summary>Just allocated, not yet initialised.</summary>
    Idle = 0,
    /// <summary>On a run queue, not executing; owned by the queue.</summary>
    Runnable = 1,
    /// <summary>Executing on an M with a P; owned by that M.</summary>
    Running = 2,
    /// <summary>In a blocking system call (Go.Syscall); owned by its M, P may be retaken.</summary>
    Syscall = 3,
    /// <summary>Blocked in the runtime (channel, select, sema, sleep); owned by the wait queue that records it.</summary>
    Waiting = 4,
    /// <summary>Exited or on a free list; owned by the free list.</summary>
    Dead = 6,
}

/// <summary>A P's status (runtime2.go _Pidle.._Pdead).</summary>
public enum PStatus
{
    /// <summary>Not running user code; on the idle list or in a hand-off. Run queue may be non-empty only transiently.</summary>
    Idle = 0,
    /// <summary>Owned by an M that runs user code or the scheduler. Only the owner M changes it.</summary>
    Running = 1,
    /// <summary>Its M is in a system call.</summary>
    Syscall = 2,
    /// <summary>Halted for stop-the-world.</summary>
    GcStop = 3,
    /// <summary>No longer used (GOMAXPROCS shrank, or the runtime stopped).</summary>
    Dead = 4,
}

/// <summary>
/// Why a goroutine waits: Go 1.19's runtime2.go waitReason strings, as scheddetail and the deadlock
/// report print them, each used where Go 1.19 parks with it. Go 1.19 has no reason of its own for
/// sync.WaitGroup.Wait or sync.Mutex.Lock (Go 1.21 added "sync.WaitGroup.Wait" and
/// "sync.Mutex.Lock"): both park in sema.go's semacquire1 with waitReasonSemacquire.
/// </summary>
public enum WaitReason
{
    Zero,
    /// <summary>chan.go chanrecv (also a receive from a timer's channel).</summary>
    ChanReceive,
    /// <summary>chan.go chansend.</summary>
    ChanSend,
    /// <summary>chan.go chanrecv on a nil channel (not used: there are no nil channels here).</summary>
    ChanReceiveNilChan,
    /// <summary>chan.go chansend on a nil channel (not used: there are no nil channels here).</summary>
    ChanSendNilChan,
    /// <summary>select.go selectgo.</summary>
    Select,
    /// <summary>select.go block (select {}).</summary>
    SelectNoCases,
    /// <summary>sema.go semacquire1: sync.WaitGroup.Wait (runtime_Semacquire) and sync.Mutex.Lock (runtime_SemacquireMutex).</summary>
    Semacquire,
    /// <summary>time.go timeSleep.</summary>
    Sleep,
    /// <summary>Differs from Go (which has no .NET tasks): a goroutine in Go.Await(task).</summary>
    TaskWait,
    /// <summary>netpoll.go netpollblock.</summary>
    IOWait,
    /// <summary>sema.go notifyListWait: sync.Cond.Wait.</summary>
    SyncCondWait,
}

internal static class WaitReasonText
{
    public static string Text(this WaitReason r) => r switch
    {
        WaitReason.Zero => "",
        WaitReason.ChanReceive => "chan receive",
        WaitReason.ChanSend => "chan send",
        WaitReason.ChanReceiveNilChan => "chan receive (nil chan)",
        WaitReason.ChanSendNilChan => "chan send (nil chan)",
        WaitReason.Select => "select",
        WaitReason.SelectNoCases => "select (no cases)",
        WaitReason.Semacquire => "semacquire",
        WaitReason.Sleep => "sleep",
        WaitReason.TaskWait => ".NET task wait",
        WaitReason.IOWait => "IO wait",
        WaitReason.SyncCondWait => "sync.Cond.Wait",
        _ => r.ToString(),
    };
}

/// <summary>
/// A broken scheduler invariant: the runtime's throw(). The message is Go's wording where Go has one
/// ("schedule: spinning with local work"). The runtime that throws it stops.
/// </summary>
public sealed class RuntimeInvariantException(string message) : Exception(message);

/// <summary>A goroutine's unrecovered exception (Go's panic): the runtime stops and reports it.</summary>
/// <remarks>
/// The message (with the goroutine's stack) is made when first read, not when the panic is
/// recorded: formatting a stack trace loads symbols (about 10 ms the first time in a process,
/// 0.2 ms after), and the runtime must stop the other goroutines before that, not after. The
/// stack itself was captured while the exception unwound, so reading it later gives the same text.
/// </remarks>
public sealed class GoroutinePanicException(long goid, Exception inner) : Exception(null, inner)
{
    private string? _message;

    /// <summary>The id of the goroutine the exception escaped from.</summary>
    public long Goid { get; } = goid;

    /// <summary>"panic in goroutine N: Type: message", then the goroutine's stack, as Go prints it.</summary>
    public override string Message => _message ??=
        $"panic in goroutine {Goid}: {InnerException!.GetType().FullName}: {InnerException.Message}\n\ngoroutine {Goid} [running]:\n{InnerException.StackTrace}";
}

/// <summary>checkdead found every goroutine blocked with nothing that can wake it.</summary>
/// <remarks>
/// The message is Go's: the fatal error, then each blocked goroutine's header and its frames,
/// innermost first ("goroutine 1 [chan receive]:" then "main.main()"), a blank line between them.
/// </remarks>
public sealed class DeadlockException(string message, IReadOnlyList<string> goroutines, IReadOnlyList<string> tracebacks)
    : Exception(message + (tracebacks.Count == 0 ? "" : "\n\n" + string.Join("\n\n", tracebacks)))
{
    /// <summary>One line per blocked goroutine: "goroutine 7 [chan receive]".</summary>
    public IReadOnlyList<string> Goroutines { get; } = goroutines;

    /// <summary>Per blocked goroutine, its header and frames as Go prints them ("goroutine 7 [chan receive]:\nmain.worker()").</summary>
    public IReadOnlyList<string> Tracebacks { get; } = tracebacks;
}

/// <summary>A runtime operation misused by user code (e.g. awaiting a foreign Task inside a goroutine).</summary>
public sealed class GoUsageException(string message) : InvalidOperationException(message);
