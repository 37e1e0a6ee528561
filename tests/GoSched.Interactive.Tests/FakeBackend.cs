using System.Reflection;
using GoSched.Interactive.Workbench;
using GoSched.Observability;
using HdrHistogram;

namespace GoSched.Interactive.Tests;

/// <summary>
/// Stands in for the runtime: each run is a recording parsed from a few synthetic schedtrace lines,
/// one queue depth per P that falls to zero. The "timers" workload's recording carries timers
/// instead (see <see cref="TimerRecording"/>). Remembers what it was asked.
/// </summary>
internal sealed class FakeBackend : IGoSchedBackend
{
    public IReadOnlyList<WorkloadInfo> Workloads { get; } =
    [
        new("fanout", "A parent spawns workers with very unequal work.",
            [new("workers", "8", "goroutines spawned"), new("work", "1ms", "CPU work of the longest")]),
        new("pingpong", "Two goroutines bounce a value over a channel.", [new("rounds", "1000", "round trips")]),
        new("stuck", "A goroutine receives from a channel nobody sends on.", []),
        new("timers", "Goroutines sleep.", [new("sleeps", "1000", "timers fired"), new("stw", "0", "1: the world stopped at Pauses")]),
        new("netecho", "Client/server pairs echo over loopback.", [new("wakes", "500", "goroutines woken by netpoll")]),
        new("syscall-block", "Goroutines block in system calls.", [new("handoff", "0", "1: Go.SyscallBlock")]),
    ];

    /// <summary>The fake netecho run: wake k took (k + 1) x this, so the latency is spread evenly up to 0.5 ms.</summary>
    public const long WakeStepNs = 1_000;

    /// <summary>The pauses of the fake netecho and syscall-block runs: (start ms, length ms).</summary>
    public static readonly (int StartMs, int LengthMs)[] Pauses = [(30, 2), (70, 1)];

    /// <summary>The fake timers run: lateness of firing k is (k + 1) x this, so it is spread evenly up to 20 ms.</summary>
    public const long LatenessStepNs = 20_000;

    /// <summary>Deleted timers the fake timers run reports as cleared by the 1/4 rule.</summary>
    public const long Cleared = 7;

    public List<(string Workload, GoConfig Config, IReadOnlyDictionary<string, string> Args)> Calls { get; } = new();

    /// <summary>While set, runs hold here after they started (a background run still going on).</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>GOMAXPROCS changes asked of running runs.</summary>
    public List<int> GomaxprocsChanges { get; } = new();

    public async Task<RunOutcome> RunAsync(string workload, GoConfig config, IReadOnlyDictionary<string, string> args, Action<IRunControl>? started, CancellationToken cancellationToken)
    {
        var outcome = RunAsync(workload, config, args, cancellationToken); // refuses bad arguments at once, as the runtime does
        int gomaxprocs = config.Gomaxprocs;
        started?.Invoke(new Control(this, () => gomaxprocs, n => gomaxprocs = n));
        if (Hold is { } hold) await hold.Task.WaitAsync(cancellationToken);
        return await outcome;
    }

    private sealed class Control(FakeBackend backend, Func<int> get, Action<int> set) : IRunControl
    {
        public int SetGomaxprocs(int n)
        {
            backend.GomaxprocsChanges.Add(n);
            int prev = get();
            set(n);
            return prev;
        }
    }

    /// <summary>Checks arguments as the runtime's workloads do: the fake refuses workers=0.</summary>
    public void CheckArgs(string workload, IReadOnlyDictionary<string, string> args)
    {
        if (args.TryGetValue("workers", out var w) && w == "0")
            throw new ArgumentException("workers=0: must be at least 1");
    }

