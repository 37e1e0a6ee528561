// Recording: what a run leaves behind, as plain tables.
//
// A recording is the public face of a run. It is filled either by the runtime's own sampler and
// schedtrace (Source = "gosched") or by SchedTraceParser from a real Go program's
// GODEBUG=schedtrace/scheddetail output (Source = "go"), so that a notebook plots both the same way.
// Every table is a list of immutable rows; nothing in here references live scheduler state.
namespace GoSched.Observability;

/// <summary>One reading of the scheduler's global state, taken without the scheduler's locks.</summary>
/// <param name="TimeNs">Nanoseconds since the run started.</param>
/// <param name="Gomaxprocs">GOMAXPROCS at the time of the sample.</param>
/// <param name="IdleProcs">Ps on the idle list (sched.npidle).</param>
/// <param name="Threads">Threads: Ms created and not freed, plus sysmon's (mcount).</param>
/// <param name="SpinningThreads">Spinning Ms (sched.nmspinning).</param>
/// <param name="IdleThreads">Ms parked on the idle list (sched.nmidle).</param>
/// <param name="GlobalRunq">Length of the global run queue (sched.runqsize).</param>
/// <param name="LocalRunq">Per P: goroutines in the local ring (runqtail - runqhead), as Go's schedtrace prints them.</param>
/// <param name="RunNext">Per P: whether runnext holds a goroutine; null when the source does not say (Go's logs).</param>
/// <param name="Goroutines">Goroutines by status; null when the source does not say.</param>
/// <param name="TimersLen">Per P: timers on its heap (Go's timerslen); null when unknown.</param>
/// <param name="DeletedTimers">Per P: deleted timers still on its heap; null when unknown.</param>
/// <param name="Machines">Ms by what they are doing; null when the source does not say (Go's logs).</param>
/// <param name="Netpoll">The network poller's counters so far (cumulative); null when unknown.</param>
/// <param name="Syscalls">System calls and P hand-offs so far (cumulative); null when unknown.</param>
public sealed record SchedSample(
    long TimeNs,
    int Gomaxprocs,
    int IdleProcs,
    int Threads,
    int SpinningThreads,
    int IdleThreads,
    int GlobalRunq,
    int[] LocalRunq,
    bool[]? RunNext,
    GoroutineCounts? Goroutines,
    int[]? TimersLen = null,
    int[]? DeletedTimers = null,
    MachineCounts? Machines = null,
    NetpollCounters? Netpoll = null,
    SyscallCounters? Syscalls = null)
{
    /// <summary>Depth of P <paramref name="p"/>'s local queue counting runnext (ring only when runnext is unknown).</summary>
    public int Depth(int p) => LocalRunq[p] + (RunNext is { } rn && rn[p] ? 1 : 0);
}

/// <summary>One stop-the-world (a GOMAXPROCS change or a synthetic pause of the stwperiodms knob).</summary>
/// <param name="TimeNs">When it was asked for, in ns since the run started.</param>
/// <param name="StopNs">How long until every P had stopped (Go's time-to-stop).</param>
/// <param name="DurationNs">From the request until the world started again: the pause goroutines saw.</param>
/// <param name="Reason">"GOMAXPROCS" or "pause" (the knob).</param>
/// <param name="ProcsBefore">GOMAXPROCS before.</param>
/// <param name="ProcsAfter">GOMAXPROCS after.</param>
public sealed record StwPause(long TimeNs, long StopNs, long DurationNs, string Reason, int ProcsBefore, int ProcsAfter);

/// <summary>
/// Ms by what they are doing at one instant (racy reads, like the rest of a sample; an M between
/// two states, e.g. in the scheduler holding a P without spinning, is in none of them).
/// </summary>
/// <param name="Running">Ms holding a P and running a goroutine.</param>
/// <param name="Syscall">Ms in a system call (goroutines in _Gsyscall: each holds its M).</param>
/// <param name="Spinning">Ms looking for work (sched.nmspinning).</param>
/// <param name="Idle">Ms parked on the idle list (sched.nmidle).</param>
/// <param name="IdleLocked">Ms parked waiting for their locked goroutine (sched.nmidlelocked).</param>
/// <param name="Netpoll">Ms blocked in netpoll: 0 or 1 (sched.lastpoll == 0).</param>
public sealed record MachineCounts(int Running, int Syscall, int Spinning, int Idle, int IdleLocked, int Netpoll);

