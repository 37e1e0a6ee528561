using GoSched.Interactive.Workbench;
using GoSched.Observability;

namespace GoSched.Interactive.Tests;

/// <summary>
/// Stands in for the runtime: each run is a recording parsed from a few synthetic schedtrace lines,
/// one queue depth per P that falls to zero. Remembers what it was asked.
/// </summary>
internal sealed class FakeBackend : IGoSchedBackend
{
    public IReadOnlyList<WorkloadInfo> Workloads { get; } =
    [
        new("fanout", "A parent spawns workers with very unequal work.",
            [new("workers", "8", "goroutines spawned"), new("work", "1ms", "CPU work of the longest")]),
        new("pingpong", "Two goroutines bounce a value over a channel.", [new("rounds", "1000", "round trips")]),
        new("stuck", "A goroutine receives from a channel nobody sends on.", []),
    ];

    public List<(string Workload, GoConfig Config, IReadOnlyDictionary<string, string> Args)> Calls { get; } = new();

    public Task<RunOutcome> RunAsync(string workload, GoConfig config, IReadOnlyDictionary<string, string> args, CancellationToken cancellationToken)
    {
        Calls.Add((workload, config, args));
        if (args.TryGetValue("workers", out var w) && w == "0")
            throw new ArgumentException("workers=0: must be at least 1");

        var lines = new StringWriter();
        var depth = new int[config.Gomaxprocs];
        for (int t = 0; t < 5; t++)
        {
            for (int p = 0; p < depth.Length; p++)
                depth[p] = Math.Max(0, 8 - 2 * t - p);
            lines.WriteLine(SchedTraceFormat.SchedLine(t * 10, config.Gomaxprocs, 0, depth.Length + 1, 0, 0, 4 - t, depth));
        }
        var recording = SchedTraceParser.Parse(new StringReader(lines.ToString()), workload);
        SetCounters(recording, Enumerable.Range(0, config.Gomaxprocs)
            .Select(p => new ProcCounters(p, SchedTicks: 100 + p, StealOps: 3 * p, StolenGs: 9 * p, RunNextHits: 40, GlobalRunqTakes: 2, Spins: 5, Parks: 1))
            .ToArray());

        string? error = workload == "stuck" ? "all goroutines are asleep - deadlock!" : null;
        return Task.FromResult(new RunOutcome(recording, WallNs: 42_500_000, GoroutinesStarted: 9, GoroutinesFinished: error is null ? 9 : 7, Steals: 4, error));
    }

    public Recording ParseSchedTrace(string path) => SchedTraceParser.ParseFile(path);

    // Recording.Counters has an internal setter (the runtime fills it); a parsed recording has none.
    private static void SetCounters(Recording recording, IReadOnlyList<ProcCounters> counters) =>
        typeof(Recording).GetProperty(nameof(Recording.Counters))!.GetSetMethod(nonPublic: true)!.Invoke(recording, [counters]);
}
