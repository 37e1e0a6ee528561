// spawn (go/spawn/main.go): bursts of 100,000 short-lived goroutines that only signal a
// WaitGroup; nanoseconds per goroutine (spawn to the burst's Wait returning), and bytes allocated
// per goroutine over the burst.
//
// Steady state. How many goroutines are alive at once in a burst depends on how far the spawner
// runs ahead of the Ps that run them, and differs from burst to burst. A burst that has more alive
// than any earlier one grows the pool of free Gs (a new G and body each), so without care the
// bytes per goroutine are a random high-water-mark effect that fades over many bursts. The gosched
// side therefore primes its runtime once, before the warm-up: one burst of the same goroutine
// body held at a gate until all of them exist, which grows the free lists to the burst size. The
// timed bursts pass no gate (a null check is all that differs from Go's `go func() { wg.Done() }()`).
namespace GoSched.Benchmarks.Workloads;

internal sealed class Spawn() : Workload("spawn", "ns_per_goroutine", "ns", allocationOp: "goroutine", goAllocField: "alloc_bytes_per_goroutine")
{
    private const int Burst = 100_000, QuickBurst = 10_000;

    private static int Size(bool quick) => quick ? QuickBurst : Burst;

    /// <summary>
    /// A burst takes 10-40 ms, and the first 4-9 bursts of a process run the scheduler's methods
    /// as the tiered JIT's first, unoptimised code (running a burst's goroutines cost ~230 ns each
    /// there, ~70 ns once the optimised code arrives, at a point that varies from process to
    /// process): with two warm-ups, the median of 7 was largely warm-up. Ten in all, on both sides.
    /// </summary>
    public override int ExtraWarmUps => 8;

    public override IReadOnlyDictionary<string, double> Parameters(bool quick) => new Dictionary<string, double> { ["burst"] = Size(quick) };

    public override IEnumerable<TargetCheck> Targets(BenchReport r) =>
    [
        AtMost("spawn <= 100 ns per goroutine", r.Gosched.Median, 100),
        Zero("0 bytes per spawned goroutine in steady state", r.Gosched.AllocBytesPerOp),
    ];

    public override ISide Gosched(BenchOptions o) =>
        OneGoroutine(o, "gosched: `async GoTask` calls signalling a WaitGroup (free Gs primed to the burst size)",
            done => GoschedMain(Size(o.Quick), done), done => GoschedPrime(Size(o.Quick), done));
    public override ISide Dotnet(BenchOptions o) =>
        OneTask(".NET: Task.Run of a lambda signalling a counter + TaskCompletionSource (ThreadPool)", () => DotnetMain(Size(o.Quick)));

    private static async GoTask GoschedMain(int n, Completion<Sample> done)
    {
        var wg = new WaitGroup();
        var region = Region.Start();
        wg.Add(n);
        for (int i = 0; i < n; i++) GoschedWorker(wg, null);
        await wg.Wait();
        done.Complete(region.PerOp(n));
    }

    /// <summary>Has n workers alive at once (held at a gate until all exist), so n Gs with this body go to the free lists.</summary>
    private static async GoTask GoschedPrime(int n, Completion<bool> done)
    {
        var wg = new WaitGroup();
        var gate = new Chan<bool>();
        wg.Add(n);
        for (int i = 0; i < n; i++) GoschedWorker(wg, gate);
        gate.Close();
        await wg.Wait();
        done.Complete(true);
    }

    /// <summary>`go func() { wg.Done() }()`; when priming, first waits at the gate.</summary>
    private static async GoTask GoschedWorker(WaitGroup wg, Chan<bool>? gate)
    {
        if (gate != null) await gate.Recv();
        wg.Done();
    }

    private static async Task<Sample> DotnetMain(int n)
    {
        var wg = new TaskWaitGroup(n);
        var region = Region.Start();
        for (int i = 0; i < n; i++) Task.Run(() => wg.Done());
        await wg.Wait();
        return region.PerOp(n);
    }
}