/// <summary>The network poller's counters (cumulative: since the run started).</summary>
/// <param name="Polls">netpoll calls, blocking or not.</param>
/// <param name="BlockingPolls">Of those, the ones in which an M could sleep (a delay other than 0).</param>
/// <param name="Breaks">netpollBreak wake-ups actually signalled (at most one pending at a time).</param>
/// <param name="Readied">Goroutines the polls made ready.</param>
public sealed record NetpollCounters(long Polls, long BlockingPolls, long Breaks, long Readied);

/// <summary>System calls and the P hand-offs they caused (cumulative: since the run started).</summary>
/// <param name="Syscalls">Go.Syscall and Go.SyscallBlock calls (entersyscall and entersyscallblock).</param>
/// <param name="BlockHandoffs">Ps handed off at once by Go.SyscallBlock (entersyscallblock's handoffp).</param>
/// <param name="SysmonRetakes">Ps sysmon took back from system calls and handed off (retake).</param>
public sealed record SyscallCounters(long Syscalls, long BlockHandoffs, long SysmonRetakes)
{
    /// <summary>Every hand-off of a P from a system call: immediate ones plus sysmon's.</summary>
    public long Handoffs => BlockHandoffs + SysmonRetakes;
}

/// <summary>Goroutines by status at one instant.</summary>
public sealed record GoroutineCounts(int Runnable, int Running, int Waiting, int Syscall, int Dead);

/// <summary>One P line of scheddetail ("  P0: status=1 schedtick=10 ...").</summary>
public sealed record ProcDetail(int Id, int Status, long SchedTick, long SyscallTick, long M, int RunqSize, int GFreeCount, int TimersLen);

/// <summary>One M line of scheddetail.</summary>
public sealed record MachineDetail(long Id, int P, long CurG, bool Spinning, bool Blocked, long LockedG);

/// <summary>One G line of scheddetail ("  G1: status=4(chan receive) m=-1 lockedm=-1").</summary>
public sealed record GoroutineDetail(long Id, int Status, string WaitReason, long M, long LockedM);

/// <summary>The scheddetail block that follows one SCHED line.</summary>
public sealed record SchedDetail(long TimeNs, IReadOnlyList<ProcDetail> Procs, IReadOnlyList<MachineDetail> Machines, IReadOnlyList<GoroutineDetail> Goroutines);

/// <summary>Per-P scheduler counters at the end of a run (see Counters.cs for what each one counts).</summary>
public sealed record ProcCounters(
    int P,
    long SchedTicks,
    long StealOps,
    long StolenGs,
    long RunNextHits,
    long GlobalRunqTakes,
    long Spins,
    long Parks);

/// <summary>
/// The recording of one run: samples, schedtrace lines, scheddetail snapshots and counters.
/// Written by one producer (the runtime's sampler, or the parser); read after the run, or while it
/// runs through <see cref="SnapshotSamples"/>.
/// </summary>
public sealed class Recording
{
    private readonly List<SchedSample> _samples = new();
    private readonly List<string> _schedTrace = new();
    private readonly List<SchedDetail> _details = new();
    private readonly List<StwPause> _pauses = new();
    private readonly object _gate = new();

    public Recording(string source, string workload, string settings)
    {
        Source = source;
        Workload = workload;
        Settings = settings;
    }

    /// <summary>"gosched" for this runtime, "go" for a parsed Go log.</summary>
    public string Source { get; }

    /// <summary>Workload name (or file name for a parsed log).</summary>
    public string Workload { get; }

    /// <summary>The knobs in GODEBUG form, e.g. "gomaxprocs=2,stealtries=4".</summary>
    public string Settings { get; }

    /// <summary>A short label for legends: "gosched fanout gomaxprocs=2,...".</summary>
    public string Label => $"{Source} {Workload} {Settings}".Trim();

    public IReadOnlyList<SchedSample> Samples { get { lock (_gate) return _samples.ToArray(); } }
    public IReadOnlyList<string> SchedTrace { get { lock (_gate) return _schedTrace.ToArray(); } }
    public IReadOnlyList<SchedDetail> Details { get { lock (_gate) return _details.ToArray(); } }

