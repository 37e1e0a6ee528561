// spawn (go/spawn/main.go): bursts of 100,000 short-lived goroutines that only signal a
// WaitGroup; nanoseconds per goroutine (spawn to the burst's Wait returning), and bytes allocated
// per goroutine over the burst. The warm-up burst fills the free lists that later bursts reuse.
namespace GoSched.Benchmarks.Workloads;

internal sealed class Spawn() : Workload("spawn", "ns_per_goroutine", "ns", allocationOp: "goroutine", goAllocField: "alloc_bytes_per_goroutine")
{
    private const int Burst = 100_000, QuickBurst = 10_000;

    private static int Size(bool quick) => quick ? QuickBurst : Burst;

    public override IReadOnlyDictionary<string, double> Parameters(bool quick) => new Dictionary<string, double> { ["burst"] = Size(quick) };

    public override IEnumerable<TargetCheck> Targets(BenchReport r) =>
    [
        AtMost("spawn <= 100 ns per goroutine", r.Gosched.Median, 100),
        Zero("0 bytes per spawned goroutine in steady state", r.Gosched.AllocBytesPerOp),
    ];

    public override ISide Gosched(BenchOptions o) =>
        OneGoroutine(o, "gosched: `async GoTask` calls signalling a WaitGroup", done => GoschedMain(Size(o.Quick), done));
    public override ISide Dotnet(BenchOptions o) =>
        OneTask(".NET: Task.Run of a lambda signalling a counter + TaskCompletionSource (ThreadPool)", () => DotnetMain(Size(o.Quick)));

    private static async GoTask GoschedMain(int n, Completion<Sample> done)
    {
        var wg = new WaitGroup();
        long a0 = Measure.Allocated(), t0 = Measure.Now();
        wg.Add(n);
        for (int i = 0; i < n; i++) GoschedWorker(wg);
        await wg.Wait();
        long t1 = Measure.Now(), a1 = Measure.Allocated();
        done.Complete(new Sample(Measure.ElapsedNs(t0, t1) / n, (double)(a1 - a0) / n));
    }

    /// <summary>`go func() { wg.Done() }()`.</summary>
    private static async GoTask GoschedWorker(WaitGroup wg) => wg.Done();

    private static async Task<Sample> DotnetMain(int n)
    {
        var wg = new TaskWaitGroup(n);
        long a0 = Measure.Allocated(), t0 = Measure.Now();
        for (int i = 0; i < n; i++) Task.Run(() => wg.Done());
        await wg.Wait();
        long t1 = Measure.Now(), a1 = Measure.Allocated();
        return new Sample(Measure.ElapsedNs(t0, t1) / n, (double)(a1 - a0) / n);
    }
}
