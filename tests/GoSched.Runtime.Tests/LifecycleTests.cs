// Start and stop: a runtime is an object that a notebook kernel creates, runs and drops many times
// in one process. Stopping must end every thread the runtime started (its Ms and its sampler),
// whatever its goroutines are doing (blocked, or in the middle of Go.Work), and must drop
// everything they held, so that 200 cycles leave neither threads nor memory behind. Two runtimes
// in one process are independent.
//
// Thread and memory counts are process-wide, so these tests run in a collection that xunit runs
// alone (ProcessWideCollection): no other test's threads or allocations are counted.
using System.Diagnostics;

namespace GoSched.Tests;

/// <summary>Tests that read process-wide counts (threads, heap, thread-pool work items) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "process-wide measurements";
}

/// <summary>Heap bytes a goroutine program allocates per round, process-wide (run in ProcessWideCollection).</summary>
internal static class ProcessAllocations
{
    /// <summary>
    /// Runs main(rounds) at GOMAXPROCS=1 for 50,000 rounds (JIT tiers, free lists), then for
    /// 50,000 and 250,000: the difference per extra round is what the rounds themselves cost; the
    /// runtime's fixed cost (Ps, Ms, the recording's histograms) cancels out.
    /// </summary>
    public static double PerRound(Func<int, GoTask> main)
    {
        long Allocated(int rounds)
        {
            using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
            long before = GC.GetTotalAllocatedBytes(precise: true);
            rt.Run(() => main(rounds), TimeSpan.FromSeconds(60)).EnsureSuccess();
            return GC.GetTotalAllocatedBytes(precise: true) - before;
        }
        Allocated(50_000);
        return (Allocated(250_000) - Allocated(50_000)) / 200_000.0;
    }
}

/// <summary>Threads of this process, as the OS sees them.</summary>
internal static class ProcessThreads
{
    public static int Count()
    {
        using var p = Process.GetCurrentProcess();
        return p.Threads.Count;
    }

    /// <summary>
    /// Names of the live OS threads whose name starts with <paramref name="prefix"/> (Linux: the
    /// names .NET gives threads, truncated to 15 characters, in /proc/self/task/*/comm). Empty
    /// where /proc is not available.
    /// </summary>
    public static List<string> Named(Func<string, bool> match)
    {
        var names = new List<string>();
        if (!Directory.Exists("/proc/self/task")) return names;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string name = File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n');
                if (match(name)) names.Add(name);
            }
            catch (IOException) { } // the thread exited while we listed
        }
        return names;
    }

    /// <summary>The OS-level name prefix of runtime <paramref name="id"/>'s threads ("gosched-12-M0", "gosched-12-sam…").</summary>
    public static string PrefixOf(int id) => $"gosched-{id}-";

    /// <summary>Waits (up to a generous bound: threads end asynchronously) until <paramref name="done"/> holds.</summary>
    public static bool Eventually(Func<bool> done)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(20)) return false;
            Thread.Sleep(10);
        }
        return true;
    }
}

[Collection(ProcessWideCollection.Name)]
public class LifecycleTests
{
    /// <summary>
    /// After Stop: the runtime counts no live thread, every M's thread has ended, and the OS lists
    /// no thread with the runtime's name.
    /// </summary>
    private static void AssertAllThreadsEnded(GoRuntime rt)
    {
        Assert.False(rt.IsRunning);
        Assert.Equal(0, rt.ThreadsAlive);
        Assert.Equal(0, rt.Stats().ThreadsAlive);
        foreach (var m in rt.AllMSnapshot())
            Assert.True(m.Thread!.Join(TimeSpan.FromSeconds(20)), $"M{m.Id} of runtime {rt.Id} still runs");
        string prefix = ProcessThreads.PrefixOf(rt.Id);
        Assert.True(ProcessThreads.Eventually(() => ProcessThreads.Named(n => n.StartsWith(prefix)).Count == 0),
            $"threads left: {string.Join(", ", ProcessThreads.Named(n => n.StartsWith(prefix)))}");
    }

