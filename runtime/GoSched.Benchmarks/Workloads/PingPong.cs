// pingpong (go/pingpong/main.go): two goroutines bounce a value over two unbuffered channels;
// nanoseconds per round trip (two hand-offs, each parking one goroutine and readying the other).
// Each repetition makes fresh channels and a fresh echo goroutine, as the Go program does.
using System.Threading.Channels;

namespace GoSched.Benchmarks.Workloads;

internal sealed class PingPong() : Workload("pingpong", "ns_per_roundtrip", "ns", allocationOp: "roundtrip")
{
    private const int RoundTrips = 200_000, QuickRoundTrips = 20_000;

    private static int Size(bool quick) => quick ? QuickRoundTrips : RoundTrips;

    /// <summary>
    /// A repetition takes 25-60 ms, and the first four or five of a process ran 300-1,100 ns per
    /// round trip against ~115 after (the tiered JIT's first code for the scheduler's methods, until
    /// their optimised versions arrive): with two warm-ups, two or three of the seven timed
    /// repetitions were warm-up. Ten in all, on both sides, as spawn.
    /// </summary>
    public override int ExtraWarmUps => 8;

    public override IReadOnlyDictionary<string, double> Parameters(bool quick) => new Dictionary<string, double> { ["round_trips"] = Size(quick) };

    public override IEnumerable<TargetCheck> Targets(BenchReport r) =>
    [
        AtMost("pingpong <= 0.5x Go", r.RatioGoschedGo, 0.5),
        AtMost("pingpong <= 0.5x .NET Channels", r.RatioGoschedDotnet, 0.5),
        Zero("0 bytes per channel round trip", r.Gosched.AllocBytesPerOp),
    ];

    public override ISide Gosched(BenchOptions o) =>
        OneGoroutine(o, "gosched: two unbuffered Chan<int>, an echo goroutine", done => GoschedMain(Size(o.Quick), done));
    public override ISide Dotnet(BenchOptions o) =>
        OneTask(".NET: two unbounded single-reader/writer Channel<int>, an echo task (ThreadPool)", () => DotnetMain(Size(o.Quick)));

    private static async GoTask GoschedMain(int n, Completion<Sample> done)
    {
        var ping = new Chan<int>();
        var pong = new Chan<int>();
        GoschedEcho(ping, pong);
        var region = Region.Start();
        for (int i = 0; i < n; i++)
        {
            await ping.Send(i);
            await pong.Recv();
        }
        var sample = region.PerOp(n);
        ping.Close();
        done.Complete(sample);
    }

    /// <summary>`for v := range ping { pong &lt;- v }`.</summary>
    private static async GoTask GoschedEcho(Chan<int> ping, Chan<int> pong)
    {
        while (true)
        {
            var (v, ok) = await ping.RecvOk();
            if (!ok) return;
            await pong.Send(v);
        }
    }

    private static async Task<Sample> DotnetMain(int n)
    {
        var options = new UnboundedChannelOptions { SingleReader = true, SingleWriter = true };
        var ping = Channel.CreateUnbounded<int>(options);
        var pong = Channel.CreateUnbounded<int>(options);
        var echo = Task.Run(() => DotnetEcho(ping.Reader, pong.Writer));
        var region = Region.Start();
        for (int i = 0; i < n; i++)
        {
            await ping.Writer.WriteAsync(i);
            await pong.Reader.ReadAsync();
        }
        var sample = region.PerOp(n);
        ping.Writer.Complete();
        await echo;
        return sample;
    }

    private static async Task DotnetEcho(ChannelReader<int> ping, ChannelWriter<int> pong)
    {
        await foreach (var v in ping.ReadAllAsync()) await pong.WriteAsync(v);
    }
}
