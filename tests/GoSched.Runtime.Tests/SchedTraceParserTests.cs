using System.Text.RegularExpressions;
using GoSched.Observability;

namespace GoSched.Tests;

/// <summary>
/// SchedTraceParser on the real Go 1.19 captures in datasets/go/captures (copied next to the test
/// assembly), on malformed input, and SchedTraceFormat round trips.
/// </summary>
public class SchedTraceParserTests
{
    private static readonly string s_captures = Path.Combine(AppContext.BaseDirectory, "captures");

    public static TheoryData<string> Captures()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(s_captures, "*.log").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void SchedTrace_EveryWorkloadIsCapturedAtGomaxprocs2And4WithAndWithoutDetail()
    {
        var names = Directory.GetFiles(s_captures, "*.log").Select(Path.GetFileNameWithoutExtension).ToHashSet();
        foreach (var w in new[] { "fanout", "imbalance" })
            foreach (var p in new[] { 2, 4 })
            {
                Assert.Contains($"{w}-gomaxprocs{p}", names);
                Assert.Contains($"{w}-gomaxprocs{p}-schedtrace", names);
            }
    }

    /// <summary>
    /// Our schedtrace reads as Go 1.19's: the first line at once (0 ms in Go), threads= counting sysmon's
    /// thread as mcount counts sysmon's M, and the M lines of a detail block newest first (allm).
    /// </summary>
    /// <remarks>
    /// Two runs, so that no assertion rests on how soon a thread is scheduled. "At once" is judged
    /// against a 10 s period: a first line one period after the start would say 10000 ms or more,
    /// while the sampler's own start may be late on a loaded machine (seen: the first line of a
    /// 50 ms trace at 520 ms, its thread first scheduled after the whole 80 ms run had ended, so
    /// that "&lt; 50 ms" failed and the run left a single line). The thread counts and M order are
    /// read from a 50 ms trace whose goroutines keep working until a line has shown the two Ms
    /// running them (bounded by 30 s), not for a fixed 40 ms that may end before any line.
    /// </remarks>
    [Fact]
    public void SchedTrace_OwnLinesFollowGosConventions()
    {
        using (var first = new GoRuntime(GoConfig.Parse("gomaxprocs=2,schedtrace=10000,sampleperiodus=0")))
        {
            var r0 = first.Run(() => UntilFirstLine(), TimeSpan.FromSeconds(60));
            r0.EnsureSuccess();
            var line0 = r0.Recording.SchedTrace.First(l => l.StartsWith("SCHED ", StringComparison.Ordinal));
            // The first line as soon as the sampler runs, not one period (10 s) after the start.
            Assert.True(int.Parse(Regex.Match(line0, @"^SCHED (\d+)ms: gomaxprocs=2 ").Groups[1].Value) < 10_000, line0);
        }

        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,schedtrace=50,scheddetail=1,sampleperiodus=0"));
        var r = rt.Run(() => Busy(), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        var sched = r.Recording.SchedTrace.Where(l => l.StartsWith("SCHED ", StringComparison.Ordinal)).ToArray();
        var threads = sched.Select(l => int.Parse(Regex.Match(l, @" threads=(\d+) ").Groups[1].Value)).ToArray();
        Assert.All(threads, t => Assert.True(t >= 1, "sysmon's thread is always counted"));
        Assert.Contains(threads, t => t >= 3); // two Ms ran the busy goroutines, plus sysmon
        // Within each detail block, M ids go down.
        var block = new List<int>();
        foreach (string line in r.Recording.SchedTrace.Append("SCHED end"))
        {
            if (line.StartsWith("SCHED ", StringComparison.Ordinal))
            {
                Assert.Equal(block.OrderByDescending(id => id), block);
                block.Clear();
            }
            else if (Regex.Match(line, @"^  M(\d+):") is { Success: true } m)
                block.Add(int.Parse(m.Groups[1].Value));
        }

        // Waits for the first SCHED line (bounded: 30 s of 1 ms sleeps).
        static async GoTask UntilFirstLine()
        {
            var rec = GoRuntime.Current.Recording;
            for (int i = 0; i < 30_000 && rec.SchedTrace.Count == 0; i++) await Go.Sleep(TimeSpan.FromMilliseconds(1));
        }

        static async GoTask Busy()
        {
            var wg = new WaitGroup();
            wg.Add(4);
            for (int i = 0; i < 4; i++) Spin(wg);
            await wg.Wait();
        }

        // Works in 1 ms slices until a SCHED line counts three threads (both Ms and sysmon) and at
        // least 40 ms have gone by (bounded: 30 s).
        static async GoTask Spin(WaitGroup wg)
        {
            var rec = GoRuntime.Current.Recording;
            long t0 = Go.Nanotime();
            while (Go.Nanotime() - t0 < 30_000_000_000L)
            {
                await Go.Work(TimeSpan.FromMilliseconds(1));
                if (Go.Nanotime() - t0 >= 40_000_000 && rec.SchedTrace.Any(l => l.StartsWith("SCHED ", StringComparison.Ordinal) && ThreadsOf(l) >= 3)) break;
            }
            wg.Done();
        }

        static int ThreadsOf(string line) => Regex.Match(line, @" threads=(\d+) ") is { Success: true } m ? int.Parse(m.Groups[1].Value) : 0;
    }

    /// <summary>
    /// Go 1.19 parks sync.WaitGroup.Wait and sync.Mutex.Lock in sema.go's semacquire1 with
    /// waitReasonSemacquire, so scheddetail prints status=4(semacquire) for both (Go 1.21's
    /// "sync.WaitGroup.Wait" / "sync.Mutex.Lock" do not exist in 1.19).
    /// </summary>
    [Fact]
    public void SchedDetail_WaitGroupWaitAndMutexLockWaitInSemacquireAsInGo119()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,schedtrace=1,scheddetail=1,sampleperiodus=0"));
        var r = rt.Run(() => Main(rt), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        var gLines = r.Recording.SchedTrace.Where(l => l.StartsWith("  G", StringComparison.Ordinal)).ToArray();
        // A block printed while main (G1) waited in Wait and the locker in Lock: two semacquire lines.
        Assert.Contains(SemacquireBlocks(r.Recording.SchedTrace), n => n >= 2);
        Assert.DoesNotContain(gLines, l => l.Contains("(sync.", StringComparison.Ordinal));

        static async GoTask Main(GoRuntime rt)
        {
            var mu = new Mutex();
            await mu.Lock();
            var wg = new WaitGroup();
            wg.Add(1);
            Locker(mu, wg);
            Releaser(rt, mu);
            await wg.Wait();
        }

        static async GoTask Locker(Mutex mu, WaitGroup wg)
        {
            await mu.Lock();
            mu.Unlock();
            wg.Done();
        }

        // Holds the lock until a detail block has shown both waiters (bounded: 5 s of 1 ms sleeps).
        static async GoTask Releaser(GoRuntime rt, Mutex mu)
        {
            for (int i = 0; i < 5000 && !SemacquireBlocks(rt.Recording.SchedTrace).Any(n => n >= 2); i++)
                await Go.Sleep(TimeSpan.FromMilliseconds(1));
            mu.Unlock();
        }

        // For each detail block, how many G lines wait in semacquire.
        static IEnumerable<int> SemacquireBlocks(IReadOnlyList<string> trace)
        {
            int n = 0;
            foreach (var line in trace)
            {
                if (line.StartsWith("SCHED ", StringComparison.Ordinal)) { yield return n; n = 0; }
                else if (line.StartsWith("  G", StringComparison.Ordinal) && line.Contains(": status=4(semacquire) ", StringComparison.Ordinal)) n++;
            }
            yield return n;
        }
    }

    /// <summary>
    /// Go sets m.blocked only while an M sleeps on a note (notesleep: stopm, stoplockedm), so while
    /// every goroutine sleeps, the M waiting in netpoll for the timer prints blocked=false and the
    /// other M (in stopm) blocked=true. Judged on most such blocks: one may catch an M on its way.
    /// </summary>
    [Fact]
    public void SchedDetail_TheMInNetpollIsNotBlockedAsInGo()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,schedtrace=1,scheddetail=1,sampleperiodus=0"));
        var r = rt.Run(() => Main(rt), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        var quiet = QuietBlocks(r.Recording.SchedTrace).ToList();
        Assert.True(quiet.Count >= 10, $"{quiet.Count} detail blocks with every goroutine asleep");
        int oneUnblocked = quiet.Count(ms => ms.Count(b => !b) == 1);
        Assert.True(oneUnblocked > quiet.Count / 2,
            $"{oneUnblocked} of {quiet.Count} blocks with every goroutine asleep show exactly one M with blocked=false (the one in netpoll)");

        static async GoTask Main(GoRuntime rt)
        {
            // Two goroutines working at once start a second M, which later parks in stopm.
            var wg = new WaitGroup();
            wg.Add(2);
            for (int i = 0; i < 2; i++) Busy(wg);
            await wg.Wait();
            // Sleep until 50 blocks have shown this goroutine asleep (bounded: 100 sleeps of 20 ms).
            int seen = 0, read = 0;
            for (int i = 0; i < 100 && seen < 50; i++)
            {
                await Go.Sleep(TimeSpan.FromMilliseconds(20));
                var trace = rt.Recording.SchedTrace;
                for (; read < trace.Count; read++)
                    if (trace[read].StartsWith("  G1: status=4(sleep) ", StringComparison.Ordinal)) seen++;
            }
        }

        static async GoTask Busy(WaitGroup wg)
        {
            await Go.Work(TimeSpan.FromMilliseconds(5));
            wg.Done();
        }

        // The M lines' blocked= flags of each detail block in which every P is idle and every
        // goroutine sleeps (so one M polls for the timer and the others are in stopm).
        static IEnumerable<bool[]> QuietBlocks(IReadOnlyList<string> trace)
        {
            foreach (var d in SchedTraceParser.Parse(new StringReader(string.Join('\n', trace)), "t").Details)
                if (d.Procs.All(p => p.Status == 0) && d.Goroutines.Count > 0 && d.Goroutines.All(g => g.Status == 4 && g.WaitReason == "sleep")
                    && d.Machines.All(m => m.P == -1 && m.CurG == -1 && !m.Spinning))
                    yield return d.Machines.Select(m => m.Blocked).ToArray();
        }
    }

    /// <summary>
    /// Go's sysmon sets lasttrace to the time it prints, so SCHED lines are never closer than the
    /// period: a late line pushes the next one back instead of being followed by one a few ms later
    /// (as a fixed grid of the period would). Lines are made late by a writer that takes 25 ms over
    /// every third line, with a 20 ms period.
    /// </summary>
    [Fact]
    public void SchedTrace_ALateLineIsNotFollowedByAShortIntervalAsInGo()
    {
        const int period = 20;
        using var rt = new GoRuntime(GoConfig.Parse($"gomaxprocs=1,schedtrace={period},sampleperiodus=0"));
        rt.SchedTraceOut = new SlowWriter();
        var r = rt.Run(() => Main(rt), TimeSpan.FromSeconds(60));
        r.EnsureSuccess();
        var ms = r.Recording.SchedTrace.Select(l => int.Parse(Regex.Match(l, @"^SCHED (\d+)ms: ").Groups[1].Value)).ToArray();
        Assert.True(ms.Length >= 10, $"{ms.Length} SCHED lines");
        var intervals = ms.Zip(ms.Skip(1), (a, b) => b - a).ToArray();
        Assert.All(intervals, d => Assert.True(d >= period, $"intervals {string.Join(" ", intervals)} ms: one is under the {period} ms period"));

        // Sleeps until 10 lines are out (bounded: 200 sleeps of 10 ms).
        static async GoTask Main(GoRuntime rt)
        {
            for (int i = 0; i < 200 && rt.Recording.SchedTrace.Count < 10; i++)
                await Go.Sleep(TimeSpan.FromMilliseconds(10));
        }
    }

    /// <summary>A schedtrace writer (a slow terminal, say) that holds the sampler 25 ms on every third line.</summary>
    private sealed class SlowWriter : TextWriter
    {
        private int _lines;
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value)
        {
            if (++_lines % 3 == 2) Thread.Sleep(25);
        }
    }

