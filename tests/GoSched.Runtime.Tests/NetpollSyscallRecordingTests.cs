// What a run records about the netpoller and system calls: the netpoll wake latency histogram
// counts exactly the goroutines netpoll readied, the hand-off counters count exactly the calls that
// hand Ps off, and the sampler's Ms-by-state, netpoll and syscall columns are sane. Behaviour and
// conservation only: no assertion on how long anything took (the machines are shared).
using GoSched.Observability;
using GoSched.Workloads;

namespace GoSched.Tests;

public class NetpollSyscallRecordingTests
{
    private static RunResult Run(string name, string knobs, params (string, string)[] args) => BlockingWorkloadsTests.Run(name, knobs, args);

    [Theory]
    [InlineData(1, "")]
    [InlineData(2, "")]
    [InlineData(4, "")]
    [InlineData(2, ",runqsize=4,randomizescheduler=1,seed=7")]
    [InlineData(3, ",randomizescheduler=1,seed=11")]
    public void TheWakeLatencyHistogramCountsExactlyTheGoroutinesNetpollReadied(int procs, string extra)
    {
        var r = Run("netecho", $"gomaxprocs={procs},sampleperiodus=500{extra}", ("pairs", "6"), ("rounds", "200"), ("size", "32"));
        var rec = r.Recording;

        var poll = Assert.IsType<NetpollCounters>(rec.Netpoll);
        var latency = Assert.IsAssignableFrom<HdrHistogram.LongHistogram>(rec.NetpollWakeLatency);
        Assert.True(poll.Readied > 0, "no goroutine was readied by netpoll in an echo run");
        // Every goroutine netpoll readied ran before the run ended (each finishes before main
        // returns), and each run after a netpoll wake is recorded once.
        Assert.Equal(poll.Readied, latency.TotalCount);
        Assert.InRange(poll.BlockingPolls, 0, poll.Polls);
        Assert.False(double.IsNaN(rec.NetpollWakeLatencyMs(50)));
        Assert.True(rec.NetpollWakeLatencyMs(50) <= rec.NetpollWakeLatencyMs(99));
    }

    [Fact]
    public void NetpollCountersOverTimeNeverFallAndEndAtTheRunsTotals()
    {
        var r = Run("netecho", "gomaxprocs=2,sampleperiodus=200", ("pairs", "4"), ("rounds", "300"));
        var samples = r.Recording.Samples;
        Assert.NotEmpty(samples);
        var polls = samples.Select(s => Assert.IsType<NetpollCounters>(s.Netpoll)).ToArray();
        for (int i = 1; i < polls.Length; i++)
        {
            Assert.True(polls[i].Polls >= polls[i - 1].Polls);
            Assert.True(polls[i].Readied >= polls[i - 1].Readied);
            Assert.True(polls[i].BlockingPolls >= polls[i - 1].BlockingPolls);
        }
        // The sampler's last reading is taken once every M has exited: the run's own totals.
        Assert.Equal(r.Recording.Netpoll, polls[^1]);
        Assert.All(samples, s => Assert.InRange(s.Machines!.Netpoll, 0, 1));
    }

