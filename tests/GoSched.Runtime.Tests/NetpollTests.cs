using System.Net;
using System.Net.Sockets;

namespace GoSched.Tests;

/// <summary>
/// The network poller end to end on real loopback sockets: breaks, timers and readiness wake the
/// one blocked poller; no readiness is lost under randomised schedules; deadlines fire; errors are
/// values; stopping a runtime closes what it left open.
/// </summary>
[Collection(ProcessWideCollection.Name)] // counts the process's descriptors and threads
public class NetpollTests
{
    private static GoConfig Cfg(int procs, string extra = "") =>
        GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0" + (extra.Length > 0 ? "," + extra : ""));

    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

    [Theory]
    [InlineData(1, 1UL)]
    [InlineData(2, 2UL)]
    [InlineData(2, 3UL)]
    [InlineData(3, 4UL)]
    [InlineData(4, 5UL)]
    public void EchoOverManyConnectionsDeliversEveryMessageOnceUnderRandomSchedules(int procs, ulong seed)
    {
        const int conns = 40, rounds = 150;
        var echoed = new int[conns];
        long wrong = 0;
        using var rt = new GoRuntime(Cfg(procs, $"runqsize=4,randomizescheduler=1,seed={seed}"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(90));
        r.EnsureSuccess();
        Assert.Equal(0, wrong);
        Assert.All(echoed, e => Assert.Equal(rounds, e));
        Assert.Equal(0, Volatile.Read(ref rt.Poller.Waiters));
        Assert.Equal(0, rt.Poller.OpenCount);

        async GoTask Main()
        {
            var (ln, err) = Net.Listen("127.0.0.1:0");
            Assert.Null(err);
            var wg = new WaitGroup();
            wg.Add(2 * conns);
            Server(ln, wg);
            for (int i = 0; i < conns; i++) Client(i, ln.Addr, wg);
            await wg.Wait();
            Assert.Null(ln.Close());
        }

        async GoTask Server(Listener ln, WaitGroup wg)
        {
            for (int i = 0; i < conns; i++)
            {
                var (c, err) = await ln.Accept();
                Assert.Null(err);
                Echo(c, wg);
            }
        }

        async GoTask Echo(Conn c, WaitGroup wg)
        {
            var buf = new byte[8];
            while (true)
            {
                var (n, err) = await c.ReadFull(buf);
                if (err != null)
                {
                    Assert.Equal(NetErrorKind.EOF, err.Kind);
                    Assert.Equal(0, n);
                    break;
                }
                var (_, werr) = await c.Write(buf);
                Assert.Null(werr);
            }
            Assert.Null(c.Close());
            wg.Done();
        }

        async GoTask Client(int id, string addr, WaitGroup wg)
        {
            var (c, err) = await Net.Dial(addr);
            Assert.Null(err);
            var buf = new byte[8];
            for (int k = 0; k < rounds; k++)
            {
                long v = ((long)id << 32) | (uint)k;
                BitConverter.TryWriteBytes(buf, v);
                var (_, werr) = await c.Write(buf);
                Assert.Null(werr);
                var (n, rerr) = await c.ReadFull(buf);
                Assert.Null(rerr);
                Assert.Equal(8, n);
                if (BitConverter.ToInt64(buf) != v) Interlocked.Increment(ref wrong);
                else echoed[id]++;
                if (k % 16 == 0) await Go.Gosched();
            }
            Assert.Null(c.CloseWrite());
            Assert.Null(c.Close());
            wg.Done();
        }
    }

    [Fact]
    public async Task ABreakWakesTheBlockedPoller()
    {
        using var rt = new GoRuntime(Cfg(2));
        var accepted = new ManualResetEventSlim();
        string? addr = null;
        var run = rt.RunAsync(async () =>
        {
            var (ln, err) = Net.Listen("127.0.0.1:0");
            Assert.Null(err);
            Volatile.Write(ref addr, ln.Addr);
            var (c, aerr) = await ln.Accept(); // no timer anywhere: the poller blocks with no timeout
            Assert.Null(aerr);
            accepted.Set();
            c.Close();
            ln.Close();
        }, TimeSpan.FromSeconds(30));

        Assert.True(SpinWait.SpinUntil(() => BlockedInPoller(rt), TimeSpan.FromSeconds(10)), "no M blocked in netpoll");
        long polls = rt.Poller.BlockingPolls, breaks = rt.Poller.Breaks;
        rt.Poller.Break();
        Assert.True(SpinWait.SpinUntil(() => rt.Poller.BlockingPolls > polls && BlockedInPoller(rt), TimeSpan.FromSeconds(10)),
            "the poller did not come back from the break and block again");
        Assert.True(rt.Poller.Breaks > breaks);
        Assert.False(accepted.IsSet);

        // Readiness from outside the runtime wakes the same blocked poller.
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(IPEndPoint.Parse(Volatile.Read(ref addr)!));
        Assert.True(accepted.Wait(TimeSpan.FromSeconds(10)));
        (await run.WaitAsync(TimeSpan.FromSeconds(30))).EnsureSuccess();
    }

    [Fact]
    public void AtMostOneBreakIsPendingAndOnlyABlockingPollClearsIt()
    {
        using var rt = new GoRuntime(Cfg(1));
        var poller = new NetPoller(rt);
        try
        {
            poller.Netpoll(1); // a blocking poll initialises epoll and the eventfd
            Assert.True(poller.Inited);
            poller.Break();
            poller.Break(); // pending already: not written again
            Assert.Equal(1, poller.Breaks);
            Assert.True(poller.Netpoll(0).Empty); // a non-blocking poll sees the break and leaves it
            poller.Break();
            Assert.Equal(1, poller.Breaks);
            long t0 = Go.Nanotime();
            Assert.True(poller.Netpoll(-1).Empty); // would block forever without the pending break
            Assert.True(Go.Nanotime() - t0 < 5_000_000_000L);
            poller.Break(); // cleared by the blocking poll: signalled again
            Assert.Equal(2, poller.Breaks);
            t0 = Go.Nanotime();
            poller.Netpoll(-1);
            poller.Netpoll(2_000_000); // nothing pending: times out after 2 ms (nanosecond timeout)
            Assert.True(Go.Nanotime() - t0 >= 2_000_000);
        }
        finally { poller.Dispose(); }
    }

    private static bool BlockedInPoller(GoRuntime rt) =>
        Interlocked.Read(ref rt.SchedState.LastPoll) == 0 && Volatile.Read(ref rt.Poller.Waiters) > 0;

    [Fact]
    public async Task AnEarlierTimerBreaksAPollerSleepingUntilALaterOne()
    {
        using var rt = new GoRuntime(Cfg(2));
        long sleptNs = 0;
        var waiting = new ManualResetEventSlim();
        var go = new Chan<int>(1);
        var run = rt.RunAsync(async () =>
        {
            Later();
            waiting.Set();
            await go.Recv();
            long t0 = Go.Nanotime();
            await Go.Sleep(TimeSpan.FromMilliseconds(5));
            sleptNs = Go.Nanotime() - t0;
        }, TimeSpan.FromSeconds(60));

        static async GoTask Later() => await Go.Sleep(TimeSpan.FromSeconds(30));

        Assert.True(waiting.Wait(TimeSpan.FromSeconds(10)));
        Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref rt.SchedState.LastPoll) == 0 &&
            Interlocked.Read(ref rt.SchedState.PollUntil) != 0, TimeSpan.FromSeconds(10)), "no M sleeping in the poller until the 30 s timer");
        long breaks = rt.Poller.Breaks;
        rt.Go(async () => await go.Send(1)); // the 5 ms sleep is added while the poller sleeps until 30 s
        var result = await run.WaitAsync(TimeSpan.FromSeconds(20)); // else the 5 ms sleeper waited for the 30 s timer
        result.EnsureSuccess();
        Assert.InRange(sleptNs, 5_000_000, 5_000_000_000);
        Assert.True(rt.Poller.Breaks > breaks, "the earlier timer did not break the poller");
    }

    [Fact]
    public void DeadlinesEndReadAcceptAndWriteWithTimeoutErrors()
    {
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();

        static async GoTask Main()
        {
            var (ln, _) = Net.Listen("127.0.0.1:0");

            // Accept with a deadline and nobody dialling.
            long t0 = Go.Nanotime(); // before setting it: the deadline counts from SetDeadline
            Assert.Null(ln.SetDeadline(TimeSpan.FromMilliseconds(20)));
            var (_, aerr) = await ln.Accept();
            Assert.NotNull(aerr);
            Assert.True(aerr!.Timeout, aerr.Message);
            Assert.Contains("i/o timeout", aerr.Message);
            Assert.True(Go.Nanotime() - t0 >= 20_000_000);
            Assert.Null(ln.SetDeadline(null));

            var accepted = new Chan<Conn>(1);
            Acceptor(ln, accepted);
            var (c, derr) = await Net.Dial(ln.Addr);
            Assert.Null(derr);
            var s = await accepted.Recv();

            // Read with a deadline and no data; then the deadline moved: a later read works.
            t0 = Go.Nanotime();
            Assert.Null(c.SetReadDeadline(TimeSpan.FromMilliseconds(15)));
            var (n, rerr) = await c.Read(new byte[16]);
            Assert.Equal(0, n);
            Assert.True(rerr!.Timeout, rerr.Message);
            Assert.True(Go.Nanotime() - t0 >= 15_000_000);
            Assert.Null(c.SetReadDeadline(TimeSpan.FromSeconds(10)));
            await s.Write(new byte[] { 7 });
            var buf = new byte[1];
            (n, rerr) = await c.Read(buf);
            Assert.Null(rerr);
            Assert.Equal((1, (byte)7), (n, buf[0]));

            // A deadline already passed fails at once.
            Assert.Null(c.SetReadDeadline(TimeSpan.Zero));
            (_, rerr) = await c.Read(buf);
            Assert.True(rerr!.Timeout);
            Assert.Null(c.SetReadDeadline(null));

            // Write to a peer that never reads: the socket buffers fill, the write deadline ends it
            // part-way with the count written so far. The 64 MiB buffer is allocated before the
            // deadline is set, and the deadline is 200 ms, not 50: allocating (zeroing) it after
            // SetWriteDeadline, or the M being descheduled, could use up a short deadline on a
            // loaded machine before the first send, and a write whose deadline has passed writes
            // nothing (w = 0). The buffers hold a few MiB at most, so the write still ends part-way.
            var big = new byte[64 << 20];
            Assert.Null(c.SetWriteDeadline(TimeSpan.FromMilliseconds(200)));
            var (w, werr) = await c.Write(big);
            Assert.True(werr!.Timeout, werr.Message);
            Assert.InRange(w, 1, big.Length - 1);

            Assert.Null(c.Close());
            Assert.Null(s.Close());
            Assert.Null(ln.Close());
        }

        static async GoTask Acceptor(Listener ln, Chan<Conn> accepted)
        {
            var (c, err) = await ln.Accept();
            Assert.Null(err);
            await accepted.Send(c);
        }
    }

    [Fact]
    public void ErrorsAreValuesAGoroutineCanHandle()
    {
        using var rt = new GoRuntime(Cfg(2));
        rt.Run(() => Main(), TimeSpan.FromSeconds(60)).EnsureSuccess();

        static async GoTask Main()
        {
            // Refused: a port that was just freed.
            var (tmp, _) = Net.Listen("127.0.0.1:0");
            string freed = tmp.Addr;
            tmp.Close();
            var (_, err) = await Net.Dial(freed);
            Assert.Equal(NetErrorKind.Refused, err!.Kind);
            Assert.StartsWith("dial tcp", err.Message);
            Assert.Contains("connection refused", err.Message);

            // Not an address, and an address in use.
            (_, err) = await Net.Dial("nowhere");
            Assert.Equal(NetErrorKind.InvalidAddress, err!.Kind);
            var (ln, lerr) = Net.Listen("127.0.0.1:0");
            Assert.Null(lerr);
            var (_, inUse) = Net.Listen(ln.Addr);
            Assert.Equal(NetErrorKind.AddressInUse, inUse!.Kind);

            var accepted = new Chan<Conn>(1);
            Acceptor(ln, accepted);
            var (c, derr) = await Net.Dial(ln.Addr);
            Assert.Null(derr);
            var s = await accepted.Recv();

            // EOF once the peer closes its side; Closed after our own close, and on closing twice.
            Assert.Null(s.CloseWrite());
            var (n, rerr) = await c.Read(new byte[4]);
            Assert.Equal((0, NetErrorKind.EOF), (n, rerr!.Kind));
            Assert.Null(c.Close());
            (_, rerr) = await c.Read(new byte[4]);
            Assert.Equal(NetErrorKind.Closed, rerr!.Kind);
            Assert.Contains("use of closed network connection", rerr.Message);
            Assert.Equal(NetErrorKind.Closed, c.Close()!.Kind);

            Assert.Null(s.Close());

            // A reader parked in Read is woken with Closed when another goroutine closes the conn
            // (its peer stays open, so nothing else could end the read).
            Acceptor(ln, accepted);
            var (c2, derr2) = await Net.Dial(ln.Addr);
            Assert.Null(derr2);
            var s2 = await accepted.Recv();
            var done = new Chan<NetError?>(1);
            Reader(s2, done);
            await Go.Sleep(TimeSpan.FromMilliseconds(5));
            Assert.Null(s2.Close());
            Assert.Equal(NetErrorKind.Closed, (await done.Recv())!.Kind);
            Assert.Null(c2.Close());

            // The same for Accept on a closed listener.
            Acceptor2(ln, done);
            await Go.Sleep(TimeSpan.FromMilliseconds(5));
            Assert.Null(ln.Close());
            Assert.Equal(NetErrorKind.Closed, (await done.Recv())!.Kind);
        }

        static async GoTask Acceptor(Listener ln, Chan<Conn> accepted)
        {
            var (c, err) = await ln.Accept();
            Assert.Null(err);
            await accepted.Send(c);
        }

        static async GoTask Reader(Conn c, Chan<NetError?> done)
        {
            var (_, err) = await c.Read(new byte[4]);
            await done.Send(err);
        }

        static async GoTask Acceptor2(Listener ln, Chan<NetError?> done)
        {
            var (_, err) = await ln.Accept();
            await done.Send(err);
        }
    }

    [Fact]
    public async Task GoroutinesWaitingOnTheNetworkAreNotADeadlock()
    {
        using var rt = new GoRuntime(Cfg(1));
        string? addr = null;
        var run = rt.RunAsync(async () =>
        {
            var (ln, _) = Net.Listen("127.0.0.1:0");
            Volatile.Write(ref addr, ln.Addr);
            var (c, err) = await ln.Accept(); // the only goroutine, blocked on the network
            Assert.Null(err);
            var buf = new byte[5];
            var (n, rerr) = await c.ReadFull(buf);
            Assert.Null(rerr);
            Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buf, 0, n));
            c.Close();
            ln.Close();
        }, TimeSpan.FromSeconds(30));
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref addr) != null, TimeSpan.FromSeconds(10)));
        Thread.Sleep(200); // long enough for checkdead to have run if it were going to
        Assert.False(run.IsCompleted, run.IsCompleted ? (await run).Error?.Message : "");
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            client.Connect(IPEndPoint.Parse(addr!));
            client.Send("hello"u8);
            (await run.WaitAsync(TimeSpan.FromSeconds(20))).EnsureSuccess();
        }
    }

    [Fact]
    public void StoppingARuntimeWithOpenSocketsClosesThemAndEndsEveryThread()
    {
        int before = OpenFds();
        var rt = new GoRuntime(Cfg(2));
        rt.Start();
        var ready = new CountdownEvent(1);
        rt.Go(async () =>
        {
            var (ln, _) = Net.Listen("127.0.0.1:0");
            var conns = new List<Conn>();
            for (int i = 0; i < 8; i++)
            {
                Acceptor(ln);
                var (c, err) = await Net.Dial(ln.Addr);
                Assert.Null(err);
                conns.Add(c);
                Reader(c);
            }
            ready.Signal();
            await Go.Sleep(TimeSpan.FromSeconds(60));
            GC.KeepAlive(conns);
        });
        Assert.True(ready.Wait(TimeSpan.FromSeconds(20)));
        Assert.True(SpinWait.SpinUntil(() => rt.Poller.OpenCount == 1 + 8 + 8, TimeSpan.FromSeconds(10)), $"{rt.Poller.OpenCount} open");
        Assert.True(OpenFds() >= before + 17 + 2, "sockets, epoll and eventfd");
        rt.Dispose();
        Assert.Equal(0, rt.ThreadsAlive);
        Assert.Equal(0, rt.Poller.OpenCount);
        Assert.True(SpinWait.SpinUntil(() => OpenFds() <= before, TimeSpan.FromSeconds(10)), $"{OpenFds()} descriptors open, {before} before");

        static async GoTask Acceptor(Listener ln)
        {
            var (c, err) = await ln.Accept();
            if (err == null) await c.Read(new byte[1]); // parked until the runtime stops
        }

        static async GoTask Reader(Conn c) => await c.Read(new byte[1]);
    }

    /// <summary>
    /// sysmon polls the network when nobody has for 10 ms (sysmon in proc.go): with the only P kept
    /// busy by CPU-bound goroutines that yield only when preempted (to the global queue, which
    /// findRunnable takes before it would poll) and no M blocked in the poller, a goroutine whose
    /// socket becomes readable is readied by sysmon's poll while they still run, not after them.
    /// </summary>
    [Fact]
    public async Task SysmonPollsTheNetworkWhileEveryPIsBusy()
    {
        using var rt = new GoRuntime(Cfg(1));
        string? addr = null;
        int readerParking = 0, burning = 0, readerDone = 0, burnerGaveUp = 0;
        var run = rt.RunAsync(() => Main(), TimeSpan.FromSeconds(60));

        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref addr) != null || run.IsCompleted, TimeSpan.FromSeconds(20)), "no listener");
        // Connect once main is parked in Accept: with every P idle and no timer, sysmon is in its
        // deep sleep, and the M blocked in the poller takes the P itself when the connection comes
        // (no startm). That must wake sysmon too, or nothing preempts the burners nor polls.
        Thread.Sleep(100);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(IPEndPoint.Parse(Volatile.Read(ref addr)!));
        Assert.True(SpinWait.SpinUntil(() => (Volatile.Read(ref readerParking) == 1 && Volatile.Read(ref burning) == 2) || run.IsCompleted, TimeSpan.FromSeconds(20)), "reader and burners did not start");
        Thread.Sleep(50); // the reader parks in its Read; the burners own the P
        long readiedBefore = rt.SysmonNetpollReadied;
        client.Send(new byte[] { 42 });

        var r = await run;
        Assert.True(r.Error == null, r.Error?.ToString());
        Assert.Equal(1, readerDone);
        Assert.True(burnerGaveUp == 0, "the reader ran only once the burners had given up: nobody polled the network while the P was busy");
        Assert.True(rt.SysmonNetpollReadied > readiedBefore, "sysmon's poll readied nobody");

        async GoTask Main()
        {
            var (ln, lerr) = Net.Listen("127.0.0.1:0");
            Assert.Null(lerr);
            Volatile.Write(ref addr, ln.Addr);
            var (c, err) = await ln.Accept();
            Assert.Null(err);
            var wg = new WaitGroup();
            wg.Add(3);
            Reader(c, wg);
            Burner(wg);
            Burner(wg);
            await wg.Wait();
            c.Close();
            ln.Close();
        }

        async GoTask Reader(Conn c, WaitGroup wg)
        {
            Volatile.Write(ref readerParking, 1);
            var (n, err) = await c.Read(new byte[1]);
            Assert.Null(err);
            Assert.Equal(1, n);
            Volatile.Write(ref readerDone, 1);
            wg.Done();
        }

        async GoTask Burner(WaitGroup wg)
        {
            Interlocked.Increment(ref burning);
            long deadline = Go.Nanotime() + 15_000_000_000;
            while (Volatile.Read(ref readerDone) == 0)
            {
                if (Go.Nanotime() > deadline) { Volatile.Write(ref burnerGaveUp, 1); break; }
                await Go.Work(TimeSpan.FromMilliseconds(5));
            }
            wg.Done();
        }
    }
}
