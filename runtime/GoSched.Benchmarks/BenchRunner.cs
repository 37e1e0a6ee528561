// BenchRunner: the benchmarks of issue 2, section 8, by name.
//
// How a benchmark is measured. The gosched runtime and the .NET ThreadPool run the same workload
// in this process, alternating: untimed warm-ups of each (JIT tiering, free lists, the pool's
// threads), then Repetitions rounds of "gosched, then .NET", each repetition after a full
// collection. Alternating puts both systems under the same background noise of a shared machine;
// the figures are medians, and the comparisons are ratios within one call. The Go 1.19 program
// for the workload (go/run.sh, its own warm-up and Repetitions repetitions) runs in its own process,
// with the same GOMAXPROCS, once before and once after the in-process repetitions: its figures pool
// both runs (2 x Repetitions), so that a change in the machine's load during the call weighs on both sides.
using System.Diagnostics;
using System.Reflection;
using GoSched.Benchmarks.Workloads;

namespace GoSched.Benchmarks;

/// <summary>Runs the named benchmarks on gosched, the .NET ThreadPool and Go 1.19.</summary>
public static class BenchRunner
{
    private static readonly Workload[] s_workloads = [new Spawn(), new PingPong(), new Ring(), new Fanout(), new Parked(), new TimerLateness(), new NetEcho(), new Locked(), new Handoff(), new MutexContention()];

    /// <summary>The benchmark names: spawn, pingpong, ring, fanout, parked, timers, netecho, locked, handoff, mutex.</summary>
    public static IReadOnlyList<string> Names { get; } = s_workloads.Select(w => w.Name).ToArray();

    /// <summary>Measures one benchmark. Throws <see cref="ArgumentException"/> for an unknown name, listing the valid ones.</summary>
    public static BenchReport Run(string name, BenchOptions? options = null)
    {
        var w = s_workloads.FirstOrDefault(x => string.Equals(x.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown benchmark '{name}' (benchmarks: {string.Join(", ", Names)})", nameof(name));
        var o = (options ?? new BenchOptions()).Validate();
        var notes = new List<string>();
        string? loadBefore = Measure.LoadAverage();

        var goBefore = GoReference.Run(w, o, out string? goSkipped);
        var (gosched, dotnet) = RunInProcess(w, o);
        var go = goBefore == null ? null : GoReference.Pool(goBefore, GoReference.Run(w, o, out goSkipped));
        if (goSkipped != null) notes.Add(goSkipped);
        if (loadBefore != null) notes.Add($"load average {loadBefore} before, {Measure.LoadAverage()} after: other processes' load inflates wall-clock figures ({Region.CpuPerWallKey} in extra is how many CPUs this process kept busy)");
        notes.AddRange(Caveats(o));

        var report = new BenchReport
        {
            Workload = w.Name,
            Gomaxprocs = o.Gomaxprocs,
            // --godebug's knobs appeared nowhere in the report: a stealtries=0 run read as a default one.
            Settings = o.RuntimeConfig().ToString(),
            Metric = w.Metric,
            Unit = w.Unit,
            HigherIsBetter = w.HigherIsBetter,
            Parameters = w.Parameters(o.Quick),
            Repetitions = o.Reps,
            Quick = o.Quick,
            AllocationOp = w.AllocationOp,
            Gosched = gosched,
            Dotnet = dotnet,
            Go = go,
            Targets = [],
            Notes = notes,
        };
        report = report with { Breakdown = BenchReport.Compare(report, w.BreakdownKeys) };
        var targets = w.Targets(report);
        // A quick run checks that a benchmark runs; its one repetition at small sizes is no
        // measurement to hold against a target: "MISSED" or "met" there read as verdicts.
        if (o.Quick) targets = targets.Select(t => t with { Met = null, NotChecked = QuickNotChecked });
        return report with { Targets = targets.ToArray(), Notes = [.. w.Notes(report), .. notes] };
    }

    /// <summary>Why a quick run's targets are not checked.</summary>
    public const string QuickNotChecked = "quick run: small sizes and one repetition are not a measurement";

    /// <summary>Warm-up, then alternating repetitions of the gosched and .NET sides (gosched alone where .NET has none).</summary>
    private static (SystemFigures Gosched, SystemFigures? Dotnet) RunInProcess(Workload w, BenchOptions o)
    {
        var g = new List<Sample>();
        var d = new List<Sample>();
        using var gSide = w.Gosched(o);
        using var dSide = w.Dotnet(o);
        int warmUps = o.WarmUps + (o.Quick ? 0 : w.ExtraWarmUps);
        for (int rep = 1 - warmUps; rep <= o.Reps; rep++) // up to 0: warm-ups
        {
            Measure.Settle();
            var gs = gSide.RunOnce();
            Sample? ds = null;
            if (dSide != null)
            {
                Measure.Settle();
                ds = dSide.RunOnce();
            }
            o.Progress?.WriteLine($"{w.Name} {(rep <= 0 ? "warm-up" : $"run {rep}/{o.Reps}")}: gosched {BenchReport.Num(gs.Value)}, dotnet {(ds is { } x ? BenchReport.Num(x.Value) : "none")} ({w.Metric})");
            if (rep <= 0) continue;
            g.Add(gs);
            if (ds is { } dv) d.Add(dv);
        }
        return (Figures("gosched", gSide.Description, g), dSide == null ? null : Figures("dotnet", dSide.Description, d));
    }

    private static SystemFigures Figures(string system, string description, List<Sample> samples)
    {
        var runs = samples.Select(s => s.Value).ToArray();
        var allocRuns = samples.All(s => s.AllocPerOp.HasValue) ? samples.Select(s => s.AllocPerOp!.Value).ToArray() : null;
        Dictionary<string, object>? extra = null;
        foreach (var key in samples.SelectMany(s => s.Extra?.Keys ?? []).Distinct())
        {
            extra ??= new Dictionary<string, object>();
            extra[key] = Stats.Median(samples.Where(s => s.Extra?.ContainsKey(key) == true).Select(s => s.Extra![key]));
        }
        return new SystemFigures
        {
            System = system,
            Description = description,
            Median = Stats.Median(runs),
            Runs = runs,
            AllocBytesPerOp = allocRuns is { Length: > 0 } ? Stats.Median(allocRuns) : null,
            AllocRuns = allocRuns,
            Extra = extra,
        };
    }

    /// <summary>What makes this run's figures less than representative, said in the report.</summary>
    private static IEnumerable<string> Caveats(BenchOptions o)
    {
        if (o.Quick) yield return "quick mode: small sizes, one repetition; not a measurement";
        if (!IsOptimized(typeof(GoRuntime).Assembly)) yield return "GoSched.Runtime was built without optimisation (Debug): build Release for figures";
        if (Debugger.IsAttached) yield return "a debugger is attached";
        if (o.Gomaxprocs != Environment.ProcessorCount)
            yield return $"the .NET ThreadPool sizes itself to the {Environment.ProcessorCount} CPUs, not to GOMAXPROCS={o.Gomaxprocs}";
        if (o.Gomaxprocs > Environment.ProcessorCount)
            yield return $"GOMAXPROCS={o.Gomaxprocs} exceeds the {Environment.ProcessorCount} CPUs";
    }

    private static bool IsOptimized(Assembly a) =>
        a.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };
}

internal static class Stats
{
    /// <summary>The median (the mean of the middle two for an even count), as bench.Median in go/bench.</summary>
    public static double Median(IEnumerable<double> xs)
    {
        var s = xs.Order().ToArray();
        if (s.Length == 0) return double.NaN;
        int n = s.Length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