    /// <summary>Every stop-the-world of the run, in order (empty for parsed Go logs).</summary>
    public IReadOnlyList<StwPause> Pauses { get { lock (_gate) return _pauses.ToArray(); } }

    /// <summary>Per-P counters at the end of the run (empty for parsed Go logs).</summary>
    public IReadOnlyList<ProcCounters> Counters { get; internal set; } = Array.Empty<ProcCounters>();

    /// <summary>Lateness (fired - due, ns) of every timer of the run, all Ps merged; null for parsed Go logs.</summary>
    public HdrHistogram.LongHistogram? TimerLateness { get; internal set; }

    /// <summary>Per P: lateness of the timers that P ran.</summary>
    public IReadOnlyList<HdrHistogram.LongHistogram> TimerLatenessByP { get; internal set; } = Array.Empty<HdrHistogram.LongHistogram>();

    /// <summary>Individual timer firings (time, P, lateness), thinned evenly past 200,000 per P.</summary>
    public IReadOnlyList<TimerFiring> TimerFirings { get; internal set; } = Array.Empty<TimerFiring>();

    /// <summary>
    /// Netpoll wake latency (ns): for every goroutine a netpoll call readied, from the poll
    /// returning it until it started running (execute), all Ps merged; null for parsed Go logs.
    /// </summary>
    public HdrHistogram.LongHistogram? NetpollWakeLatency { get; internal set; }

    /// <summary>The network poller's counters at the end of the run; null for parsed Go logs.</summary>
    public NetpollCounters? Netpoll { get; internal set; }

    /// <summary>System calls, their immediate hand-offs and sysmon's retakes at the end of the run; null for parsed Go logs.</summary>
    public SyscallCounters? Syscalls { get; internal set; }

    /// <summary>Netpoll wake latency percentile in ms (e.g. 50, 99); NaN if no goroutine was woken by netpoll.</summary>
    public double NetpollWakeLatencyMs(double percentile) =>
        NetpollWakeLatency is { TotalCount: > 0 } h ? h.GetValueAtPercentile(percentile) / 1e6 : double.NaN;

    /// <summary>Deleted timers removed by the 1/4 rule (clearDeletedTimers), all Ps.</summary>
    public long ClearedDeletedTimers { get; internal set; }

    /// <summary>Lateness percentile in ms (e.g. 50, 99, 99.9); NaN if no timer fired.</summary>
    public double TimerLatenessMs(double percentile) =>
        TimerLateness is { TotalCount: > 0 } h ? h.GetValueAtPercentile(percentile) / 1e6 : double.NaN;

    /// <summary>Wall time of the run in nanoseconds (last sample's time for parsed logs).</summary>
    public long WallNs { get; internal set; }

    public IReadOnlyList<SchedSample> SnapshotSamples() => Samples;

    internal void AddSample(SchedSample s) { lock (_gate) _samples.Add(s); }
    internal void AddSchedTrace(string line) { lock (_gate) _schedTrace.Add(line); }
    internal void AddDetail(SchedDetail d) { lock (_gate) _details.Add(d); }
    internal void AddPause(StwPause p) { lock (_gate) _pauses.Add(p); }

    /// <summary>Time of each sample in milliseconds, for plotting.</summary>
    public double[] TimesMs() { lock (_gate) return _samples.Select(s => s.TimeNs / 1e6).ToArray(); }

    /// <summary>Depth of P <paramref name="p"/>'s local queue (with runnext where known) over time; 0 where P did not exist.</summary>
    public int[] RunqDepth(int p) { lock (_gate) return _samples.Select(s => p < s.LocalRunq.Length ? s.Depth(p) : 0).ToArray(); }

    /// <summary>Global run-queue length over time.</summary>
    public int[] GlobalRunq() { lock (_gate) return _samples.Select(s => s.GlobalRunq).ToArray(); }

    /// <summary>The largest number of Ps seen in any sample.</summary>
    public int MaxProcs() { lock (_gate) return _samples.Count == 0 ? 0 : _samples.Max(s => s.LocalRunq.Length); }
}
