// fanout (go/fanout/main.go, running datasets/go/workload.Fanout): for each of 3 rounds a parent
// spawns 256 workers, worker i busy for 50µs << (i % 8) (1x to 128x the unit), and waits for them
// with a WaitGroup. The long workers land on the parent's P unless others steal them.
// efficiency = ideal / wall, ideal = total busy-work requested / GOMAXPROCS.
using System.Diagnostics;

namespace GoSched.Benchmarks.Workloads;

internal sealed class Fanout() : Workload("fanout", "efficiency", "ideal/wall", higherIsBetter: true)
{
    private readonly record struct Size(int Rounds, int Workers, long UnitNs);

    private static readonly Size Full = new(3, 256, 50_000), Quick = new(1, 64, 5_000);

    private static Size SizeOf(bool quick) => quick ? Quick : Full;

    public override IReadOnlyDictionary<string, double> Parameters(bool quick)
    {
        var s = SizeOf(quick);
        return new Dictionary<string, double> { ["rounds"] = s.Rounds, ["workers"] = s.Workers, ["unit_us"] = s.UnitNs / 1000.0 };
    }

    public override IEnumerable<TargetCheck> Targets(BenchReport r) => [AtLeast("fanout efficiency >= 0.97", r.Gosched.Median, 0.97)];

    public override IEnumerable<string> Notes(BenchReport r)
    {
        // The busy-work ends after a duration of wall time (Go's workload.Spin): with more threads
        // than CPUs, time-sliced workers each count the time they wait for a CPU as work.
        if (r.Dotnet?.Runs.Any(e => e > 1) == true)
            yield return "fanout: .NET efficiency above 1 is an artifact: the ThreadPool ran more threads than CPUs (threadpool_threads), and " +
                "time-sliced workers each count wall time they spend waiting for a CPU as busy-work";
    }

    public override ISide Gosched(BenchOptions o) =>
        OneGoroutine(o, "gosched: goroutines running `await Go.WorkNs(d)`, a WaitGroup per round",
            done => GoschedMain(SizeOf(o.Quick), o.Gomaxprocs, done));

    public override ISide Dotnet(BenchOptions o) =>
        OneTask(".NET: Task.Run of a spin loop (Go's workload.Spin), a counter + TaskCompletionSource per round (ThreadPool)",
            () => DotnetMain(SizeOf(o.Quick), o.Gomaxprocs));

    /// <summary>Worker i's busy-work: unit &lt;&lt; (i % 8). Mirrors workload.FanoutWork.</summary>
    private static long WorkNs(long unitNs, int i) => unitNs << (i % 8);

    private static Sample Efficiency(long busyNs, int procs, Region region)
    {
        var (wallNs, _, cpu) = region.Stop();
        double idealNs = (double)busyNs / procs;
        return new Sample(idealNs / wallNs, null, Region.CpuExtra(cpu, new Dictionary<string, double> { ["wall_ms"] = wallNs / 1e6, ["ideal_ms"] = idealNs / 1e6 }));
    }

    private static async GoTask GoschedMain(Size size, int procs, Completion<Sample> done)
    {
        long busy = 0;
        var region = Region.Start();
        for (int r = 0; r < size.Rounds; r++)
        {
            var wg = new WaitGroup();
            wg.Add(size.Workers);
            for (int i = 0; i < size.Workers; i++)
            {
                long d = WorkNs(size.UnitNs, i);
                busy += d;
                GoschedWorker(d, wg);
            }
            await wg.Wait();
        }
        done.Complete(Efficiency(busy, procs, region));
    }

    private static async GoTask GoschedWorker(long ns, WaitGroup wg)
    {
        await Go.WorkNs(ns);
        wg.Done();
    }

    private static async Task<Sample> DotnetMain(Size size, int procs)
    {
        long busy = 0;
        var region = Region.Start();
        for (int r = 0; r < size.Rounds; r++)
        {
            var wg = new TaskWaitGroup(size.Workers);
            for (int i = 0; i < size.Workers; i++)
            {
                long d = WorkNs(size.UnitNs, i);
                busy += d;
                Task.Run(() =>
                {
                    Spin(d);
                    wg.Done();
                });
            }
            await wg.Wait();
        }
        var sample = Efficiency(busy, procs, region);
        return sample with { Extra = new Dictionary<string, double>(sample.Extra!) { ["threadpool_threads"] = ThreadPool.ThreadCount } };
    }

    /// <summary>Burns CPU for ns: xorshift steps, the clock read every 1024 of them. Mirrors workload.Spin.</summary>
    internal static void Spin(long ns)
    {
        long end = Stopwatch.GetTimestamp() + (long)(ns * (Stopwatch.Frequency / 1e9));
        ulong x = 88172645463325252UL;
        do
        {
            for (int i = 0; i < 1024; i++)
            {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
            }
        } while (Stopwatch.GetTimestamp() < end);
        s_sink += x;
    }

    private static ulong s_sink;
}
