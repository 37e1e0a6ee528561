// Network workloads: goroutines talking over real loopback TCP sockets, so that every wake-up
// goes through the netpoller (Netpoll.cs). The workload checks its own conservation and throws (a
// panic that ends the run with an error) if anything was lost, duplicated or corrupted, so a run
// that succeeds proves it.
using HdrHistogram;

namespace GoSched.Workloads;

/// <summary>Client/server goroutine pairs echoing messages over loopback: every read and write may park on the netpoller.</summary>
internal static class NetEcho
{
    /// <summary>Each message starts with its pair (int32) and round (int32); the rest is a pattern of both.</summary>
    private const int HeaderBytes = 8;

    public static readonly Workload Workload = new("netecho",
        "`pairs` client/server goroutine pairs on 127.0.0.1 (one listener, port 0); each client sends `rounds` messages of `size` bytes and checks each echo " +
        "(throws if a message is lost, duplicated or corrupted); reports round trips, round-trip p50/p99 and throughput",
        new WorkloadParam[]
        {
            new("pairs", ParamKind.Int, "8", "client/server goroutine pairs (one TCP connection each)", 1, 10_000),
            new("rounds", ParamKind.Int, "1000", "messages each client sends and waits for", 1, 100_000_000),
            new("size", ParamKind.Int, "64", "bytes per message (the first 8 say which pair and round)", HeaderBytes, 1 << 20),
        },
        Main);

    private sealed class Counts { public long Echoed, EchoedBytes, Checked; }

    private static async GoTask Main(WorkloadArgs a, WorkloadRun run)
    {
        int pairs = a.Int("pairs"), rounds = a.Int("rounds"), size = a.Int("size");
        var (ln, err) = Net.Listen("127.0.0.1:0");
        if (err != null) throw new InvalidOperationException($"netecho: {err}");
        var rtt = new LongConcurrentHistogram(1, Observability.Latency.HighestTrackableNs, 3);
        var counts = new Counts();
        var wg = new WaitGroup();
        wg.Add(2 * pairs + 1);
        long start = WorkloadRun.Now();
        Acceptor(ln, pairs, size, counts, wg);
        for (int i = 0; i < pairs; i++) Client(i, ln.Addr, rounds, size, rtt, counts, wg);
        await wg.Wait();
        long wall = WorkloadRun.Now() - start;
        ln.Close();
        long expected = (long)pairs * rounds;
        if (counts.Checked != expected || counts.Echoed != expected || counts.EchoedBytes != expected * size)
            throw new InvalidOperationException(
                $"netecho lost messages: {counts.Checked} echoes checked, {counts.Echoed} messages ({counts.EchoedBytes} bytes) echoed, of {expected} ({expected * size} bytes)");
        run.Report("round_trips", expected);
        run.Report("rtt_p50_us", rtt.GetValueAtPercentile(50) / 1e3);
        run.Report("rtt_p99_us", rtt.GetValueAtPercentile(99) / 1e3);
        run.Report("round_trips_per_s", expected / (wall / 1e9));
        run.Report("mb_per_s", 2.0 * expected * size / 1e6 / (wall / 1e9)); // both directions
        run.Report("wall_ms", wall / 1e6);
    }

    /// <summary>Accepts one connection per pair and starts its server.</summary>
    private static async GoTask Acceptor(Listener ln, int pairs, int size, Counts counts, WaitGroup wg)
    {
        for (int i = 0; i < pairs; i++)
        {
            var (c, err) = await ln.Accept();
            if (err != null) throw new InvalidOperationException($"netecho: accept: {err}");
            Server(c, size, counts, wg);
        }
        wg.Done();
    }

    /// <summary>Echoes whole messages until the client closes its side, then closes.</summary>
    private static async GoTask Server(Conn c, int size, Counts counts, WaitGroup wg)
    {
        var buf = new byte[size];
        while (true)
        {
            var (n, err) = await c.ReadFull(buf);
            if (err != null)
            {
                if (err.Kind != NetErrorKind.EOF || n != 0)
                    throw new InvalidOperationException($"netecho: server {c.RemoteAddr} read {n} of {size} bytes: {err}");
                break;
            }
            var (_, werr) = await c.Write(buf);
            if (werr != null) throw new InvalidOperationException($"netecho: server {c.RemoteAddr} write: {werr}");
            Interlocked.Increment(ref counts.Echoed);
            Interlocked.Add(ref counts.EchoedBytes, size);
        }
        c.Close();
        wg.Done();
    }

    /// <summary>Sends each round's message, checks the echo is that very message, and finally that nothing more comes back.</summary>
    private static async GoTask Client(int pair, string addr, int rounds, int size, LongConcurrentHistogram rtt, Counts counts, WaitGroup wg)
    {
        var (c, err) = await Net.Dial(addr);
        if (err != null) throw new InvalidOperationException($"netecho: client {pair}: {err}");
        var sent = new byte[size];
        var got = new byte[size];
        for (int k = 0; k < rounds; k++)
        {
            Fill(sent, pair, k);
            long t0 = WorkloadRun.Now();
            var (_, werr) = await c.Write(sent);
            if (werr != null) throw new InvalidOperationException($"netecho: client {pair} round {k} write: {werr}");
            var (n, rerr) = await c.ReadFull(got);
            if (rerr != null) throw new InvalidOperationException($"netecho: client {pair} round {k}: echo lost ({n} of {size} bytes, {rerr})");
            Observability.Latency.Record(rtt, WorkloadRun.Now() - t0);
            if (!got.AsSpan().SequenceEqual(sent))
            {
                int p = BitConverter.ToInt32(got, 0), r = BitConverter.ToInt32(got, 4);
                throw new InvalidOperationException((p, r) == (pair, k)
                    ? $"netecho: client {pair} round {k}: echo corrupted"
                    : $"netecho: client {pair} round {k}: got the message of pair {p} round {r} (lost, duplicated or crossed)");
            }
            Interlocked.Increment(ref counts.Checked);
        }
        // Nothing may follow the last echo: after CloseWrite the server ends and the client reads EOF.
        c.CloseWrite();
        var (extra, eof) = await c.Read(got);
        if (eof?.Kind != NetErrorKind.EOF)
            throw new InvalidOperationException($"netecho: client {pair}: {extra} bytes after the last echo (duplicated), {eof?.ToString() ?? "no EOF"}");
        c.Close();
        wg.Done();
    }

    private static void Fill(byte[] msg, int pair, int round)
    {
        BitConverter.TryWriteBytes(msg.AsSpan(0, 4), pair);
        BitConverter.TryWriteBytes(msg.AsSpan(4, 4), round);
        for (int i = HeaderBytes; i < msg.Length; i++) msg[i] = (byte)(pair * 31 + round * 7 + i);
    }
}
