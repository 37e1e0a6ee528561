// netecho (go/netecho/main.go): client and server goroutines echoing 64-byte messages over
// loopback TCP, in two phases per repetition:
//
//   latency     one connection, round trips one after the other, each timed (write 64 bytes,
//               read the 64 back): p50/p99/max in µs; the metric is the p50;
//   throughput  64 connections at once, each making its round trips: round trips per second over
//               the phase's wall time (the connections are dialled before it, untimed).
//
// The server accepts in one goroutine (task) and echoes each connection in its own: read up to 64
// bytes, write back what was read, until EOF. Every message carries its sequence number, checked
// when it comes back; echoes_ok counts those that did, so a report also proves that every echo
// arrived intact. Each repetition listens afresh and closes everything it opened, waiting for the
// server's goroutines to end.
//
// Why it is fair: the same program on the three systems, each with its platform's ordinary
// sockets: gosched's goroutine sockets (Net.cs: non-blocking sockets on the runtime's epoll,
// parking the goroutine on EAGAIN), .NET's System.Net.Sockets with async/await (its own epoll
// thread, continuations on the ThreadPool), Go's net package. TCP_NODELAY on every connection
// (Go's default; set explicitly on .NET). The clocks are monotonic on all three; percentiles from
// HdrHistogram here and at the same rank on the sorted samples in Go (bench.Percentile).
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace GoSched.Benchmarks.Workloads;

internal sealed class NetEcho() : Workload("netecho", "rtt_p50_us", "us")
{
    private const int MsgSize = 64;

    private readonly record struct Size(int LatencyRoundTrips, int Pairs, int PairRoundTrips)
    {
        public int Echoes => LatencyRoundTrips + Pairs * PairRoundTrips;
    }

    private static readonly Size Full = new(10_000, 64, 1_000), Quick = new(500, 8, 100);

    private static readonly (string Name, double Percentile)[] s_percentiles = [("p50", 50), ("p99", 99), ("max", 100)];

    private static Size SizeOf(bool quick) => quick ? Quick : Full;

    public override IReadOnlyDictionary<string, double> Parameters(bool quick)
    {
        var s = SizeOf(quick);
        return new Dictionary<string, double>
        {
            ["msg_bytes"] = MsgSize,
            ["latency_round_trips"] = s.LatencyRoundTrips,
            ["pairs"] = s.Pairs,
            ["pair_round_trips"] = s.PairRoundTrips,
        };
    }

    public override IEnumerable<string> BreakdownKeys => s_percentiles.Select(p => $"rtt_{p.Name}_us").Append(ThroughputKey);

    private const string ThroughputKey = "throughput_rt_per_s";

    /// <summary>The targets: round-trip p50 and throughput no worse than Go's in the same run.</summary>
    public override IEnumerable<TargetCheck> Targets(BenchReport r) =>
    [
        AtMost("netecho rtt p50 <= 1x Go", r.Breakdown?.GetValueOrDefault("rtt_p50_us")?.RatioGoschedGo, 1),
        AtLeast("netecho throughput >= 1x Go", r.Breakdown?.GetValueOrDefault(ThroughputKey)?.RatioGoschedGo, 1),
    ];

    public override IEnumerable<string> Notes(BenchReport r) =>
    [
        $"netecho: rtt = one 64-byte write and read back on 1 connection (µs, lower is better); {ThroughputKey} = round trips per second over {SizeOf(r.Quick).Pairs} connections at once (higher is better); see breakdown",
    ];

    public override ISide Gosched(BenchOptions o) =>
        OneGoroutine(o, "gosched: Net.Listen/Dial, Conn.Write + ReadFull, a goroutine per connection (epoll netpoller)", done => GoschedMain(SizeOf(o.Quick), done));

    public override ISide? Dotnet(BenchOptions o) =>
        OneTask(".NET: System.Net.Sockets Socket.SendAsync/ReceiveAsync with async/await, a task per connection (ThreadPool)", () => DotnetMain(SizeOf(o.Quick)));