    /// <summary>One cycle: a runtime runs a few goroutines to the end and stops. Returns its id.</summary>
    private static int Cycle(int i)
    {
        // Half the cycles run the sampler thread too, so its stop is counted as well.
        var cfg = GoConfig.Parse($"gomaxprocs={1 + i % 4},sampleperiodus={(i % 2 == 0 ? 0 : 200)}");
        int sum = 0;
        using var rt = new GoRuntime(cfg);
        var r = rt.Run(() => FewGoroutines(v => sum = v), TimeSpan.FromSeconds(60));
        Assert.True(r.Succeeded, $"cycle {i}: {r.Error}");
        Assert.Equal(Enumerable.Range(0, 8).Sum(k => k * 10), sum);
        Assert.Equal(0, rt.ThreadsAlive);
        return rt.Id;
    }

    private static async GoTask FewGoroutines(Action<int> report)
    {
        var results = new Chan<int>(2);
        var wg = new WaitGroup();
        wg.Add(8);
        for (int k = 0; k < 8; k++) Tenfold(k, results, wg);
        int sum = 0;
        for (int k = 0; k < 8; k++) sum += await results.Recv();
        await wg.Wait();
        await Go.Sleep(TimeSpan.FromMicroseconds(100)); // a timer: the runtime's poller (epoll, eventfd) opens
        report(sum);
    }

    private static async GoTask Tenfold(int k, Chan<int> results, WaitGroup wg)
    {
        await Go.Gosched();
        await results.Send(k * 10);
        wg.Done();
    }

    [Fact]
    public void TwoHundredStartStopCyclesLeaveNoThreadAndNoGrowingMemory()
    {
        const int warmup = 20, cycles = 200;
        for (int i = 0; i < warmup; i++) Cycle(i);
        long heapBefore = Heap();
        int threadsBefore = ProcessThreads.Count();
        int fdsBefore = OpenFds();

        var ids = new List<int>();
        for (int i = 0; i < cycles; i++) ids.Add(Cycle(i));

        var prefixes = ids.Select(ProcessThreads.PrefixOf).ToArray();
        bool Ours(string name) => prefixes.Any(name.StartsWith);
        Assert.True(ProcessThreads.Eventually(() => ProcessThreads.Named(Ours).Count == 0),
            $"threads of stopped runtimes still alive: {string.Join(", ", ProcessThreads.Named(Ours))}");
        // A few threads of the host (thread-pool workers, the test host's) may come and go meanwhile.
        const int threadSlack = 4;
        Assert.True(ProcessThreads.Eventually(() => ProcessThreads.Count() <= threadsBefore + threadSlack),
            $"{ProcessThreads.Count()} threads after {cycles} cycles, {threadsBefore} before");

        // Each runtime's poller (an epoll and an eventfd) is closed with it.
        Assert.True(ProcessThreads.Eventually(() => OpenFds() <= fdsBefore + threadSlack),
            $"{OpenFds()} descriptors open after {cycles} cycles, {fdsBefore} before");

        // A runtime kept alive holds its Ps, Ms, Gs, channels and recording: tens of KiB, so 200
        // of them would be megabytes. Measured here: 20-30 KiB of growth in all (the heap's noise).
        long heapAfter = Heap();
        Assert.True(heapAfter - heapBefore < 512 << 10,
            $"managed heap grew by {(heapAfter - heapBefore) / 1024} KiB over {cycles} cycles ({heapBefore / 1024} -> {heapAfter / 1024} KiB)");

        static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;

        static long Heap()
        {
            for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
            return GC.GetTotalMemory(forceFullCollection: true);
        }
    }

    [Fact]
    public void StoppingWithBlockedGoroutinesEndsEveryThread()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=200")).Start();
        var never = new TaskCompletionSource<int>(); // keeps checkdead quiet: a wait on the outside world
        var c = new Chan<int>();
        var full = new Chan<int>(1);
        var mu = new Mutex();
        var wg = new WaitGroup();
        wg.Add(1);
        const int blockers = 7;

        rt.Go(() => AwaitsForever(never.Task));
        rt.Go(() => Receives(c));
        rt.Go(() => FillsThenSends(full));
        rt.Go(() => HoldsThenLocks(mu));
        rt.Go(() => WaitsOn(wg));
        rt.Go(() => SelectsOn(c, full));
        rt.Go(() => SelectsOnNothing());