    public Task<RunOutcome> RunAsync(string workload, GoConfig config, IReadOnlyDictionary<string, string> args, CancellationToken cancellationToken)
    {
        Calls.Add((workload, config, args));
        CheckArgs(workload, args);

        if (workload is "netecho" or "syscall-block")
            return Task.FromResult(new RunOutcome(BlockingRecording(workload, config, args), WallNs: 100_000_000, GoroutinesStarted: 6, GoroutinesFinished: 6, Steals: 0, null,
                Metrics: new Dictionary<string, double> { ["round_trips"] = 8000, ["rtt_p50_us"] = 91.25 }));

        if (workload == "timers")
        {
            int sleeps = int.Parse(args.GetValueOrDefault("sleeps", "1000"));
            var timers = TimerRecording(config, sleeps);
            if (args.GetValueOrDefault("stw", "0") == "1") AddPauses(timers, config.Gomaxprocs);
            return Task.FromResult(new RunOutcome(timers, WallNs: 100_000_000, GoroutinesStarted: 5, GoroutinesFinished: 5, Steals: 1, null));
        }

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
        // Like the runtime's: a run with no timer has an empty lateness histogram, not none.
        Set(recording, nameof(Recording.TimerLateness), new LongHistogram(1, 100_000_000_000, 3));
        SetNothingBlocked(recording);

        string? error = workload == "stuck" ? "all goroutines are asleep - deadlock!" : null;
        return Task.FromResult(new RunOutcome(recording, WallNs: 42_500_000, GoroutinesStarted: 9, GoroutinesFinished: error is null ? 9 : 7, Steals: 4, error));
    }

    public Recording ParseSchedTrace(string path) => SchedTraceParser.ParseFile(path);

    /// <summary>
    /// A run of this runtime that fired <paramref name="sleeps"/> timers over 100 ms: firing k is
    /// (k + 1) x <see cref="LatenessStepNs"/> late, on P k % GOMAXPROCS; five samples (unless the
    /// sampler is off) in which P p's heap holds 10 x (i + 1) + p timers, i of them deleted.
    /// </summary>
    private static Recording TimerRecording(GoConfig config, int sleeps)
    {
        int procs = config.Gomaxprocs;
        var recording = new Recording("gosched", "timers", config.ToString());
        var all = new LongHistogram(1, 100_000_000_000, 3);
        var byP = Enumerable.Range(0, procs).Select(_ => new LongHistogram(1, 100_000_000_000, 3)).ToArray();
        var firings = new List<TimerFiring>();
        for (int k = 0; k < sleeps; k++)
        {
            long late = (k + 1) * LatenessStepNs;
            all.RecordValue(late);
            byP[k % procs].RecordValue(late);
            firings.Add(new TimerFiring(100_000_000L * k / sleeps + late, k % procs, late));
        }
        Set(recording, nameof(Recording.TimerLateness), all);
        Set(recording, nameof(Recording.TimerLatenessByP), (IReadOnlyList<LongHistogram>)byP);
        Set(recording, nameof(Recording.TimerFirings), (IReadOnlyList<TimerFiring>)firings);
        Set(recording, nameof(Recording.ClearedDeletedTimers), Cleared);
        SetNothingBlocked(recording);
        if (config.SamplePeriodNs > 0)
        {
            var addSample = typeof(Recording).GetMethod("AddSample", BindingFlags.Instance | BindingFlags.NonPublic)!;
            for (int i = 0; i < 5; i++)
            {
                int[] heap = Enumerable.Range(0, procs).Select(p => 10 * (i + 1) + p).ToArray();
                int[] deleted = Enumerable.Repeat(i, procs).ToArray();
                addSample.Invoke(recording, [new SchedSample(i * 25_000_000L, procs, 0, procs + 1, 0, 0, 0, new int[procs], new bool[procs], null, heap, deleted)]);
            }
        }
        return recording;
    }

    /// <summary>Records <see cref="Pauses"/> as stop-the-world pauses of the run.</summary>
    private static void AddPauses(Recording recording, int procs)
    {
        var addPause = typeof(Recording).GetMethod("AddPause", BindingFlags.Instance | BindingFlags.NonPublic)!;
        foreach (var (start, length) in Pauses)
            addPause.Invoke(recording, [new StwPause(start * 1_000_000L, 100_000, length * 1_000_000L, "pause", procs, procs)]);
    }

