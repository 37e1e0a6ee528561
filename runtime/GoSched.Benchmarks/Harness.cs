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
using HdrHistogram;

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

    /// <summary>The .NET side; null where .NET has no equivalent of what is measured (say why in <see cref="Notes"/>).</summary>
    public abstract ISide? Dotnet(BenchOptions o);

    /// <summary>The targets for this workload, checked against the report's medians.</summary>
    public abstract IEnumerable<TargetCheck> Targets(BenchReport r);

    /// <summary>
    /// Untimed repetitions this workload needs beyond BenchOptions.WarmUps (full runs only), on
    /// both in-process sides alike: a workload whose repetition is short reaches the JIT's
    /// optimised code only after several.
    /// </summary>
    public virtual int ExtraWarmUps => 0;

    /// <summary>What the reader of this report needs to know about its figures.</summary>
    public virtual IEnumerable<string> Notes(BenchReport r) => [];

    /// <summary>Extra figures to compare system by system, with gosched's ratios (<see cref="BenchReport.Breakdown"/>); none by default.</summary>
    public virtual IEnumerable<string> BreakdownKeys => [];

    protected static TargetCheck AtMost(string target, double? value, double limit) => new(target, value, limit, value is { } v ? v <= limit : null);
    protected static TargetCheck AtLeast(string target, double? value, double limit) => new(target, value, limit, value is { } v ? v >= limit : null);

    /// <summary>A gosched side whose repetition is one goroutine, on a runtime of its own.</summary>
    protected ISide OneGoroutine(BenchOptions o, string description, Func<Completion<Sample>, GoTask> repetition, Func<Completion<bool>, GoTask>? prepare = null) =>
        new GoschedSide(new GoschedHost(o, Name), description, repetition, prepare);

    /// <summary>A .NET side whose repetition is one task on the ThreadPool.</summary>
    protected static ISide OneTask(string description, Func<Task<Sample>> repetition) => new DotnetSide(description, repetition);

    /// <summary>"0 bytes" in steady state, allowing for a stray allocation in a whole repetition (under 0.01 B an operation).</summary>
    protected static TargetCheck Zero(string target, double? value) => AtMost(target, value, 0.01);
}

/// <summary>The clocks and counters a repetition reads, and the full collection before each.</summary>
internal static class Measure
{
    public static long Now() => Stopwatch.GetTimestamp();

    public static double ElapsedNs(long start, long end) => (end - start) * (1e9 / Stopwatch.Frequency);

    /// <summary>Bytes allocated by every thread so far (precise: includes the threads' current allocation contexts).</summary>
    public static long Allocated() => GC.GetTotalAllocatedBytes(precise: true);

    /// <summary>CPU time of the whole process (every thread) in ns, or -1 where not available. Allocates nothing.</summary>
    public static long ProcessCpuNs()
    {
        if (!OperatingSystem.IsLinux()) return -1;
        return clock_gettime(ClockProcessCpuTimeId, out var ts) == 0 ? ts.Sec * 1_000_000_000 + ts.Nsec : -1;
    }

    /// <summary>A full, compacting collection with finalizers run: the same heap state before every repetition.</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>The 1-minute load average and the CPU count, or null where /proc/loadavg is missing.</summary>
    public static string? LoadAverage()
    {
        try
        {
            string first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return $"{first} on {Environment.ProcessorCount} CPUs";
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private const int ClockProcessCpuTimeId = 2;

    private struct TimeSpec
    {
        public long Sec, Nsec;
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clockId, out TimeSpec ts);
}

/// <summary>
/// A measured region inside a repetition: wall time, bytes allocated by every thread and the
/// process's CPU time. The counters are read outside the timed span and the allocation span
/// includes nothing of the harness's own.
/// </summary>
internal readonly struct Region
{
    private readonly long _cpu0, _alloc0, _t0;

    private Region(long cpu0, long alloc0, long t0) { _cpu0 = cpu0; _alloc0 = alloc0; _t0 = t0; }

    public static Region Start()
    {
        long cpu = Measure.ProcessCpuNs();
        long alloc = Measure.Allocated();
        return new Region(cpu, alloc, Measure.Now());
    }

    /// <summary>Ends the region: wall ns, bytes allocated, and CPUs busy on average (process CPU time / wall time; null if unknown).</summary>
    public (double WallNs, long AllocBytes, double? CpuPerWall) Stop()
    {
        long t1 = Measure.Now();
        long alloc = Measure.Allocated();
        long cpu = Measure.ProcessCpuNs();
        double wall = Measure.ElapsedNs(_t0, t1);
        return (wall, alloc - _alloc0, cpu >= 0 && _cpu0 >= 0 && wall > 0 ? (cpu - _cpu0) / wall : null);
    }

    /// <summary>Ends the region as a per-operation sample: ns and bytes per operation, CPUs busy as an extra figure.</summary>
    public Sample PerOp(int ops)
    {
        var (wall, alloc, cpu) = Stop();
        return new Sample(wall / ops, (double)alloc / ops, CpuExtra(cpu));
    }

    public static IReadOnlyDictionary<string, double>? CpuExtra(double? cpuPerWall, IReadOnlyDictionary<string, double>? more = null)
    {
        if (cpuPerWall == null && more == null) return null;
        var d = more != null ? new Dictionary<string, double>(more) : new Dictionary<string, double>();
        if (cpuPerWall is { } c) d[CpuPerWallKey] = c;
        return d;
    }

    /// <summary>The extra figure: average number of CPUs the process kept busy over the region.</summary>
    public const string CpuPerWallKey = "cpus_busy";
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
internal sealed class GoschedSide : ISide
{
    private readonly GoschedHost _host;
    private readonly Func<Completion<Sample>, GoTask> _repetition;

    /// <summary>Starts the side's runtime; <paramref name="prepare"/>, if given, runs once as a goroutine before any repetition.</summary>
    public GoschedSide(GoschedHost host, string description, Func<Completion<Sample>, GoTask> repetition, Func<Completion<bool>, GoTask>? prepare = null)
    {
        (_host, Description, _repetition) = (host, description, repetition);
        if (prepare != null) host.Call(prepare);
    }

    public string Description { get; }
    public Sample RunOnce() => _host.Call(_repetition);
    public void Dispose() => _host.Dispose();
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

/// <summary>A stop signal for goroutines and tasks that loop (CPU-bound spinners): a flag they read between slices of work.</summary>
internal sealed class StopFlag
{
    private volatile bool _set;
    public bool IsSet => _set;
    public void Set() => _set = true;
}

/// <summary>Latency samples (ns) in an HdrHistogram, and its percentiles: the benchmarks' one way to read them.</summary>
internal static class Latencies
{
    /// <summary>1 ns .. 100 s at 3 significant digits; negative samples (early wake-ups) count as 0.</summary>
    public static LongHistogram Histogram(IEnumerable<long> ns)
    {
        var h = new LongHistogram(1, 100_000_000_000, 3);
        foreach (long v in ns) h.RecordValue(Math.Clamp(v, 0, h.HighestTrackableValue));
        return h;
    }

    /// <summary>The value at percentile p (0..100]; 100 is the maximum.</summary>
    public static double At(LongHistogram h, double p) => p >= 100 ? h.GetMaxValue() : h.GetValueAtPercentile(p);
}