    /// <summary>The repetition's figures: latency percentiles (µs), throughput, echoes that came back intact.</summary>
    private static Sample Figures(long[] latencies, double throughputWallNs, int roundTrips, int echoesOk, double? cpuPerWall)
    {
        var h = Latencies.Histogram(latencies);
        var extra = new Dictionary<string, double>();
        foreach (var (name, p) in s_percentiles) extra[$"rtt_{name}_us"] = Latencies.At(h, p) / 1e3;
        extra[ThroughputKey] = roundTrips / (throughputWallNs / 1e9);
        extra["echoes_ok"] = echoesOk;
        return new Sample(extra["rtt_p50_us"], null, Region.CpuExtra(cpuPerWall, extra));
    }

    /// <summary>Stamps message seq into buf (its first 8 bytes).</summary>
    private static void Stamp(byte[] buf, int seq) => BinaryPrimitives.WriteInt64LittleEndian(buf, seq);

    /// <summary>Whether buf came back carrying seq.</summary>
    private static bool Intact(byte[] buf, int seq) => BinaryPrimitives.ReadInt64LittleEndian(buf) == seq;

    private static InvalidOperationException Failed(string what, object err) => new($"netecho: {what}: {err}");

    // --- gosched ---

    private static async GoTask GoschedMain(Size size, Completion<Sample> done)
    {
        var (ln, lerr) = Net.Listen("127.0.0.1:0");
        if (lerr != null) throw Failed("listen", lerr);
        var served = new WaitGroup();
        served.Add(1);
        GoschedServe(ln, served);

        var (c, derr) = await Net.Dial(ln.Addr);
        if (derr != null) throw Failed("dial", derr);
        var buf = new byte[MsgSize];
        var latencies = new long[size.LatencyRoundTrips];
        int ok = 0;
        for (int i = 0; i < latencies.Length; i++)
        {
            long t0 = Go.Nanotime();
            bool intact = await GoschedRoundTrip(c, buf, i);
            latencies[i] = Go.Nanotime() - t0;
            if (intact) ok++;
        }
        c.Close();

        var conns = new Conn[size.Pairs];
        for (int i = 0; i < conns.Length; i++)
        {
            (conns[i], derr) = await Net.Dial(ln.Addr);
            if (derr != null) throw Failed("dial", derr);
        }
        var oks = new int[size.Pairs];
        var clients = new WaitGroup();
        clients.Add(size.Pairs);
        var region = Region.Start();
        for (int i = 0; i < conns.Length; i++) GoschedClient(conns[i], size.PairRoundTrips, oks, i, clients);
        await clients.Wait();
        var (wall, _, cpu) = region.Stop();
        foreach (var conn in conns) conn.Close();
        ln.Close();
        await served.Wait();
        done.Complete(Figures(latencies, wall, size.Pairs * size.PairRoundTrips, ok + oks.Sum(), cpu));
    }

    /// <summary>Accepts until the listener closes, a goroutine echoing each connection; served counts the accept loop and every echo goroutine.</summary>
    private static async GoTask GoschedServe(Listener ln, WaitGroup served)
    {
        while (true)
        {
            var (c, err) = await ln.Accept();
            if (err != null) break; // the listener was closed
            served.Add(1);
            GoschedEcho(c, served);
        }
        served.Done();
    }

    private static async GoTask GoschedEcho(Conn c, WaitGroup served)
    {
        var buf = new byte[MsgSize];
        while (true)
        {
            var (n, err) = await c.Read(buf);
            if (err != null) break;
            var (_, werr) = await c.Write(buf.AsMemory(0, n));
            if (werr != null) break;
        }
        c.Close();
        served.Done();
    }