    /// <summary>Like the runtime's, a run that neither polled nor made system calls: empty tables, not none.</summary>
    private static void SetNothingBlocked(Recording recording)
    {
        Set(recording, nameof(Recording.NetpollWakeLatency), new LongHistogram(1, 100_000_000_000, 3));
        Set(recording, nameof(Recording.Netpoll), new NetpollCounters(0, 0, 0, 0));
        Set(recording, nameof(Recording.Syscalls), new SyscallCounters(0, 0, 0));
    }

    /// <summary>
    /// The fake netecho run (args "wakes": goroutines woken by netpoll, wake k (k + 1) x
    /// <see cref="WakeStepNs"/> late) or syscall-block run (args "handoff"), over 100 ms with
    /// <see cref="Pauses"/>; five samples 25 ms apart (unless the sampler is off) in which sample i
    /// has seen 100 i polls (10 i blocking, 50 i goroutines readied) and 10 i system calls, of which
    /// the hand-offs are all immediate (handoff=1) or 3 i sysmon retakes; Ms: 1 running, i % 3 in a
    /// system call, 1 spinning, 2 idle, 0 idle locked, 1 in netpoll, of 6 threads.
    /// </summary>
    private static Recording BlockingRecording(string workload, GoConfig config, IReadOnlyDictionary<string, string> args)
    {
        int procs = config.Gomaxprocs;
        bool handoff = args.GetValueOrDefault("handoff", "0") == "1";
        var recording = new Recording("gosched", workload, config.ToString());
        SetNothingBlocked(recording);
        if (workload == "netecho")
        {
            int wakes = int.Parse(args.GetValueOrDefault("wakes", "500"));
            var h = new LongHistogram(1, 100_000_000_000, 3);
            for (int k = 0; k < wakes; k++) h.RecordValue((k + 1) * WakeStepNs);
            Set(recording, nameof(Recording.NetpollWakeLatency), h);
            Set(recording, nameof(Recording.Netpoll), new NetpollCounters(400, 40, 3, wakes));
        }
        else
        {
            Set(recording, nameof(Recording.Syscalls), new SyscallCounters(40, handoff ? 40 : 0, handoff ? 0 : 12));
        }
        AddPauses(recording, procs);
        if (config.SamplePeriodNs > 0)
        {
            var addSample = typeof(Recording).GetMethod("AddSample", BindingFlags.Instance | BindingFlags.NonPublic)!;
            for (int i = 0; i < 5; i++)
            {
                var sample = new SchedSample(i * 25_000_000L, procs, 0, 6, 1, 2, 0, new int[procs], new bool[procs], null,
                    Machines: new MachineCounts(1, i % 3, 1, 2, 0, 1),
                    Netpoll: workload == "netecho" ? new NetpollCounters(100 * i, 10 * i, 0, 50 * i) : new NetpollCounters(0, 0, 0, 0),
                    Syscalls: workload == "netecho" ? new SyscallCounters(0, 0, 0) : new SyscallCounters(10 * i, handoff ? 10 * i : 0, handoff ? 0 : 3 * i));
                addSample.Invoke(recording, [sample]);
            }
        }
        return recording;
    }

    // The timer tables have internal setters (the runtime fills them).
    private static void Set(Recording recording, string property, object value) =>
        typeof(Recording).GetProperty(property)!.GetSetMethod(nonPublic: true)!.Invoke(recording, [value]);

    // Recording.Counters has an internal setter (the runtime fills it); a parsed recording has none.
    private static void SetCounters(Recording recording, IReadOnlyList<ProcCounters> counters) =>
        typeof(Recording).GetProperty(nameof(Recording.Counters))!.GetSetMethod(nonPublic: true)!.Invoke(recording, [counters]);
}
