// ring (go/ring/main.go): 10,000 goroutines in a ring of unbuffered channels pass one token
// 1,000,000 hops; nanoseconds per hop. Goroutine i receives on links[i] and forwards to
// links[i+1]; the token is the number of hops still to go, and whoever receives 0 reports on done.
// The ring is built once; each repetition sends a fresh token around.
using System.Threading.Channels;

namespace GoSched.Benchmarks.Workloads;

internal sealed class Ring() : Workload("ring", "ns_per_hop", "ns", allocationOp: "hop")
{
    private const int Goroutines = 10_000, Hops = 1_000_000;
    private const int QuickGoroutines = 1_000, QuickHops = 50_000;

    private static (int Goroutines, int Hops) Size(bool quick) => quick ? (QuickGoroutines, QuickHops) : (Goroutines, Hops);

    public override IReadOnlyDictionary<string, double> Parameters(bool quick) =>
        new Dictionary<string, double> { ["goroutines"] = Size(quick).Goroutines, ["hops"] = Size(quick).Hops };

    public override IEnumerable<TargetCheck> Targets(BenchReport r) =>
    [
        AtMost("ring <= 0.25x Go", r.RatioGoschedGo, 0.25),
        Zero("0 bytes per channel hop", r.Gosched.AllocBytesPerOp),
    ];

    public override ISide Gosched(BenchOptions o) => new GoschedSide(new GoschedHost(o, Name), Size(o.Quick));
    public override ISide Dotnet(BenchOptions o) => new DotnetSide(Size(o.Quick));

    private sealed class GoschedSide : ISide
    {
        private readonly GoschedHost _host;
        private readonly int _hops;
        private readonly Chan<int>[] _links;
        private readonly Chan<bool> _done = new();

        public GoschedSide(GoschedHost host, (int Goroutines, int Hops) size)
        {
            _host = host;
            _hops = size.Hops;
            _links = new Chan<int>[size.Goroutines];
            for (int i = 0; i < _links.Length; i++) _links[i] = new Chan<int>();
            _host.Call<bool>(done => Build(_links, _done, done));
        }

        public string Description => "gosched: goroutines in a ring of unbuffered Chan<int>";
        public Sample RunOnce() => _host.Call<Sample>(done => Lap(_links[0], _done, _hops, done));

        public void Dispose()
        {
            _host.Call<bool>(done => Close(_links, done));
            _host.Dispose();
        }

        private static async GoTask Build(Chan<int>[] links, Chan<bool> finished, Completion<bool> done)
        {
            for (int i = 0; i < links.Length; i++) Node(links[i], links[(i + 1) % links.Length], finished);
            done.Complete(true);
        }

        private static async GoTask Node(Chan<int> input, Chan<int> output, Chan<bool> finished)
        {
            while (true)
            {
                var (left, ok) = await input.RecvOk();
                if (!ok) return;
                if (left == 0) await finished.Send(true);
                else await output.Send(left - 1);
            }
        }

        private static async GoTask Lap(Chan<int> first, Chan<bool> finished, int hops, Completion<Sample> done)
        {
            var region = Region.Start();
            await first.Send(hops);
            await finished.Recv();
            done.Complete(region.PerOp(hops));
        }

        private static async GoTask Close(Chan<int>[] links, Completion<bool> done)
        {
            foreach (var c in links) c.Close();
            done.Complete(true);
        }
    }

    private sealed class DotnetSide : ISide
    {
        private readonly int _hops;
        private readonly Channel<int>[] _links;
        private readonly Channel<bool> _done = Channel.CreateUnbounded<bool>(Options);
        private readonly Task[] _nodes;

        private static readonly UnboundedChannelOptions Options = new() { SingleReader = true, SingleWriter = true };

        public DotnetSide((int Goroutines, int Hops) size)
        {
            _hops = size.Hops;
            _links = new Channel<int>[size.Goroutines];
            for (int i = 0; i < _links.Length; i++) _links[i] = Channel.CreateUnbounded<int>(Options);
            _nodes = new Task[_links.Length];
            for (int i = 0; i < _links.Length; i++)
            {
                var (input, output) = (_links[i].Reader, _links[(i + 1) % _links.Length].Writer);
                _nodes[i] = Task.Run(() => Node(input, output, _done.Writer));
            }
        }

        public string Description => ".NET: tasks in a ring of unbounded single-reader/writer Channel<int> (ThreadPool)";
        public Sample RunOnce() => ThreadPoolMain.Run(Lap);

        public void Dispose()
        {
            foreach (var c in _links) c.Writer.Complete();
            Task.WaitAll(_nodes);
        }

        private static async Task Node(ChannelReader<int> input, ChannelWriter<int> output, ChannelWriter<bool> finished)
        {
            await foreach (var left in input.ReadAllAsync())
            {
                if (left == 0) await finished.WriteAsync(true);
                else await output.WriteAsync(left - 1);
            }
        }

        private async Task<Sample> Lap()
        {
            var region = Region.Start();
            await _links[0].Writer.WriteAsync(_hops);
            await _done.Reader.ReadAsync();
            return region.PerOp(_hops);
        }
    }
}
