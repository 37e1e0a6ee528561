// parked (go/parked/main.go): bytes per goroutine blocked in a channel receive. Each repetition
// starts 100,000 more goroutines that block on one channel and keeps them blocked, so every
// repetition measures freshly created goroutines (a released goroutine's G and body would be
// reused by the next one). The metric is the growth of the managed heap after a full collection
// (GC.GetTotalMemory(true)) over the batch, per goroutine: G, body box (the "stack"), sudog and the
// runtime's tables. Go measures HeapInuse+StackInuse the same way.
using System.Threading.Channels;

namespace GoSched.Benchmarks.Workloads;

internal sealed class Parked() : Workload("parked", "bytes_per_parked_goroutine", "bytes")
{
    private const int Batch = 100_000, QuickBatch = 10_000;

    /// <summary>Go's program sleeps this long for the last goroutines to get from Done to the receive.</summary>
    private const int SettleMs = 20;

    private static int Size(bool quick) => quick ? QuickBatch : Batch;

    public override IReadOnlyDictionary<string, double> Parameters(bool quick) => new Dictionary<string, double> { ["batch"] = Size(quick) };

    public override IEnumerable<TargetCheck> Targets(BenchReport r) => [AtMost("<= 256 bytes per parked goroutine", r.Gosched.Median, 256)];

    public override ISide Gosched(BenchOptions o) => new GoschedSide(new GoschedHost(o, Name), Size(o.Quick));
    public override ISide Dotnet(BenchOptions o) => new DotnetSide(Size(o.Quick));

    /// <summary>Runs one batch between two heap measurements; bytes per goroutine.</summary>
    private static Sample Grow(int n, Action startBatch)
    {
        Measure.Settle();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        startBatch();
        long after = GC.GetTotalMemory(forceFullCollection: true);
        return new Sample((double)(after - before) / n);
    }

    private sealed class GoschedSide(GoschedHost host, int n) : ISide
    {
        private readonly Chan<bool> _block = new();

        public string Description => "gosched: goroutines blocked in `await block.Recv()` on one unbuffered Chan<bool>";

        public Sample RunOnce() => Grow(n, () =>
        {
            host.Call<bool>(done => Main(n, _block, done));
            WaitAllParked(host.Runtime);
        });

        // Stopping the runtime drops the parked goroutines; Go's program closes the channel instead,
        // after its last measurement.
        public void Dispose() => host.Dispose();

        private static async GoTask Main(int n, Chan<bool> block, Completion<bool> done)
        {
            var started = new WaitGroup();
            started.Add(n);
            for (int i = 0; i < n; i++) Blocked(started, block);
            await started.Wait();
            done.Complete(true);
        }

        private static async GoTask Blocked(WaitGroup started, Chan<bool> block)
        {
            started.Done();
            await block.Recv();
        }

        /// <summary>
        /// The last goroutines may be between Done and the receive: wait until nothing is runnable
        /// (every P idle, the global queue empty), then as long as Go's program sleeps.
        /// </summary>
        private static void WaitAllParked(GoRuntime rt)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                var s = rt.Stats();
                if (s.IdleProcs == s.Gomaxprocs && s.GlobalRunq == 0) break;
                if (rt.Error is { } e) throw new InvalidOperationException($"the gosched runtime stopped during the benchmark: {e.Message}", e);
                if (DateTime.UtcNow > deadline) throw new TimeoutException("parked: goroutines still runnable after 30 s");
                Thread.Sleep(1);
            }
            Thread.Sleep(SettleMs);
        }
    }

    private sealed class DotnetSide(int n) : ISide
    {
        private readonly Channel<bool> _block = Channel.CreateUnbounded<bool>();
        private int _alive;

        public string Description => ".NET: Task.Run of async lambdas blocked in `await block.Reader.ReadAsync()` on one unbounded Channel<bool> (ThreadPool)";

        public Sample RunOnce() => Grow(n, () =>
        {
            ThreadPoolMain.Run(Main);
            Thread.Sleep(SettleMs);
        });

        /// <summary>Releases every parked task with a value each (completing the channel would throw in each of them).</summary>
        public void Dispose()
        {
            int alive = Volatile.Read(ref _alive);
            for (int i = 0; i < alive; i++) _block.Writer.TryWrite(true);
            SpinWait.SpinUntil(() => Volatile.Read(ref _alive) == 0, TimeSpan.FromSeconds(30));
        }

        private async Task<bool> Main()
        {
            var started = new TaskWaitGroup(n);
            for (int i = 0; i < n; i++) Task.Run(() => Blocked(started));
            await started.Wait();
            return true;
        }

        private async Task Blocked(TaskWaitGroup started)
        {
            Interlocked.Increment(ref _alive);
            started.Done();
            await _block.Reader.ReadAsync();
            Interlocked.Decrement(ref _alive);
        }
    }
}