    private static async GoFrame<bool> GoschedRoundTrip(Conn c, byte[] buf, int seq)
    {
        Stamp(buf, seq);
        var (_, werr) = await c.Write(buf);
        if (werr != null) throw Failed("write", werr);
        var (_, rerr) = await c.ReadFull(buf);
        if (rerr != null) throw Failed("read", rerr);
        return Intact(buf, seq);
    }

    private static async GoTask GoschedClient(Conn c, int roundTrips, int[] oks, int i, WaitGroup clients)
    {
        var buf = new byte[MsgSize];
        for (int k = 0; k < roundTrips; k++)
            if (await GoschedRoundTrip(c, buf, k)) oks[i]++;
        clients.Done();
    }

    // --- .NET ---

    private static async Task<Sample> DotnetMain(Size size)
    {
        using var ln = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        ln.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        ln.Listen(4096);
        var addr = (IPEndPoint)ln.LocalEndPoint!;
        var echoes = new List<Task>();
        var serve = DotnetServe(ln, echoes);

        var buf = new byte[MsgSize];
        var latencies = new long[size.LatencyRoundTrips];
        int ok = 0;
        using (var c = await DotnetDial(addr))
        {
            for (int i = 0; i < latencies.Length; i++)
            {
                long t0 = Measure.Now();
                bool intact = await DotnetRoundTrip(c, buf, i);
                latencies[i] = (long)Measure.ElapsedNs(t0, Measure.Now());
                if (intact) ok++;
            }
        }

        var conns = new Socket[size.Pairs];
        for (int i = 0; i < conns.Length; i++) conns[i] = await DotnetDial(addr);
        var region = Region.Start();
        var clients = conns.Select(c => DotnetClient(c, size.PairRoundTrips)).ToArray();
        var oks = await Task.WhenAll(clients);
        var (wall, _, cpu) = region.Stop();
        foreach (var c in conns) c.Dispose();
        ln.Close();
        await serve;
        Task[] all;
        lock (echoes) all = echoes.ToArray();
        await Task.WhenAll(all);
        return Figures(latencies, wall, size.Pairs * size.PairRoundTrips, ok + oks.Sum(), cpu);
    }

    private static async Task<Socket> DotnetDial(IPEndPoint addr)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(addr);
        return s;
    }

    /// <summary>Accepts until the listener closes, a task echoing each connection (collected in echoes).</summary>
    private static async Task DotnetServe(Socket ln, List<Task> echoes)
    {
        while (true)
        {
            Socket c;
            try { c = await ln.AcceptAsync(); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { return; } // the listener was closed
            c.NoDelay = true;
            lock (echoes) echoes.Add(DotnetEcho(c));
        }
    }

    private static async Task DotnetEcho(Socket c)
    {
        using (c)
        {
            var buf = new byte[MsgSize];
            try
            {
                while (true)
                {
                    int n = await c.ReceiveAsync(buf.AsMemory(), SocketFlags.None);
                    if (n == 0) break;
                    await DotnetSendAll(c, buf.AsMemory(0, n));
                }
            }
            catch (SocketException) { } // the peer reset the connection
        }
    }

    private static async ValueTask DotnetSendAll(Socket c, ReadOnlyMemory<byte> data)
    {
        while (data.Length > 0) data = data[await c.SendAsync(data, SocketFlags.None)..];
    }

    private static async ValueTask<bool> DotnetRoundTrip(Socket c, byte[] buf, int seq)
    {
        Stamp(buf, seq);
        await DotnetSendAll(c, buf);
        for (int got = 0; got < buf.Length;)
        {
            int n = await c.ReceiveAsync(buf.AsMemory(got), SocketFlags.None);
            if (n == 0) throw Failed("read", "EOF");
            got += n;
        }
        return Intact(buf, seq);
    }

    private static async Task<int> DotnetClient(Socket c, int roundTrips)
    {
        var buf = new byte[MsgSize];
        int ok = 0;
        for (int k = 0; k < roundTrips; k++)
            if (await DotnetRoundTrip(c, buf, k)) ok++;
        return ok;
    }
}