    /// <summary>The parser reads a wait reason as text: Go 1.19's words and Go 1.21's alike.</summary>
    [Fact]
    public void SchedTrace_ParserReadsGo119AndGo121WaitReasons()
    {
        var r = Parse(
            "SCHED 0ms: gomaxprocs=1 idleprocs=0 threads=3 spinningthreads=0 idlethreads=1 runqueue=0 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0",
            "  P0: status=1 schedtick=1 syscalltick=0 m=0 runqsize=0 gfreecnt=0 timerslen=0",
            "  M0: p=0 curg=3 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=false lockedg=-1",
            "  G1: status=4(semacquire) m=-1 lockedm=-1",
            "  G2: status=4(sync.WaitGroup.Wait) m=-1 lockedm=-1",
            "  G3: status=2() m=0 lockedm=-1",
            "  G4: status=4(sync.Mutex.Lock) m=-1 lockedm=-1");
        var d = Assert.Single(r.Details);
        Assert.Equal(["semacquire", "sync.WaitGroup.Wait", "", "sync.Mutex.Lock"], d.Goroutines.Select(g => g.WaitReason));
        Assert.Equal(3, Assert.Single(r.Samples).Goroutines?.Waiting);
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void SchedTrace_RealCaptureParsesIntoOneSamplePerSchedLine(string file)
    {
        string path = Path.Combine(s_captures, file);
        string[] lines = File.ReadAllLines(path);
        int gomaxprocs = int.Parse(Regex.Match(file, @"gomaxprocs(\d+)").Groups[1].Value);

        var r = SchedTraceParser.ParseFile(path);

        Assert.Equal("go", r.Source);
        Assert.Equal(Path.GetFileNameWithoutExtension(file), r.Workload);
        Assert.Equal($"gomaxprocs={gomaxprocs}", r.Settings);
        var samples = r.Samples;
        Assert.Equal(lines.Count(l => l.StartsWith("SCHED ", StringComparison.Ordinal)), samples.Count);
        Assert.True(samples.Count >= 20, $"only {samples.Count} samples: the run was too short");
        Assert.All(samples, s =>
        {
            Assert.Equal(gomaxprocs, s.Gomaxprocs);
            Assert.Equal(gomaxprocs, s.LocalRunq.Length);
            Assert.Null(s.RunNext);
            Assert.InRange(s.IdleProcs, 0, gomaxprocs);
            Assert.True(s.Threads >= gomaxprocs, "every P needs an M");
        });
        Assert.Equal(0, samples[0].TimeNs);
        for (int i = 1; i < samples.Count; i++)
            Assert.True(samples[i].TimeNs > samples[i - 1].TimeNs, $"sample {i} does not come after sample {i - 1}");
        Assert.Equal(samples[^1].TimeNs, r.WallNs);
        Assert.Equal(gomaxprocs, r.MaxProcs());
        // Every schedtrace line is kept; the '#' header and the program's JSON line are not.
        Assert.Equal(lines.Count(l => l.StartsWith("SCHED ") || l.StartsWith("  ")), r.SchedTrace.Count);
        Assert.DoesNotContain(r.SchedTrace, l => l.Contains("\"workload\""));
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void SchedTrace_RealCaptureSawQueuedWork(string file)
    {
        var r = SchedTraceParser.ParseFile(Path.Combine(s_captures, file));
        // The workloads spawn far more goroutines than there are Ps, so some were seen queued locally.
        Assert.Contains(r.Samples, s => s.LocalRunq.Sum() > 0);
        // imbalance spawns 1000 goroutines at once from one P: runqputslow spills to the global queue.
        if (file.StartsWith("imbalance-") && file.EndsWith("-schedtrace.log"))
            Assert.Contains(r.Samples, s => s.GlobalRunq > 256);
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void SchedTrace_DetailedCaptureCountsEveryGLineOfItsBlock(string file)
    {
        string[] lines = File.ReadAllLines(Path.Combine(s_captures, file));
        var r = SchedTraceParser.ParseFile(Path.Combine(s_captures, file));
        bool detailed = lines.Any(l => l.StartsWith("SCHED ") && l.Contains(" gcwaiting="));
        Assert.Equal(!file.EndsWith("-schedtrace.log"), detailed);
        if (!detailed)
        {
            Assert.Empty(r.Details);
            Assert.All(r.Samples, s => Assert.Null(s.Goroutines));
            return;
        }

        // G lines per block, counted straight from the text.
        var gLinesPerBlock = new List<int>();
        foreach (var l in lines)
        {
            if (l.StartsWith("SCHED ")) gLinesPerBlock.Add(0);
            else if (Regex.IsMatch(l, @"^  G\d+: ")) gLinesPerBlock[^1]++;
        }

        var samples = r.Samples;
        var details = r.Details;
        Assert.Equal(samples.Count, details.Count);
        for (int i = 0; i < samples.Count; i++)
        {
            var s = samples[i];
            var d = details[i];
            var g = s.Goroutines!;
            Assert.Equal(s.TimeNs, d.TimeNs);
            Assert.Equal(gLinesPerBlock[i], d.Goroutines.Count);
            Assert.Equal(d.Goroutines.Count, g.Runnable + g.Running + g.Waiting + g.Syscall + g.Dead);
            Assert.Equal(s.Gomaxprocs, d.Procs.Count);
            Assert.Equal(d.Procs.Select(p => p.RunqSize), s.LocalRunq);
            Assert.Equal(Enumerable.Range(0, s.Gomaxprocs), d.Procs.Select(p => p.Id));
            Assert.Equal(s.Threads, d.Machines.Count);
            // The main goroutine exists throughout, and sysmon's own M (no P) prints the block.
            Assert.Contains(d.Goroutines, x => x.Id == 1);
            Assert.Contains(d.Machines, m => m.P == -1);
            // Not asserted: Running <= gomaxprocs. Go prints the block line by line while the Ms
            // keep running, so it is no snapshot: imbalance-gomaxprocs4 has blocks with more Gs in
            // status 2 than there are Ps (a G finished and its M started the next one in between).
        }
        // The workers were caught running and waiting in the runqueue at some point.
        Assert.Contains(samples, s => s.Goroutines!.Running > 0);
        Assert.Contains(samples, s => s.Goroutines!.Runnable > 0);
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void SchedTrace_FormatReproducesEveryRealSchedPAndGLine(string file)
    {
        var r = SchedTraceParser.ParseFile(Path.Combine(s_captures, file));
        var schedLines = r.SchedTrace.Where(l => l.StartsWith("SCHED ")).ToList();
        var pLines = r.SchedTrace.Where(l => l.StartsWith("  P")).ToList();
        var gLines = r.SchedTrace.Where(l => l.StartsWith("  G")).ToList();
        var samples = r.Samples;
        var details = r.Details;

        if (details.Count == 0)
        {
            Assert.Equal(schedLines, samples.Select(SchedTraceFormat.SchedLine));
            return;
        }
        Assert.Equal(pLines, details.SelectMany(d => d.Procs).Select(SchedTraceFormat.PLine));
        Assert.Equal(gLines, details.SelectMany(d => d.Goroutines).Select(SchedTraceFormat.GLine));
        for (int i = 0; i < samples.Count; i++)
        {
            var s = samples[i];
            // gcwaiting and the other three are not kept in the sample; the prefix must match exactly.
            string prefix = SchedTraceFormat.SchedDetailLine(s.TimeNs / 1_000_000, s.Gomaxprocs, s.IdleProcs,
                s.Threads, s.SpinningThreads, s.IdleThreads, s.GlobalRunq);
            prefix = prefix[..prefix.IndexOf(" gcwaiting=", StringComparison.Ordinal)];
            Assert.StartsWith(prefix + " gcwaiting=", schedLines[i]);
        }
    }

    [Fact]
    public void SchedTrace_ParsesGosExampleLinesAndSkipsOtherOutput()
    {
        var r = Parse(
            "hello from the program",
            "SCHED 0ms: gomaxprocs=2 idleprocs=1 threads=4 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]",
            "{\"workload\":\"x\"}",
            "SCHED 1009ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=1 idlethreads=1 runqueue=7 [3 250]");

        Assert.Equal("go t gomaxprocs=2", r.Label);
        Assert.Equal(2, r.Samples.Count);
        var s = r.Samples[1];
        Assert.Equal(new SchedSample(1_009_000_000, 2, 0, 5, 1, 1, 7, s.LocalRunq, null, null), s);
        Assert.Equal([3, 250], s.LocalRunq);
        Assert.Equal(1_009_000_000, r.WallNs);
        Assert.Equal([0, 7], r.GlobalRunq());
        Assert.Equal([0, 250], r.RunqDepth(1));
    }

    [Fact]
    public void SchedTrace_ParsesADetailBlock()
    {
        var r = Parse(
            "SCHED 20ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=3 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0",
            "  P0: status=1 schedtick=10 syscalltick=2 m=3 runqsize=4 gfreecnt=5 timerslen=1",
            "  P1: status=1 schedtick=7 syscalltick=0 m=0 runqsize=0 gfreecnt=0 timerslen=0",
            "  M3: p=0 curg=17 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=false lockedg=-1",
            "  M1: p=-1 curg=-1 mallocing=0 throwing=0 preemptoff=GC worker init locks=2 dying=0 spinning=false blocked=false lockedg=-1",
            "  M0: p=1 curg=1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=true blocked=true lockedg=1",
            "  G1: status=2() m=0 lockedm=0",
            "  G2: status=4(force gc (idle)) m=-1 lockedm=-1",
            "  G3: status=4100(chan receive (nil chan)) m=-1 lockedm=-1",
            "  G17: status=1() m=-1 lockedm=-1",
            "  G18: status=3() m=3 lockedm=-1",
            "  G19: status=6() m=-1 lockedm=-1",
            "  G20: status=9(preempted) m=-1 lockedm=-1");

        var s = Assert.Single(r.Samples);
        Assert.Equal([4, 0], s.LocalRunq);
        Assert.Equal(3, s.GlobalRunq);
        Assert.Equal(new GoroutineCounts(Runnable: 1, Running: 1, Waiting: 3, Syscall: 1, Dead: 1), s.Goroutines);
        var d = Assert.Single(r.Details);
        Assert.Equal(20_000_000, d.TimeNs);
        Assert.Equal(new ProcDetail(0, 1, 10, 2, 3, 4, 5, 1), d.Procs[0]);
        Assert.Equal(new MachineDetail(1, -1, -1, false, false, -1), d.Machines[1]);
        Assert.Equal(new MachineDetail(0, 1, 1, true, true, 1), d.Machines[2]);
        Assert.Equal(new GoroutineDetail(2, 4, "force gc (idle)", -1, -1), d.Goroutines[1]);
        Assert.Equal(new GoroutineDetail(3, 0x1004, "chan receive (nil chan)", -1, -1), d.Goroutines[2]);
        Assert.Equal(13, r.SchedTrace.Count);
    }

    [Theory]
    [InlineData("SCHED 5ms: gomaxproc=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]", "expected 'gomaxprocs=' in SCHED line")]
    [InlineData("SCHED 5ms: gomaxprocs=two idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]", "expected an integer after 'gomaxprocs=' in SCHED line, found 'two")]
    [InlineData("SCHED xms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]", "expected an integer for the time in SCHED line, found 'xms: gomaxprocs=2 id...'")]
    [InlineData("SCHED 5ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0", "expected either ' gcwaiting=' (scheddetail) or ' [' (per-P run queues) in SCHED line, found the end of the line")]
    [InlineData("SCHED 5ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0", "expected ']' in SCHED line")]
    [InlineData("SCHED 5ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0] x", "unexpected text at the end of SCHED line, found ' x'")]
    [InlineData("SCHED 5ms: gomaxprocs=99999999999 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]", "integer 99999999999 after 'gomaxprocs=' is out of range in SCHED line")]
    [InlineData("SCHED 1ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]", "time 1ms is before the previous SCHED line's 2ms (two runs in one log?)")]
    [InlineData("  P0: status=1 schedtick=10", "P line after a SCHED line without scheddetail fields")]
    public void SchedTrace_MalformedLineNamesItsLineNumber(string bad, string expected) =>
        AssertThirdLineFails(
            "program output",
            "SCHED 2ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]",
            bad, expected);

    [Theory]
    [InlineData("  P0: status=1 schedtick=10 syscalltick=2 m=3 runqsize=0 gfreecnt=5", "expected 'timerslen=' in P line, found the end of the line")]
    [InlineData("  P0: status=1 schedtick=10 syscalltick=2 m=3 runqsize=-x gfreecnt=5 timerslen=0", "expected an integer after 'runqsize=' in P line, found '-x gfreecnt=5 timers...'")]
    [InlineData("  M3: p=0 curg=17 mallocing=0 throwing=0 preemptoff= dying=0 spinning=false blocked=false lockedg=-1", "expected 'locks=' in M line")]
    [InlineData("  M3: p=0 curg=17 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=no blocked=false lockedg=-1", "expected true or false after 'spinning=' in M line, found 'no blocked=false loc...'")]
    [InlineData("  G1: status=4 m=-1 lockedm=-1", "expected '(' in G line")]
    [InlineData("  G1: status=4(chan receive m=-1 lockedm=-1", "expected ') m=' in G line")]
    [InlineData("  G1: status=12() m=-1 lockedm=-1", "unknown goroutine status 12 in G line")]
    public void SchedTrace_MalformedDetailLineNamesItsLineNumber(string bad, string expected) =>
        AssertThirdLineFails(
            "SCHED 0ms: gomaxprocs=1 idleprocs=0 threads=3 spinningthreads=0 idlethreads=1 runqueue=0 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0",
            "  P0: status=1 schedtick=10 syscalltick=2 m=3 runqsize=0 gfreecnt=5 timerslen=0",
            bad, expected);

    private static void AssertThirdLineFails(string first, string second, string bad, string expected)
    {
        var e = Assert.Throws<SchedTraceFormatException>(() => Parse(first, second, bad));
        Assert.Equal(3, e.LineNumber);
        Assert.StartsWith($"line 3: {expected}", e.Message);
        Assert.IsAssignableFrom<FormatException>(e);
    }

    [Fact]
    public void SchedTrace_DetailLineBeforeAnySchedLineIsAnError()
    {
        var e = Assert.Throws<SchedTraceFormatException>(() => Parse("  G1: status=4(select) m=-1 lockedm=-1"));
        Assert.Equal("line 1: G line before any SCHED line", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello\n{\"workload\":\"fanout\"}\n")]
    public void SchedTrace_InputWithoutSchedLinesIsAnError(string text)
    {
        var e = Assert.Throws<SchedTraceFormatException>(() => SchedTraceParser.Parse(new StringReader(text), "t"));
        Assert.Equal("no schedtrace lines found; was the program run with GODEBUG=schedtrace=<ms>?", e.Message);
        Assert.Equal(0, e.LineNumber);
    }

    [Fact]
    public void SchedTrace_FormatWritesGosExactLines()
    {
        Assert.Equal(
            "SCHED 1009ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 0]",
            SchedTraceFormat.SchedLine(1009, 2, 0, 5, 0, 1, 0, [0, 0]));
        Assert.Equal(
            "SCHED 0ms: gomaxprocs=4 idleprocs=3 threads=6 spinningthreads=1 idlethreads=2 runqueue=12 gcwaiting=1 nmidlelocked=0 stopwait=2 sysmonwait=0",
            SchedTraceFormat.SchedDetailLine(0, 4, 3, 6, 1, 2, 12, gcWaiting: 1, stopWait: 2));
        Assert.Equal(
            "  M2: p=-1 curg=-1 mallocing=0 throwing=0 preemptoff= locks=1 dying=0 spinning=false blocked=true lockedg=-1",
            SchedTraceFormat.MLine(2, -1, -1, spinning: false, blocked: true, lockedG: -1, locks: 1));
        Assert.Equal("  G7: status=4(sync.Cond.Wait) m=-1 lockedm=-1", SchedTraceFormat.GLine(7, 4, "sync.Cond.Wait", -1, -1));
        Assert.Throws<ArgumentException>(() => SchedTraceFormat.SchedLine(0, 1, 0, 3, 0, 1, 0, []));
    }

    [Fact]
    public void SchedTrace_FormattedLinesRoundTripThroughTheParser()
    {
        var sample = new SchedSample(12_345_678_901, 3, 1, 7, 1, 2, 300, [256, 0, 17], null, null);
        var procs = new[] { new ProcDetail(0, 1, 4_000_000_000, 12, 5, 256, 64, 3), new ProcDetail(1, 0, 0, 0, -1, 0, 0, 0) };
        var machines = new[] { new MachineDetail(5, 0, 42, false, false, -1), new MachineDetail(4, -1, -1, true, true, 9) };
        var gs = new[]
        {
            new GoroutineDetail(1, 4, "semacquire", -1, -1),
            new GoroutineDetail(9, 2, "", 4, 4),
            new GoroutineDetail(42, 0x1004, "chan receive (nil chan)", -1, -1),
        };
        var lines = new List<string>
        {
            SchedTraceFormat.SchedLine(sample),
            SchedTraceFormat.SchedDetailLine(20_000, 2, 1, 6, 1, 2, 300, sysmonWait: 1),
        };
        lines.AddRange(procs.Select(SchedTraceFormat.PLine));
        lines.Add(SchedTraceFormat.MLine(machines[0].Id, machines[0].P, machines[0].CurG, machines[0].Spinning,
            machines[0].Blocked, machines[0].LockedG, mallocing: 1, throwing: 2, preemptOff: "GC worker init", locks: 3, dying: 1));
        lines.Add(SchedTraceFormat.MLine(machines[1]));
        lines.AddRange(gs.Select(SchedTraceFormat.GLine));

        var r = Parse([.. lines]);

        Assert.Equal(lines, r.SchedTrace);
        var s0 = r.Samples[0];
        Assert.Equal(sample with { TimeNs = 12_345_000_000, LocalRunq = s0.LocalRunq }, s0);
        Assert.Equal(sample.LocalRunq, s0.LocalRunq);
        var d = Assert.Single(r.Details);
        Assert.Equal(20_000_000_000, d.TimeNs);
        Assert.Equal(procs, d.Procs);
        Assert.Equal(machines, d.Machines);
        Assert.Equal(gs, d.Goroutines);
        Assert.Equal(new GoroutineCounts(0, 1, 2, 0, 0), r.Samples[1].Goroutines);
        Assert.Equal(20_000_000_000, r.WallNs);
    }

    private static Recording Parse(params string[] lines) =>
        SchedTraceParser.Parse(new StringReader(string.Join('\n', lines)), "t");
}
