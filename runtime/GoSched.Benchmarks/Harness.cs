// The measuring harness: one repetition of a workload on one system is a Sample; a workload gives
// one side per system; BenchRunner alternates the two in-process sides.
//
// How a gosched side runs. One runtime per benchmark, started once and kept for every repetition,
// as a Go program keeps its runtime: free Gs and their bodies carry over from one repetition to
// the next, so the allocation figures are the steady state's. Each repetition is a goroutine
// started from the host thread (runtime.Go), which measures itself on its own clock and hands its
// Sample back through a Completion the host thread waits on. Between repetitions the runtime's Ms
// park. Workloads that leave goroutines blocked between repetitions (ring's nodes, parked's
// batches) would look like a deadlock to checkdead once every M is idle, so a keep-alive
// goroutine waits on a .NET task for the life of the side: a wait on the outside world, which
// checkdead respects (Go's equivalent is a goroutine blocked in a syscall or on a timer).
using System.Diagnostics;

namespace GoSched.Benchmarks;

/// <summary>One repetition's figures: the metric, bytes allocated per operation, and any further figures.</summary>
internal readonly record struct Sample(double Value, double? AllocPerOp = null, IReadOnlyDictionary<string, double>? Extra = null);

/// <summary>One system's way of running a workload; holds what lives across repetitions (a ring, a runtime).</summary>
internal interface ISide : IDisposable
{
    /// <summary>What ran, in one line, for the report.</summary>
    string Description { get; }

    /// <summary>Runs one repetition and returns its figures.</summary>
    Sample RunOnce();
}

/// <summary>
/// A named benchmark: its metric (named as the Go program prints it) and unit, what one operation is
/// for bytes-per-operation (null: none), the Go program's field holding its own bytes per operation,
/// its sizes, targets and its two in-process sides.
/// </summary>
internal abstract class Workload(string name, string metric, string unit, bool higherIsBetter = false, string? allocationOp = null, string? goAllocField = null)
{
    public string Name => name;
    public string Metric => metric;
    public string Unit => unit;
    public bool HigherIsBetter => higherIsBetter;
    public string? AllocationOp => allocationOp;
    public string? GoAllocField => goAllocField;

    public abstract IReadOnlyDictionary<string, double> Parameters(bool quick);

    public abstract ISide Gosched(BenchOptions o);
    public abstract ISide Dotnet(BenchOptions o);

    /// <summary>The targets for this workload, checked against the report's medians.</summary>
    public abstract IEnumerable<TargetCheck> Targets(BenchReport r);

    protected static TargetCheck AtMost(string target, double? value, double limit) => new(target, value, limit, value is { } v ? v <= limit : null);
    protected static TargetCheck AtLeast(string target, double? value, double limit) => new(target, value, limit, value is { } v ? v >= limit : null);

    /// <summary>A gosched side whose repetition is one goroutine, on a runtime of its own.</summary>
    protected ISide OneGoroutine(BenchOptions o, string description, Func<Completion<Sample>, GoTask> repetition) =>
        new GoschedSide(new GoschedHost(o, Name), description, repetition);

    /// <summary>A .NET side whose repetition is one task on the ThreadPool.</summary>
    protected static ISide OneTask(string description, Func<Task<Sample>> repetition) => new DotnetSide(description, repetition);

    /// <summary>"0 bytes" in steady state, allowing for a stray allocation in a whole repetition (under 0.01 B an operation).</summary>
    protected static TargetCheck Zero(string target, double? value) => AtMost(target, value, 0.01);
}

/// <summary>The monotonic clock and the process-wide allocation counter, for measuring inside a repetition.</summary>
internal static class Measure
{
    public static long Now() => Stopwatch.GetTimestamp();

    public static double ElapsedNs(long start, long end) => (end - start) * (1e9 / Stopwatch.Frequency);

    /// <summary>Bytes allocated by every thread so far (precise: includes the threads' current allocation contexts).</summary>
    public static long Allocated() => GC.GetTotalAllocatedBytes(precise: true);

    /// <summary>A full, compacting collection with finalizers run: the same heap state before every repetition.</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}

/// <summary>A repetition's result, handed from the goroutine that measured it to the host thread.</summary>
internal sealed class Completion<T>
{
    private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
    private T _result = default!;

    /// <summary>Called once, by the goroutine. Never blocks.</summary>
    public void Complete(T result)
    {
        _result = result;
        _done.Set();
    }

    /// <summary>Waits for the goroutine; throws if the runtime stops first (a panic, a deadlock).</summary>
    public T Wait(GoRuntime rt)
    {
        while (!_done.Wait(50))
        {
            if (rt.Error is { } e) throw new InvalidOperationException($"the gosched runtime stopped during the benchmark: {e.Message}", e);
            if (!rt.IsRunning) throw new InvalidOperationException("the gosched runtime stopped during the benchmark");
        }
        return _result;
    }
}

/// <summary>A started runtime kept across repetitions (see the essay above).</summary>
internal sealed class GoschedHost : IDisposable
{
    private readonly TaskCompletionSource _keepAlive = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public GoschedHost(BenchOptions o, string workload)
    {
        Runtime = new GoRuntime(o.RuntimeConfig()).WithWorkloadName("bench-" + workload).Start();
        Runtime.Go(() => KeepAlive(_keepAlive.Task));
    }

    public GoRuntime Runtime { get; }

    /// <summary>Starts body as a goroutine and blocks the host thread until it completes.</summary>
    public T Call<T>(Func<Completion<T>, GoTask> body)
    {
        var done = new Completion<T>();
        Runtime.Go(() => body(done));
        return done.Wait(Runtime);
    }

    public void Dispose()
    {
        Runtime.Dispose();
        _keepAlive.TrySetResult();
    }

    private static async GoTask KeepAlive(Task until) => await Go.Await(until);
}

/// <summary>A gosched side whose repetitions need no state of their own: each is one goroutine.</summary>
internal sealed class GoschedSide(GoschedHost host, string description, Func<Completion<Sample>, GoTask> repetition) : ISide
{
    public string Description => description;
    public Sample RunOnce() => host.Call(repetition);
    public void Dispose() => host.Dispose();
}

/// <summary>A .NET side whose repetitions need no state of their own: each is one task on the ThreadPool.</summary>
internal sealed class DotnetSide(string description, Func<Task<Sample>> repetition) : ISide
{
    public string Description => description;
    public Sample RunOnce() => ThreadPoolMain.Run(repetition);
    public void Dispose() { }
}

/// <summary>Go's sync.WaitGroup done the .NET way: a counter and a task that completes at zero.</summary>
internal sealed class TaskWaitGroup(int count)
{
    private int _count = count;
    private readonly TaskCompletionSource _zero = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Done()
    {
        if (Interlocked.Decrement(ref _count) == 0) _zero.SetResult();
    }

    public Task Wait() => _zero.Task;
}

/// <summary>Runs a .NET side's repetition on the ThreadPool (its "main goroutine") and blocks the host until it is done.</summary>
internal static class ThreadPoolMain
{
    public static T Run<T>(Func<Task<T>> main) => Task.Run(main).GetAwaiter().GetResult();
}
