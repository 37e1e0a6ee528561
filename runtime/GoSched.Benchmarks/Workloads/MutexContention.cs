// mutex (go/mutex/main.go): 2 x GOMAXPROCS goroutines share ONE mutex; each makes its share of
// 1,000,000 lock / counter++ / unlock pairs, with a tiny local computation outside the lock (20
// xorshift steps, ~20-40 ns) so that the lock is not taken back-to-back by whoever holds the P,
// which would measure nothing but barging. Nanoseconds per pair (wall time / pairs), and bytes
// allocated per pair.
//
// What it exercises: sync.Mutex as Go 1.19 has it (Sync/Mutex.cs): the fast path, spinning, and
// under contention the semaphore park and wake, with barging in normal mode and hand-off once a
// waiter has waited 1 ms (starvation mode). More goroutines than Ps keeps waiters parked, not
// only spinning.
//
// Conservation: the counter is a plain field, incremented only while holding the lock; each side
// checks that it ends at the number of pairs and throws if not (two goroutines were in at once).
//
// The .NET side is the async-lock analogue: .NET has no mutex a task can await, and the usual
// one is SemaphoreSlim(1, 1) with `await WaitAsync()` / `Release()`. It differs from Go's mutex by
// design: every WaitAsync and Release takes the semaphore's Monitor; a contended WaitAsync
// allocates a waiter task; Release hands the count straight to the first waiter (FIFO, no
// barging: Go's starvation mode, always), whose continuation then runs on the ThreadPool.
namespace GoSched.Benchmarks.Workloads;

internal sealed class MutexContention() : Workload("mutex", "ns_per_lock", "ns", allocationOp: "lock", goAllocField: "alloc_bytes_per_lock")
{
    private const int Pairs = 1_000_000, QuickPairs = 50_000;

    /// <summary>Goroutines per P: more than one, so that some wait parked on the semaphore.</summary>
    private const int GoroutinesPerP = 2;

    /// <summary>xorshift steps outside the lock, after each unlock (work() in the Go program).</summary>
    private const int WorkIterations = 20;

    private const ulong Seed = 88172645463325252UL;

    private static int Size(bool quick) => quick ? QuickPairs : Pairs;

    public override IReadOnlyDictionary<string, double> Parameters(bool quick) => new Dictionary<string, double>
    {
        ["pairs"] = Size(quick),
        ["goroutines_per_p"] = GoroutinesPerP,
        ["work_iterations"] = WorkIterations,
    };

    /// <summary>No speed target in the issue for the mutex: only that a lock allocates nothing.</summary>
    public override IEnumerable<TargetCheck> Targets(BenchReport r) =>
    [
        Zero("0 bytes per lock-unlock pair", r.Gosched.AllocBytesPerOp),
    ];

    public override IEnumerable<string> Notes(BenchReport r) =>
    [
        $"mutex: {GoroutinesPerP * r.Gomaxprocs} goroutines ({GoroutinesPerP} x GOMAXPROCS) on one mutex, {WorkIterations} xorshift steps outside the lock after each unlock; no speed target",
        "mutex: the .NET side is the async-lock analogue, SemaphoreSlim(1,1) with await WaitAsync()/Release(): a Monitor on every call, a waiter task allocated per contended wait, " +
            "and FIFO hand-off to the first waiter (no barging, as Go's starvation mode always), whose continuation runs on the ThreadPool",
    ];

    public override ISide Gosched(BenchOptions o) =>
        OneGoroutine(o, "gosched: goroutines on one GoSched.Mutex (await Lock(), Unlock()), a WaitGroup",
            done => GoschedMain(GoroutinesPerP * o.Gomaxprocs, Size(o.Quick), done));

    public override ISide Dotnet(BenchOptions o) =>
        OneTask(".NET: Task.Run tasks on one SemaphoreSlim(1,1) as an async lock (await WaitAsync(), Release()), a counter + TaskCompletionSource (ThreadPool)",
            () => DotnetMain(GoroutinesPerP * o.Gomaxprocs, Size(o.Quick)));

    /// <summary>What the lock protects, and where the workers' local results go so that their work is not dead code.</summary>
    private sealed class Shared
    {
        public long Counter;
        public long Sink;
    }

    /// <summary>Worker i's pairs: an even share, the first pairs % goroutines one more.</summary>
    private static int Share(int pairs, int goroutines, int i) => pairs / goroutines + (i < pairs % goroutines ? 1 : 0);

    /// <summary>The local computation outside the lock: WorkIterations xorshift64 steps. Mirrors work() in go/mutex.</summary>
    private static ulong Work(ulong x)
    {
        for (int i = 0; i < WorkIterations; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        return x;
    }

    /// <summary>The sample with the conservation check done (throws if the counter is not the number of pairs) and its figures.</summary>
    private static Sample Checked(Sample sample, Shared shared, int pairs, int goroutines, string system)
    {
        if (shared.Counter != pairs)
            throw new InvalidOperationException($"mutex ({system}): counter is {shared.Counter} after {pairs} lock/increment/unlock pairs: the lock let two in at once");
        var extra = sample.Extra != null ? new Dictionary<string, double>(sample.Extra) : new Dictionary<string, double>();
        extra["goroutines"] = goroutines;
        extra["pairs_done"] = shared.Counter;
        return sample with { Extra = extra };
    }

    private static async GoTask GoschedMain(int goroutines, int pairs, Completion<Sample> done)
    {
        var mu = new Mutex();
        var shared = new Shared();
        var wg = new WaitGroup();
        var region = Region.Start();
        wg.Add(goroutines);
        for (int i = 0; i < goroutines; i++) GoschedWorker(mu, shared, Share(pairs, goroutines, i), Seed + (ulong)i, wg);
        await wg.Wait();
        var sample = region.PerOp(pairs);
        done.Complete(Checked(sample, shared, pairs, goroutines, "gosched"));
    }

    private static async GoTask GoschedWorker(Mutex mu, Shared shared, int n, ulong x, WaitGroup wg)
    {
        for (int i = 0; i < n; i++)
        {
            await mu.Lock();
            shared.Counter++;
            mu.Unlock();
            x = Work(x);
        }
        Interlocked.Add(ref shared.Sink, (long)x);
        wg.Done();
    }

    private static async Task<Sample> DotnetMain(int goroutines, int pairs)
    {
        var sem = new SemaphoreSlim(1, 1);
        var shared = new Shared();
        var wg = new TaskWaitGroup(goroutines);
        var region = Region.Start();
        for (int i = 0; i < goroutines; i++)
        {
            int n = Share(pairs, goroutines, i);
            ulong x = Seed + (ulong)i;
            Task.Run(() => DotnetWorker(sem, shared, n, x, wg));
        }
        await wg.Wait();
        var sample = region.PerOp(pairs);
        sem.Dispose();
        return Checked(sample, shared, pairs, goroutines, "dotnet");
    }

    private static async Task DotnetWorker(SemaphoreSlim sem, Shared shared, int n, ulong x, TaskWaitGroup wg)
    {
        for (int i = 0; i < n; i++)
        {
            await sem.WaitAsync();
            shared.Counter++;
            sem.Release();
            x = Work(x);
        }
        Interlocked.Add(ref shared.Sink, (long)x);
        wg.Done();
    }
}