        Assert.True(ProcessThreads.Eventually(() => Waiting(rt) == blockers), $"{Waiting(rt)} of {blockers} goroutines parked");
        rt.Stop();
        Assert.Null(rt.Error); // stopped by us, not by checkdead
        AssertAllThreadsEnded(rt);

        static async GoTask AwaitsForever(Task<int> t) => await Go.Await(t);
        static async GoTask Receives(Chan<int> c) => await c.Recv();
        static async GoTask FillsThenSends(Chan<int> c) { await c.Send(1); await c.Send(2); }
        static async GoTask HoldsThenLocks(Mutex mu) { await mu.Lock(); await mu.Lock(); }
        static async GoTask WaitsOn(WaitGroup wg) => await wg.Wait();
        static async GoTask SelectsOn(Chan<int> a, Chan<int> b)
        {
            var sel = Go.Select();
            sel.Recv(a);
            sel.Send(b, 3);
            await sel;
        }
        static async GoTask SelectsOnNothing() => await Go.Select();
    }

    private static int Waiting(GoRuntime rt)
    {
        int n = 0;
        foreach (var g in rt.AllGs()) if (g.Status == GStatus.Waiting) n++;
        return n;
    }

    [Fact]
    public void StopEndsGoroutinesInTheMiddleOfGoWork()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")).Start();
        int working = 0, finished = 0;
        for (int i = 0; i < 4; i++) rt.Go(() => Works());

        // Both Ps are inside Go.Work (a 10-minute job each) when Stop comes.
        Assert.True(ProcessThreads.Eventually(() => Volatile.Read(ref working) >= 2));
        rt.Stop(); // throws if a thread is still running after its 10 s grace
        Assert.Null(rt.Error);
        Assert.Equal(0, Volatile.Read(ref finished));
        AssertAllThreadsEnded(rt);

        async GoTask Works()
        {
            Interlocked.Increment(ref working);
            await Go.Work(TimeSpan.FromMinutes(10));
            Interlocked.Increment(ref finished);
        }
    }

    [Fact]
    public async Task TwoRuntimesSideBySideDoNotInterfere()
    {
        using var a = new GoRuntime(GoConfig.Parse("gomaxprocs=2,runqsize=4,sampleperiodus=0"));
        using var b = new GoRuntime(GoConfig.Parse("gomaxprocs=3,sampleperiodus=200"));
        var ledgerA = new SideLedger(a.Id);
        var ledgerB = new SideLedger(b.Id);

        var runA = a.RunAsync(() => Fanout(ledgerA), TimeSpan.FromSeconds(60));
        var runB = b.RunAsync(() => Fanout(ledgerB), TimeSpan.FromSeconds(60));
        var ra = await runA;
        var rb = await runB;

        Assert.True(ra.Succeeded, $"A: {ra.Error}");
        Assert.True(rb.Succeeded, $"B: {rb.Error}");
        ledgerA.AssertConserved();
        ledgerB.AssertConserved();
        Assert.Equal(SideLedger.Goroutines + 2, ra.GoroutinesStarted); // + main and its drain
        Assert.Equal(SideLedger.Goroutines + 2, rb.GoroutinesStarted);
        AssertAllThreadsEnded(a);
        AssertAllThreadsEnded(b);
    }

    [Fact]
    public void StoppingOneRuntimeLeavesTheOtherRunning()
    {
        using var a = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")).Start();
        var quit = new Chan<int>(); // int like ping: see SelectLockOrderTests for why not bool
        long rounds = 0;
        using var aDone = new ManualResetEventSlim();
        a.Go(() => PingPong(quit, () => Interlocked.Increment(ref rounds), aDone));

        // B starts, runs a workload to the end and stops while A's goroutines keep playing.
        Assert.True(ProcessThreads.Eventually(() => Interlocked.Read(ref rounds) > 0));
        using (var b = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0")))
        {
            var ledger = new SideLedger(b.Id);
            var rb = b.Run(() => Fanout(ledger), TimeSpan.FromSeconds(60));
            Assert.True(rb.Succeeded, $"B: {rb.Error}");
            ledger.AssertConserved();
            AssertAllThreadsEnded(b);
        }
        long afterB = Interlocked.Read(ref rounds);
        Assert.True(ProcessThreads.Eventually(() => Interlocked.Read(ref rounds) > afterB + 100), "A stopped playing when B stopped");
        Assert.True(a.IsRunning);

        quit.Close(); // close is callable from any thread
        Assert.True(aDone.Wait(TimeSpan.FromSeconds(60)));
        a.Stop();
        Assert.Null(a.Error);
        AssertAllThreadsEnded(a);

        static async GoTask PingPong(Chan<int> quit, Action round, ManualResetEventSlim done)
        {
            var ping = new Chan<int>();
            var pong = new Chan<int>();
            Echo(ping, pong);
            while (true)
            {
                var sel = Go.Select();
                var q = sel.Recv(quit);
                sel.Send(ping, 1);
                if (await sel == q.Index) break;
                await pong.Recv();
                round();
            }
            ping.Close();
            done.Set();
        }

        static async GoTask Echo(Chan<int> ping, Chan<int> pong)
        {
            while (true)
            {
                var (v, ok) = await ping.RecvOk();
                if (!ok) return;
                await pong.Send(v);
            }
        }
    }

    /// <summary>Per-goroutine counts of one runtime, and whether each ran on that runtime's threads.</summary>
    private sealed class SideLedger(int runtimeId)
    {
        public const int Goroutines = 2_000;
        private readonly int[] _ran = new int[Goroutines];
        private int _foreignThreads;
        private string? _firstForeign;
        private readonly string _prefix = $"gosched-{runtimeId}-M";

        public void Ran(int i)
        {
            Interlocked.Increment(ref _ran[i]);
            string? name = Thread.CurrentThread.Name;
            if (name == null || !name.StartsWith(_prefix))
                if (Interlocked.Increment(ref _foreignThreads) == 1) _firstForeign = name ?? "(unnamed)";
        }

        public void AssertConserved()
        {
            for (int i = 0; i < Goroutines; i++) Assert.True(_ran[i] == 1, $"goroutine {i} ran {_ran[i]} times");
            Assert.True(_foreignThreads == 0, $"{_foreignThreads} goroutines ran outside {_prefix}*, first on {_firstForeign}");
        }
    }

    private static async GoTask Fanout(SideLedger l)
    {
        var wg = new WaitGroup();
        wg.Add(SideLedger.Goroutines);
        var c = new Chan<int>(4);
        for (int i = 0; i < SideLedger.Goroutines; i++) Worker(l, i, c, wg);
        Drain(c);
        await wg.Wait();
        c.Close();

        static async GoTask Worker(SideLedger l, int i, Chan<int> c, WaitGroup wg)
        {
            l.Ran(i);
            await c.Send(i);
            if (i % 3 == 0) await Go.Work(TimeSpan.FromMicroseconds(20));
            wg.Done();
        }

        static async GoTask Drain(Chan<int> c)
        {
            while ((await c.RecvOk()).Ok) { }
        }
    }

    private static volatile bool s_release;
    private static volatile bool s_hogRunning;
    private static int s_hogResumed;
    private static int s_received;

    /// <summary>
    /// The timeout bounds the whole of Run, the stop included: main never awaits, so the stop
    /// cannot end it, and Run still returns within the timeout (it took the timeout plus a 2 s
    /// stop wait before), saying which M and goroutine it left running.
    /// </summary>
    [Fact]
    public void ARunWhoseGoroutineNeverAwaitsTimesOutWithinItsTimeoutAndSaysItsThreadIsStillRunning()
    {
        s_release = false;
        var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        var timeout = TimeSpan.FromSeconds(3);
        try
        {
            var sw = Stopwatch.StartNew();
            var r = rt.Run(() => Hog(), timeout);
            var took = sw.Elapsed;
            var e = Assert.IsType<TimeoutException>(r.Error);
            Assert.Contains("timed out: the run did not finish within 2.7s (its 3s timeout, less 300ms kept to stop its threads); " +
                "a goroutine that never awaits kept its thread running (see the warning)", e.Message);
            // What was left running is said once, in the warning (a summary prints the error and the warnings).
            Assert.DoesNotContain("cannot be preempted", e.Message);
            string warning = Assert.Single(r.Warnings);
            Assert.Contains("(goroutine 1)", warning);
            Assert.Contains("cannot be preempted", warning);
            // Generous for a loaded machine, and still below the timeout plus the 2 s stop wait it took before.
            Assert.True(took < timeout + TimeSpan.FromSeconds(1), $"Run took {took.TotalSeconds:0.###} s with a timeout of {timeout.TotalSeconds} s");
        }
        finally
        {
            s_release = true; // the hog returns, and its M exits
        }
        Assert.True(ProcessThreads.Eventually(() => rt.ThreadsAlive == 0), "the hog's M did not exit once it returned");

        static async GoTask Hog()
        {
            long x = 0;
            while (!s_release) x++; // never awaits: cannot be preempted
            GC.KeepAlive(x);
            await Go.Gosched();
        }
    }

    /// <summary>
    /// Main returning is success, as Go's exit(0), even beside a goroutine that never awaits: Run
    /// returns after a short wait (it waited 10 s and reported a TimeoutException), its error is
    /// null and its warning names the M and goroutine left running. A later runtime in the same
    /// process runs normally meanwhile, and the abandoned thread leaves at the goroutine's next
    /// await, whose continuation never runs.
    /// </summary>
    [Fact]
    public void MainReturningBesideAGoroutineThatNeverAwaitsIsSuccessAndRunSaysWhatItLeftRunning()
    {
        s_release = false;
        s_hogRunning = false;
        s_hogResumed = 0;
        s_received = 0;
        var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        try
        {
            var sw = Stopwatch.StartNew();
            var r = rt.Run(() => Main(), TimeSpan.FromSeconds(60));
            var took = sw.Elapsed;
            Assert.Null(r.Error);
            Assert.True(r.Succeeded);
            string warning = Assert.Single(r.Warnings);
            Assert.Matches(@"the run ended, but M\d+ \(goroutine 2\) still ran goroutine code 2 s later", warning);
            Assert.Contains("cannot be preempted", warning);
            Assert.Contains("exits at the goroutine's next runtime await or return", warning);
            Assert.True(took < TimeSpan.FromSeconds(8), $"Run took {took.TotalSeconds:0.###} s"); // 10 s and more before
            Assert.False(rt.IsRunning);
            Assert.Equal(1, rt.ThreadsAlive); // the hog's M, and nothing else

            // Another runtime in the same process is unaffected.
            using var rt2 = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
            var r2 = rt2.Run(() => Transfer(1000), TimeSpan.FromSeconds(60));
            Assert.Null(r2.Error);
            Assert.Empty(r2.Warnings);
            Assert.Equal(2, r2.GoroutinesStarted);
            Assert.Equal(1000, Volatile.Read(ref s_received));
            Assert.Equal(0, rt2.ThreadsAlive);
        }
        finally
        {
            s_release = true; // the hog awaits: its M leaves
        }
        Assert.True(ProcessThreads.Eventually(() => rt.ThreadsAlive == 0), "the hog's M did not exit at its next await");
        Assert.True(ProcessThreads.Eventually(() => ProcessThreads.Named(n => n.StartsWith(ProcessThreads.PrefixOf(rt.Id))).Count == 0));
        Assert.Equal(0, Volatile.Read(ref s_hogResumed));

        static async GoTask Main()
        {
            Hog();
            while (!s_hogRunning) await Go.Sleep(TimeSpan.FromMilliseconds(1));
        }

        static async GoTask Hog()
        {
            s_hogRunning = true;
            long x = 0;
            while (!s_release) x++; // never awaits: cannot be preempted
            GC.KeepAlive(x);
            await Go.Gosched();
            Interlocked.Increment(ref s_hogResumed); // the runtime has stopped: never resumed
        }

        static async GoTask Transfer(int n)
        {
            var ch = new Chan<int>();
            Producer(ch, n);
            await Count(ch);
        }

        static async GoFrame Count(Chan<int> ch)
        {
            while ((await ch.RecvOk()).Ok) Interlocked.Increment(ref s_received);
        }

        static async GoTask Producer(Chan<int> ch, int n)
        {
            for (int i = 0; i < n; i++) await ch.Send(i);
            ch.Close();
        }
    }
}