    [Fact]
    public void WithoutTheNetworkNothingIsRecordedAsANetpollWake()
    {
        var r = Run("pingpong", "gomaxprocs=2,sampleperiodus=0", ("rounds", "200"));
        Assert.Equal(0, r.Recording.NetpollWakeLatency!.TotalCount);
        Assert.Equal(0, r.Recording.Netpoll!.Readied);
        Assert.True(double.IsNaN(r.Recording.NetpollWakeLatencyMs(50)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void HandoffCountersMatchTheCallsOfSyscallBlock(int procs)
    {
        const int blocking = 7, plain = 11, goroutines = 3;
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0"));
        var r = rt.Run(() => Main());
        r.EnsureSuccess();

        var sys = Assert.IsType<SyscallCounters>(r.Recording.Syscalls);
        Assert.Equal(goroutines * blocking, sys.BlockHandoffs);
        Assert.Equal(goroutines * (blocking + plain), sys.Syscalls);
        Assert.Equal(rt.SyscallRetakes, sys.SysmonRetakes);
        Assert.Equal(sys.BlockHandoffs + sys.SysmonRetakes, sys.Handoffs);

        async GoTask Main()
        {
            var wg = new WaitGroup();
            wg.Add(goroutines);
            for (int i = 0; i < goroutines; i++) Caller(wg);
            await wg.Wait();
        }

        async GoTask Caller(WaitGroup wg)
        {
            for (int k = 0; k < blocking; k++) await Go.SyscallBlock(() => Thread.Sleep(0));
            for (int k = 0; k < plain; k++) Assert.Equal(k, await Go.Syscall(() => k));
            wg.Done();
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    public void SyscallBlockRecordsItsHandoffsAndMsInSyscalls(string handoff)
    {
        var r = Run("syscall-block", "gomaxprocs=2,sampleperiodus=200",
            ("blockers", "3"), ("calls", "2"), ("block", "30ms"), ("work", "4ms"), ("handoff", handoff));
        var sys = r.Recording.Syscalls!;
        Assert.Equal(6, sys.Syscalls);
        Assert.Equal(handoff == "1" ? 6 : 0, sys.BlockHandoffs);
        Assert.Equal(r.Metrics["sysmon_retakes"], sys.SysmonRetakes);
        Assert.Equal(r.Metrics["handoffs"], sys.Handoffs);
        if (handoff == "0") Assert.True(sys.SysmonRetakes >= 1, "30 ms blocking calls were never retaken by sysmon (calls of a few ms can all fall between two of its ticks once it has backed off to 10 ms)");

        var samples = r.Recording.Samples;
        // 180 ms of blocking calls sampled every 200 µs: some sample sees an M in a system call.
        Assert.Contains(samples, s => s.Machines!.Syscall > 0);
        foreach (var s in samples)
        {
            var m = Assert.IsType<MachineCounts>(s.Machines);
            Assert.InRange(m.Running, 0, s.Gomaxprocs);
            Assert.InRange(m.Syscall, 0, 3);
            Assert.InRange(m.Spinning, 0, s.Threads);
            Assert.InRange(m.Idle, 0, s.Threads);
            Assert.InRange(m.IdleLocked, 0, s.Threads);
            Assert.InRange(m.Netpoll, 0, 1);
            Assert.Equal(s.Goroutines!.Syscall, m.Syscall);
        }
        var over = samples.Select(s => s.Syscalls!).ToArray();
        for (int i = 1; i < over.Length; i++)
        {
            Assert.True(over[i].Syscalls >= over[i - 1].Syscalls);
            Assert.True(over[i].Handoffs >= over[i - 1].Handoffs);
        }
        Assert.Equal(sys, over[^1]);
    }

    [Fact]
    public void AGoSchedtraceLogFillsTheTableWithoutTheNewColumns()
    {
        var rec = SchedTraceParser.Parse(new StringReader(
            "SCHED 0ms: gomaxprocs=2 idleprocs=0 threads=4 spinningthreads=0 idlethreads=1 runqueue=0 [1 2]\n"), "log");
        var s = Assert.Single(rec.Samples);
        Assert.Null(s.Machines);
        Assert.Null(s.Netpoll);
        Assert.Null(s.Syscalls);
        Assert.Null(rec.NetpollWakeLatency);
        Assert.Null(rec.Syscalls);
    }

    /// <summary>
    /// Every syscall exit advances the P's syscalltick (scheddetail's syscalltick=), the slow one
    /// too: Go's exitsyscall counts it on the P the goroutine resumes on once mcall(exitsyscall0)
    /// returns. At GOMAXPROCS=1 beside a CPU-bound goroutine, a retaken call comes back to no idle
    /// P and takes the slow path, which counted nothing: the tick ended at calls + retakes less the
    /// slow exits.
    /// </summary>
    [Fact]
    public void EverySyscallExitAdvancesTheSyscallTickTheSlowOneToo()
    {
        const int calls = 5;
        bool stop = false;
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        var r = rt.Run(() => Main(), TimeSpan.FromSeconds(30)).EnsureSuccess();
        long retakes = r.Recording.Syscalls!.SysmonRetakes;
        Assert.True(retakes >= 1, "no call was retaken: nothing took the slow path");
        Assert.Equal(calls + retakes, rt.AllP[0].SyscallTick);

        async GoTask Main()
        {
            var hogDone = new Chan<bool>();
            Hog(hogDone);
            for (int i = 0; i < calls; i++) await Go.Syscall(() => Thread.Sleep(20));
            Volatile.Write(ref stop, true);
            await hogDone.Recv();
        }

        async GoTask Hog(Chan<bool> done)
        {
            while (!Volatile.Read(ref stop)) await Go.Work(TimeSpan.FromMilliseconds(1));
            await done.Send(true);
        }
    }
}

public class NetEchoWorkloadTests
{
    [Theory]
    [InlineData(1, "3", "100", "8")]
    [InlineData(2, "8", "150", "64")]
    [InlineData(4, "5", "40", "70000")] // messages larger than the socket buffers: writes park too
    public void EveryMessageComesBackOnceAndTheFiguresAreReported(int procs, string pairs, string rounds, string size)
    {
        var r = WorkloadCatalog.Get("netecho").Run(GoConfig.Parse($"gomaxprocs={procs},sampleperiodus=0"),
            new Dictionary<string, string> { ["pairs"] = pairs, ["rounds"] = rounds, ["size"] = size }, TimeSpan.FromSeconds(90));
        Assert.True(r.Error == null, $"netecho: {r.Error}");

        Assert.Equal(int.Parse(pairs) * int.Parse(rounds), r.Metrics["round_trips"]);
        Assert.True(r.Metrics["rtt_p50_us"] > 0);
        Assert.True(r.Metrics["rtt_p50_us"] <= r.Metrics["rtt_p99_us"]);
        Assert.True(r.Metrics["round_trips_per_s"] > 0);
        Assert.True(r.Metrics["mb_per_s"] > 0);
        // Acceptor, servers and clients all ended; nothing is left open or waiting.
        Assert.Equal(2 * int.Parse(pairs) + 2, r.GoroutinesStarted);
        Assert.Equal(r.GoroutinesStarted, r.GoroutinesFinished);
    }

    [Fact]
    public void ItIsInTheCatalogueWithTypedParameters()
    {
        var w = WorkloadCatalog.Get("netecho");
        Assert.Equal(["pairs", "rounds", "size"], w.Parameters.Select(p => p.Name));
        Assert.Contains("between 8 and", Assert.Throws<WorkloadException>(() => w.Bind(new Dictionary<string, string> { ["size"] = "4" })).Message);
        Assert.Contains("not an integer", Assert.Throws<WorkloadException>(() => w.Bind(new Dictionary<string, string> { ["pairs"] = "x" })).Message);
    }
}
