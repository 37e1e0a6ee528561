using System.Globalization;
using System.Text.Json;
using GoSched.Cli;
using GoSched.Workloads;

namespace GoSched.Cli.Tests;

public class CliTests
{
    internal static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Build(o, e).Parse(args).Invoke(new System.CommandLine.InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.ToString());
    }

    [Theory]
    [InlineData("fanout", "rounds=1", "workers=64", "unit=10us")]
    [InlineData("imbalance", "rounds=1", "goroutines=200", "work=20us")]
    [InlineData("pingpong", "rounds=2000")]
    [InlineData("ring", "goroutines=100", "hops=5000")]
    [InlineData("spawn", "goroutines=5000", "burst=100")]
    public void RunJsonReportsConservedGoroutineCounts(string workload, params string[] wargs)
    {
        var args = new List<string> { "run", workload, "--gomaxprocs", "2", "--json" };
        foreach (var a in wargs) { args.Add("--arg"); args.Add(a); }
        var (code, stdout, stderr) = Invoke(args.ToArray());
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal(workload, root.GetProperty("workload").GetString());
        Assert.Equal(2, root.GetProperty("gomaxprocs").GetInt32());
        long started = root.GetProperty("goroutines_started").GetInt64();
        Assert.True(started > 1);
        Assert.Equal(started, root.GetProperty("goroutines_finished").GetInt64());
        Assert.True(root.GetProperty("wall_ms").GetDouble() > 0);
        Assert.True(root.TryGetProperty("steals", out _));
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
        // One P per entry, in snake_case like every other key; the schedticks add up to something.
        var perP = root.GetProperty("per_p").EnumerateArray().ToArray();
        Assert.Equal(2, perP.Length);
        Assert.True(perP.Sum(p => p.GetProperty("sched_ticks").GetInt64()) > 0);
    }

    /// <summary>imbalance reported efficiency without busy_ms, the work it is computed from, which fanout reports.</summary>
    [Fact]
    public void ImbalanceReportsTheFiguresItsEfficiencyComesFromAsFanoutDoes()
    {
        var (code, stdout, stderr) = Invoke("run", "imbalance", "--gomaxprocs", "2", "--json", "--arg", "rounds=2,goroutines=50,work=100us");
        Assert.True(code == 0, stderr);
        var metrics = JsonDocument.Parse(stdout).RootElement.GetProperty("metrics");
        Assert.Equal(["busy_ms", "wall_ms", "efficiency"], metrics.EnumerateObject().Select(p => p.Name));
        Assert.Equal(10, metrics.GetProperty("busy_ms").GetDouble()); // 2 rounds x 50 goroutines x 100 us
        // busy over P-time, 2 Ps for (a hair more than) wall_ms.
        double ideal = metrics.GetProperty("busy_ms").GetDouble() / (2 * metrics.GetProperty("wall_ms").GetDouble());
        Assert.InRange(metrics.GetProperty("efficiency").GetDouble(), 0.8 * ideal, 1.01 * ideal);
        (code, stdout, stderr) = Invoke("run", "fanout", "--gomaxprocs", "2", "--json", "--arg", "rounds=1,workers=8,unit=10us");
        Assert.True(code == 0, stderr);
        Assert.Equal(["busy_ms", "wall_ms", "efficiency"], JsonDocument.Parse(stdout).RootElement.GetProperty("metrics").EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void RunPrintsSchedtraceInGoFormatToStderrAndASummaryToStdout()
    {
        var (code, stdout, stderr) = Invoke("run", "fanout", "--gomaxprocs", "2", "--schedtrace", "5ms", "--arg", "rounds=2", "--arg", "unit=100us");
        Assert.Equal(0, code);
        // Go's runtime prints schedtrace to stderr (fd 2): `prog >o 2>e` puts every SCHED line in e.
        var sched = stderr.Split('\n').Where(l => l.StartsWith("SCHED ")).ToList();
        Assert.NotEmpty(sched);
        Assert.All(sched, l => Assert.Matches(@"^SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=\d+ spinningthreads=\d+ idlethreads=\d+ runqueue=\d+ \[\d+ \d+\]$", l.TrimEnd('\r')));
        Assert.DoesNotContain(stdout.Split('\n'), l => l.StartsWith("SCHED ", StringComparison.Ordinal));
        Assert.Contains("goroutines   ", stdout);
    }

    [Fact]
    public void RunJsonWithSchedtraceKeepsStdoutOneJsonObjectAndTracesToStderr()
    {
        var (code, stdout, stderr) = Invoke("run", "fanout", "--gomaxprocs", "2", "--schedtrace", "5ms", "--scheddetail", "--json", "--arg", "rounds=2", "--arg", "unit=100us");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout); // throws if anything else reached stdout
        Assert.Contains("schedtrace=5", doc.RootElement.GetProperty("settings").GetString());
        var lines = stderr.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains(lines, l => l.StartsWith("SCHED ", StringComparison.Ordinal) && l.Contains(" gcwaiting="));
        Assert.Contains(lines, l => l.StartsWith("  P0: status=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(new[] { "run", "fanot" }, "unknown workload 'fanot' (workloads: fanout, imbalance, pingpong, ring, spawn, mutex, timers, ticker, timers-under-load, timer-churn, syscall-block, locked, resize, stw, netecho)")]
    [InlineData(new[] { "run", "fanout", "--gomaxprocs", "0" }, "gomaxprocs=0: must be between 1 and 256")]
    [InlineData(new[] { "run", "fanout", "--runq-size", "6" }, "power of two")]
    [InlineData(new[] { "run", "fanout", "--arg", "wrokers=3" }, "has no parameter 'wrokers'")]
    [InlineData(new[] { "run", "fanout", "--arg", "unit=fast" }, "unit=fast: not a duration")]
    [InlineData(new[] { "run", "fanout", "--godebug", "stealtries=x" }, "stealtries=x: not an integer")]
    [InlineData(new[] { "run", "fanout", "--schedtrace", "soon" }, "--schedtrace soon")]
    [InlineData(new[] { "run", "fanout", "--arg", "unit=1m" }, "unit=1m: must be between 0s and 1s")] // a duration (Go's form), out of range
    [InlineData(new[] { "run", "fanout", "--arg", "unit=5" }, "unit=5: not a duration (Go's form")]
    [InlineData(new[] { "run", "mutex", "--arg", "hold=-1us" }, "hold=-1us: must be between 0s and 1s (a negative duration)")]
    [InlineData(new[] { "bench", "pingpong", "--gomaxprocs", "0", "--quick" }, "gosched bench: --gomaxprocs 0: must be between 1 and 256")]
    [InlineData(new[] { "bench", "pingpong", "--reps", "0", "--quick" }, "gosched bench: --reps 0: must be at least 1")]
    [InlineData(new[] { "bench", "nosuch" }, "unknown benchmark 'nosuch' (benchmarks: spawn, pingpong")]
    [InlineData(new[] { "notebook", "x.ipynb", "--cell-timeout", "soon" }, "--cell-timeout soon: expected a positive duration")]
    public void BadInputGetsAClearErrorAndExitCode1(string[] args, string expected)
    {
        var (code, _, stderr) = Invoke(args);
        Assert.Equal(1, code);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("(Parameter '", stderr);
    }

    [Fact]
    public void DurationsAreGosAndTheSummaryWritesThemBackInTheSameForm()
    {
        Assert.Equal(2 * 3_600_000_000_000L + 45 * 60_000_000_000L, GoSched.Workloads.WorkloadParam.ParseDuration("2h45m"));
        Assert.Equal(1_500_000L, GoSched.Workloads.WorkloadParam.ParseDuration("1.5ms"));
        Assert.Equal(0L, GoSched.Workloads.WorkloadParam.ParseDuration("0"));
        Assert.Null(GoSched.Workloads.WorkloadParam.ParseDuration("-1s"));
        Assert.Null(GoSched.Workloads.WorkloadParam.ParseDuration("1x"));
        var (code, stdout, _) = Invoke("run", "fanout", "--gomaxprocs", "1", "--arg", "rounds=1", "--arg", "workers=2", "--arg", "unit=1500us");
        Assert.Equal(0, code);
        // Go's Duration.String(): 1.5ms, not 1500us.
        Assert.Contains("unit=1.5ms", stdout);
    }

    [Fact]
    public void RunPrintsDecimalPointsInAnyCulture()
    {
        // The summary is for reading and for scripts, as Go's output: a German or French locale
        // gave "lateness p50 0,041 ms" on the timers line and "within 0,018 s" in the timeout
        // error, beside lines that already printed 0.041.
        var saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            var (code, stdout, stderr) = Invoke("run", "timers", "--gomaxprocs", "1", "--arg", "goroutines=5", "--arg", "sleeps=2", "--arg", "min=1ms", "--arg", "max=2ms");
            Assert.True(code == 0, stderr);
            Assert.Matches(@"(?m)^timers +\d+ fired; lateness \(fired - due, in runOneTimer\) p50 \d+(\.\d+)? ms, p99 \d+(\.\d+)? ms, max \d+(\.\d+)? ms;", stdout);
            (code, _, stderr) = Invoke("run", "fanout", "--gomaxprocs", "1", "--timeout", "20ms");
            Assert.Equal(2, code);
            Assert.Contains("gosched run: timed out: the run did not finish within 18ms (its 20ms timeout, less 2ms kept to stop its threads)", stderr);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void ATimedOutRunSaysSoAndWarnsOfNoGoroutineThatWouldHaveStopped()
    {
        // --timeout 1ms left the stop 0.1 ms to wait for the threads, and every M not yet gone
        // (fanout's main goroutine between two go statements, or one with no goroutine at all:
        // "M0 (goroutine none)") was reported twice, in the error and as a warning, as code that
        // never awaits. fanout's goroutines all await; its workers stop mid-work at a stop.
        for (int i = 0; i < 3; i++)
        {
            var (code, stdout, stderr) = Invoke("run", "fanout", "--gomaxprocs", "2", "--timeout", "1ms");
            Assert.Equal(2, code);
            Assert.Contains("result       timed out\n", stdout.ReplaceLineEndings("\n"));
            Assert.DoesNotContain("warning", stdout);
            // Durations in Go's form at any size: seconds to three places said "less the 0 s kept to stop its threads".
            // With the "gosched run: " of every other error of run's.
            Assert.Equal("gosched run: timed out: the run did not finish within 900us (its 1ms timeout, less 100us kept to stop its threads)", stderr.TrimEnd());
            Assert.DoesNotContain("cannot be preempted", stderr);
            Assert.DoesNotContain("goroutine none", stdout + stderr);
        }
    }

    [Fact]
    public void ALongRunSaysHowFarItGotOnStderrAndAShortOneSaysNothing()
    {
        // `run mutex --arg hold=500us` was 20 s without a line. Progress every 100 ms here (5 s in
        // gosched): fanout's two workers spin 300 ms and 600 ms.
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Build(o, e, progressEvery: TimeSpan.FromMilliseconds(100))
            .Parse(["run", "fanout", "--gomaxprocs", "2", "--json", "--arg", "rounds=1", "--arg", "workers=2", "--arg", "unit=300ms"])
            .Invoke(new System.CommandLine.InvocationConfiguration { Output = o, Error = e });
        Assert.True(code == 0, e.ToString());
        using var doc = JsonDocument.Parse(o.ToString()); // stdout is still the one JSON object
        var lines = e.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.True(lines.Count >= 2, $"progress lines: {lines.Count}\n{e}");
        // The elapsed time in Go's form, as the timeout: "at 5s", not "at 5 s" (100ms here, below a second).
        Assert.All(lines, l => Assert.Matches(@"^gosched run: fanout still running at (\d+(\.\d)?s|\d00ms) \(timeout 10m0s\): \d+ goroutines started, \d+ finished$", l));

        var (code2, _, stderr) = Invoke("run", "pingpong", "--arg", "rounds=100", "--timeout", "30s");
        Assert.True(code2 == 0, stderr);
        Assert.Equal("", stderr);
    }

    /// <summary>Exit code 2, for a run that failed or timed out, was in neither the README nor the help.</summary>
    [Fact]
    public void RunsHelpSaysWhatEachExitCodeMeans()
    {
        var (code, stdout, _) = Invoke("run", "--help");
        Assert.Equal(0, code);
        string help = string.Join(" ", stdout.Split('\n').Select(l => l.Trim()));
        Assert.Contains("Exit code 0: the run finished; 1: bad input (nothing ran); 2: the run failed (a panic, a deadlock) or timed out, after its summary", help);
    }

    [Theory]
    [InlineData(5.04, "5s")]
    [InlineData(10.06, "10.1s")]
    [InlineData(65.3, "1m5.3s")]
    [InlineData(3600, "1h0m0s")]
    public void AProgressLineSaysHowLongInGosForm(double seconds, string expected) =>
        Assert.Equal(expected, RunProgress.Elapsed(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void AQuickBenchTableChecksNoTargetAndSaysWhy()
    {
        // "-> MISSED" and "-> met" beside "quick mode: ... not a measurement" read as verdicts.
        var (code, stdout, stderr) = Invoke("bench", "pingpong", "--quick");
        Assert.True(code == 0, stderr);
        var targets = stdout.Split('\n').Where(l => l.TrimStart().StartsWith("target ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, targets.Count);
        Assert.All(targets, t => Assert.EndsWith("-> not checked (quick run: small sizes and one repetition are not a measurement)", t.TrimEnd('\r')));
    }

    [Fact]
    public void ABenchBreakdownTableKeepsItsColumnsUnderTheirHeaders()
    {
        // locked's figure names (locked_ns_per_roundtrip, 25 characters) pushed every number of
        // their rows past the header's 20-character name column.
        var (code, stdout, stderr) = Invoke("bench", "locked", "--quick");
        Assert.True(code == 0, stderr);
        var lines = stdout.ReplaceLineEndings("\n").Split('\n');
        int header = Array.FindIndex(lines, l => l.StartsWith("  figure ", StringComparison.Ordinal));
        Assert.True(header >= 0, stdout);
        var rows = lines.Skip(header + 1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal) && !l.StartsWith("  target", StringComparison.Ordinal) && !l.StartsWith("  note", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, rows.Count);
        int goschedEnd = lines[header].IndexOf("gosched", StringComparison.Ordinal) + "gosched".Length;
        // The gosched figure is right-aligned under its header: it ends where "gosched" ends.
        Assert.All(rows, r => Assert.Matches(@"^  \S+ +\S+$", r[..goschedEnd]));
        Assert.All(rows, r => Assert.Equal(' ', r[goschedEnd]));
    }

    [Fact]
    public void SummaryPrintsASmallFigureThatIsNotZeroAsNotZero()
    {
        // The mutex workload's parks_per_lock: 8 parks in 40,000 locks printed "parks_per_lock 0"
        // two lines below "parks 8", and "parks_per_lock=0" in a notebook's Figures column.
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,sampleperiodus=0"));
        var r = rt.Run(async () => await Go.Gosched()) with
        {
            Metrics = new Dictionary<string, double> { ["parks"] = 8, ["parks_per_lock"] = 8 / 40_000.0, ["ns_per_lock"] = 2197.5824, ["zero"] = 0 },
        };
        var o = new StringWriter();
        Summary.Print(o, "mutex", r);
        string text = o.ToString();
        Assert.Contains("parks_per_lock 0.0002\n", text.ReplaceLineEndings("\n"));
        Assert.Contains("ns_per_lock  2197.582\n", text.ReplaceLineEndings("\n"));
        Assert.Contains("zero         0\n", text.ReplaceLineEndings("\n"));
        // The run's wall and the workload's wall_ms differ (fanout: 937.9 vs 909.6 ms) and say so.
        Assert.Matches(@"\nwall         [0-9.]+ ms, the whole run \(runtime start to stop\)\n", text.ReplaceLineEndings("\n"));
        Assert.Contains("\nfigures      the workload's own, timed inside it:\nparks        8\n", text.ReplaceLineEndings("\n"));
        Assert.Equal("1.5E-05", WorkloadRun.FormatFigure(0.000015));
        Assert.Equal("-0.0002", WorkloadRun.FormatFigure(-0.0002));
    }

    [Theory]
    [InlineData("run")]
    [InlineData("bench")]
    [InlineData("notebook")]
    [InlineData("workloads")]
    public void HelpSaysEachDefaultOnce(string command)
    {
        // "--out <out>  output folder (default: out) [default: out]": the parser adds the second.
        var (code, stdout, _) = Invoke(command, "--help");
        Assert.Equal(0, code);
        Assert.DoesNotContain(stdout.Split('\n'), l => l.Contains("(default") && l.Contains("[default:"));
    }

    [Fact]
    public void UnknownOptionIsRejectedByTheParser()
    {
        var (code, _, stderr) = Invoke("run", "fanout", "--gomaxprocz", "2");
        Assert.NotEqual(0, code);
        Assert.Contains("--gomaxprocz", stderr);
    }

    [Fact]
    public void WorkloadsListsEveryWorkloadWithItsParameters()
    {
        var (code, stdout, _) = Invoke("workloads");
        Assert.Equal(0, code);
        foreach (var w in WorkloadCatalog.All)
        {
            Assert.Contains(w.Name + ":", stdout);
            foreach (var p in w.Parameters) Assert.Contains($"{p.Name}={p.Default}", stdout);
        }
    }
}
