// Go: what goroutine code calls, the runtime's "package-level" API.
using GoSched.Internal;

namespace GoSched;

/// <summary>The operations available inside goroutines (and a few from anywhere).</summary>
public static partial class Go
{
    /// <summary>`go body()` from inside a goroutine (or from a thread inside runtime.Go). Returns the goroutine id.</summary>
    public static long Start(Func<GoTask> body) => body().Goid;

    /// <summary>The running goroutine's id.</summary>
    public static long Goid => GoRuntime.CurrentG("Go.Goid").Goid;

    /// <summary>GOMAXPROCS of the runtime running the calling goroutine, now (see <see cref="SetGomaxprocs"/>).</summary>
    public static int Gomaxprocs => GoRuntime.Current.Gomaxprocs;

    /// <summary>True when called from inside a goroutine.</summary>
    public static bool InGoroutine => M.t_current?.CurG != null;

    /// <summary>runtime.Gosched: yield the P; the goroutine goes to the global run queue.</summary>
    public static YieldAwaitable Gosched() => default;

    /// <summary>
    /// A new select statement. It reuses this goroutine's one select object, so build and await
    /// one select at a time: a select built before a later Go.Select() refuses to be used or
    /// awaited (GoUsageException).
    /// </summary>
    public static Select Select()
    {
        var gp = GoRuntime.CurrentG("Go.Select");
        return new Select((gp.SelectCache ??= new SelectBox()).Reset(gp));
    }

    /// <summary>
    /// CPU-bound work for <paramref name="duration"/> of wall time on this thread, checking every
    /// quarter microsecond or so (and the clock: a short Work overshoots by at most that) whether the
    /// goroutine should yield: when its time slice (ForcePreemptNs on
    /// the same schedtick) is used up, it is preempted, goes to the global queue and finishes the
    /// rest later, as under Go's asynchronous preemption.
    /// </summary>
    public static WorkAwaitable Work(TimeSpan duration) => new(DurationNs(duration));

    /// <summary><see cref="Work(TimeSpan)"/> in nanoseconds.</summary>
    public static WorkAwaitable WorkNs(long ns) => new(ns);

    /// <summary>Waits for a .NET task without blocking the M: the goroutine parks and is readied when the task completes.</summary>
    public static TaskAwaitable Await(Task task) => new(task);

    /// <summary>Waits for a .NET task's result without blocking the M.</summary>
    public static TaskAwaitable<T> Await<T>(Task<T> task) => new(task);

    /// <summary>
    /// Runs the owed CPU work of gp; false if preempted first (WorkRemainingNs keeps the rest).
    /// The preemption request comes from sysmon (its retake rule: ForcePreemptNs on one
    /// schedtick); the loop checks it about every 0.25 µs, standing in for Go's asynchronous preemption.
    /// </summary>
    internal static bool DoPendingWork(G gp, P pp)
    {
        var rt = gp.Runtime;
        long now = Clock.Nanotime();
        long end = now + gp.WorkRemainingNs;
        ulong x = (ulong)now | 1;
        while (true)
        {
            // 64 steps, about 0.25 µs here: 256 (about 1 µs) made a 1 µs Work take 2 µs.
            for (int i = 0; i < 64; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
            now = Clock.Nanotime();
            if (now >= end) { gp.WorkRemainingNs = 0; s_sink = x; return true; }
            if (gp.Preempt || rt.Stopping)
            {
                gp.Preempt = false;
                gp.WorkRemainingNs = end - now;
                s_sink = x;
                return false;
            }
        }
    }

    private static ulong s_sink;

    public readonly struct YieldAwaitable
    {
        public YieldAwaiter GetAwaiter() => default;
    }

    public readonly struct YieldAwaiter : IGoAwaiter
    {
        public bool IsCompleted
        {
            get
            {
                GoRuntime.CurrentG("Go.Gosched").Outcome = GOutcome.Yield;
                return false;
            }
        }
        public void GetResult() { }
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }

    public readonly struct WorkAwaitable(long ns)
    {
        public WorkAwaiter GetAwaiter() => new(ns);
    }

    public readonly struct WorkAwaiter(long ns) : IGoAwaiter
    {
        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("Go.Work");
                if (ns <= 0) return true;
                gp.WorkRemainingNs = ns;
                if (DoPendingWork(gp, gp.M!.P!)) return !gp.YieldIfPreempted();
                gp.Outcome = GOutcome.Preempted;
                return false;
            }
        }
        public void GetResult() { }
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }

    /// <summary>Parks a G until a .NET task completes; registers the continuation only once the park is published.</summary>
    internal sealed class TaskWait(Task task, G gp) : IParkUnlock
    {
        public void ParkUnlock() =>
            task.ContinueWith(static (_, state) =>
            {
                var g = (G)state!;
                var rt = g.Runtime;
                if (!rt.Stopping) rt.Ready(g);
                rt.AddExternalWait(-1);
            }, gp, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public readonly struct TaskAwaitable(Task task)
    {
        public TaskAwaiter GetAwaiter() => new(task);
    }

    public readonly struct TaskAwaiter(Task task) : IGoAwaiter
    {
        public bool IsCompleted
        {
            get
            {
                if (task.IsCompleted) return true;
                var gp = GoRuntime.CurrentG("Go.Await");
                gp.Runtime.AddExternalWait(1);
                gp.Park(new TaskWait(task, gp), WaitReason.TaskWait);
                return false;
            }
        }
        public void GetResult() => task.GetAwaiter().GetResult();
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }

    public readonly struct TaskAwaitable<T>(Task<T> task)
    {
        public TaskAwaiter<T> GetAwaiter() => new(task);
    }

    public readonly struct TaskAwaiter<T>(Task<T> task) : IGoAwaiter
    {
        public bool IsCompleted => new TaskAwaiter(task).IsCompleted;
        public T GetResult() => task.GetAwaiter().GetResult();
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}
