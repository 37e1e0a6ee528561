// locked (go/locked/main.go): the price of LockOSThread on a channel ping-pong. Two goroutines
// bounce a value over two unbuffered channels, first with neither locked (every hop a runnext
// hand-off on one P, no thread involved), then with the echo goroutine locked to its thread
// (LockOSThread.cs: each time it blocks, its M hands the P off and sleeps in stoplockedm; each time
// it is readied, the M that dequeues it gives its P to the locked M, wakes it and parks in
// startlockedm): nanoseconds per round trip of each, the metric being the locked one.
//
// Why it is fair: the same program on both (go/locked mirrors it line by line), with
// runtime.LockOSThread on Go's side; fresh channels and a fresh echo goroutine for each half of a
// repetition, as pingpong does. Each side counts the round trips that came back in order and the
// threads the locked goroutine ran on (1, or the lock is broken), so a report also checks the
// semantics.
//
// .NET has no LockOSThread: a task runs on whichever pool thread takes it, and a dedicated thread
// is not a goroutine any scheduler could hand a P to. So there is no .NET side; the report says so.

namespace GoSched.Benchmarks.Workloads;

internal sealed class Locked() : Workload("locked", "locked_ns_per_roundtrip", "ns")
{
    private readonly record struct Size(int Unlocked, int Locked);

    private static readonly Size Full = new(200_000, 20_000), Quick = new(20_000, 2_000);

    private static Size SizeOf(bool quick) => quick ? Quick : Full;

    public override IReadOnlyDictionary<string, double> Parameters(bool quick) => new Dictionary<string, double>
    {
        ["unlocked_round_trips"] = SizeOf(quick).Unlocked,
        ["locked_round_trips"] = SizeOf(quick).Locked,
    };

    public override IEnumerable<string> BreakdownKeys => ["unlocked_ns_per_roundtrip", "locked_ns_per_roundtrip", "locked_over_unlocked"];

    /// <summary>No target in the issue: locking is expected to cost thread wake-ups; the comparison with Go is the figure.</summary>
    public override IEnumerable<TargetCheck> Targets(BenchReport r) => [];

    public override IEnumerable<string> Notes(BenchReport r) =>
    [
        "locked: unlocked = ping-pong with neither goroutine locked; locked = the echo goroutine called LockOSThread, so each hop wakes a thread (startlockedm/stoplockedm)",
        "locked: no .NET side: .NET has no LockOSThread (a task runs on any pool thread; a dedicated thread is not scheduled by anyone)",
    ];

    public override ISide Gosched(BenchOptions o) =>
        OneGoroutine(o, "gosched: two unbuffered Chan<int>, an echo goroutine, unlocked then `Go.LockOSThread()`", done => GoschedMain(SizeOf(o.Quick), done));

    public override ISide? Dotnet(BenchOptions o) => null;

    /// <summary>What one half of a repetition measured.</summary>
    private readonly record struct Half(double NsPerRoundTrip, int RoundTrips, int Threads);

    private static async GoTask GoschedMain(Size size, Completion<Sample> done)
    {
        var unlocked = await GoschedPingPong(size.Unlocked, locked: false);
        var locked = await GoschedPingPong(size.Locked, locked: true);
        var extra = new Dictionary<string, double>
        {
            ["unlocked_ns_per_roundtrip"] = unlocked.NsPerRoundTrip,
            ["locked_ns_per_roundtrip"] = locked.NsPerRoundTrip,
            ["locked_over_unlocked"] = locked.NsPerRoundTrip / unlocked.NsPerRoundTrip,
            ["round_trips_done"] = unlocked.RoundTrips + locked.RoundTrips,
            ["locked_threads"] = locked.Threads,
        };
        done.Complete(new Sample(locked.NsPerRoundTrip, null, extra));
    }

    private static async GoFrame<Half> GoschedPingPong(int n, bool locked)
    {
        var ping = new Chan<int>();
        var pong = new Chan<int>();
        var threads = new Chan<int>(1);
        GoschedEcho(ping, pong, threads, locked);
        int inOrder = 0;
        long start = Go.Nanotime();
        for (int i = 0; i < n; i++)
        {
            await ping.Send(i);
            if (await pong.Recv() == i) inOrder++;
        }
        long wall = Go.Nanotime() - start;
        ping.Close();
        return new Half((double)wall / n, inOrder, await threads.Recv());
    }

    /// <summary>`for v := range ping { pong &lt;- v }`, locked to its thread if asked; sends how many threads it ran on.</summary>
    private static async GoTask GoschedEcho(Chan<int> ping, Chan<int> pong, Chan<int> threads, bool locked)
    {
        if (locked) Go.LockOSThread();
        var ranOn = new HashSet<int> { Environment.CurrentManagedThreadId };
        for (var (v, ok) = await ping.RecvOk(); ok; (v, ok) = await ping.RecvOk())
        {
            ranOn.Add(Environment.CurrentManagedThreadId);
            await pong.Send(v);
        }
        if (locked) Go.UnlockOSThread();
        await threads.Send(ranOn.Count);
    }
}
