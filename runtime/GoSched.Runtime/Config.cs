// Config: the scheduler's knobs, as a plain object and as a GODEBUG-style string.
//
// Every knob has Go's default. Parse rejects what it does not know, with the list of what it does
// know: a misspelt knob must never silently fall back to a default.
using System.Globalization;
using System.Text;

namespace GoSched;

/// <summary>Thrown for a knob name or value the runtime does not accept.</summary>
public sealed class ConfigException(string message) : ArgumentException(message);

/// <summary>The knobs of one runtime. Immutable once the runtime starts (GOMAXPROCS changes go through the runtime).</summary>
public sealed record GoConfig
{
    /// <summary>The largest GOMAXPROCS this runtime accepts (at start and at run time).</summary>
    public const int MaxGomaxprocs = 256;

    /// <summary>Number of Ps (GOMAXPROCS). Default: the number of CPUs.</summary>
    public int Gomaxprocs { get; init; } = Environment.ProcessorCount;

    /// <summary>Rounds of stealWork over all Ps before an M gives up (Go: 4). 0 disables stealing.</summary>
    public int StealTries { get; init; } = 4;

    /// <summary>Slots in each P's local run queue ring (Go: 256). A power of two, at least 4.</summary>
    public int LocalRunqSize { get; init; } = 256;

    /// <summary>
    /// The largest runqsize: 65,536 slots, 512 KiB of ring per P, so 256 Ps hold 128 MiB at most
    /// (with 2^20 slots they asked for 2 GiB before the first goroutine ran).
    /// </summary>
    public const int MaxRunqSize = 1 << 16;

    /// <summary>findRunnable takes one G from the global queue every this many schedticks (Go: 61).</summary>
    public int GlobalRunqCheckInterval { get; init; } = 61;

    /// <summary>Whether newproc/ready use the P's runnext slot (Go: always).</summary>
    public bool RunNext { get; init; } = true;

    /// <summary>Go's race-mode randomizeScheduler: runnext skipped at random, runqputslow batches shuffled.</summary>
    public bool RandomizeScheduler { get; init; }

    /// <summary>Seed of the runtime's random generator (steal order, randomizeScheduler). 0: from entropy.</summary>
    public ulong Seed { get; init; }

    /// <summary>A goroutine running this long on one schedtick is asked to yield (Go's forcePreemptNS, 10 ms).</summary>
    public long ForcePreemptNs { get; init; } = 10_000_000;

    /// <summary>Sampler period in nanoseconds; 0 disables the sampler. At least 100 µs.</summary>
    public long SamplePeriodNs { get; init; } = 1_000_000;

    /// <summary>schedtrace period in nanoseconds (GODEBUG schedtrace=ms); 0: off.</summary>
    public long SchedTraceNs { get; init; }

    /// <summary>Print scheddetail blocks with each schedtrace line (GODEBUG scheddetail=1).</summary>
    public bool SchedDetail { get; init; }

    /// <summary>clearDeletedTimers when deleted timers exceed 1/TimerClearDeletedRatio of a P's heap (Go: on, 1/4).</summary>
    public bool TimerClearDeleted { get; init; } = true;

    /// <summary>The denominator of the deleted-timer rule (Go: 4).</summary>
    public int TimerClearDeletedRatio { get; init; } = 4;

    /// <summary>Check the timer heap property after every heap operation (Go's verifyTimers; slow, for tests).</summary>
    public bool TimerCheckHeap { get; init; }

    /// <summary>Length of each synthetic stop-the-world pause, in ns (GODEBUG stwpauseus=µs); needs StwPeriodNs.</summary>
    public long StwPauseNs { get; init; }

    /// <summary>A synthetic stop-the-world every this many ns (GODEBUG stwperiodms=ms); 0: none.</summary>
    public long StwPeriodNs { get; init; }

    private static readonly string[] s_knobs =
    {
        "gomaxprocs", "stealtries", "runqsize", "globalrunqcheck", "runnext", "randomizescheduler", "seed",
        "forcepreemptns", "sampleperiodus", "schedtrace", "scheddetail", "timerclear", "timerclearratio", "verifytimers",
        "stwpauseus", "stwperiodms",
    };

    /// <summary>The names accepted by <see cref="Parse"/> and <see cref="With"/>.</summary>
    public static IReadOnlyList<string> KnobNames => s_knobs;

    /// <summary>Checks every knob and throws <see cref="ConfigException"/> naming the first bad one.</summary>
    public GoConfig Validate()
    {
        if (Gomaxprocs < 1 || Gomaxprocs > MaxGomaxprocs) throw new ConfigException($"gomaxprocs={Gomaxprocs}: must be between 1 and {MaxGomaxprocs}");
        if (StealTries < 0 || StealTries > 64) throw new ConfigException($"stealtries={StealTries}: must be between 0 and 64");
        if (LocalRunqSize < 4 || LocalRunqSize > MaxRunqSize || (LocalRunqSize & (LocalRunqSize - 1)) != 0)
            throw new ConfigException($"runqsize={LocalRunqSize}: must be a power of two between 4 and {MaxRunqSize}");
        // 1 would take the global queue first on every round: goroutines preempted onto it would
        // starve every local queue forever (a run with CPU-bound goroutines never ends).
        if (GlobalRunqCheckInterval < 2 || GlobalRunqCheckInterval > 1 << 20)
            throw new ConfigException($"globalrunqcheck={GlobalRunqCheckInterval}: must be between 2 and 1048576 (with 1 the global queue starves the local queues)");
        if (ForcePreemptNs < 10_000 || ForcePreemptNs > MaxForcePreemptNs)
            throw new ConfigException($"forcepreemptns={ForcePreemptNs}: must be between 10000 (10 µs) and {MaxForcePreemptNs} (1 h)");
        if (SamplePeriodNs != 0 && (SamplePeriodNs < 100_000 || SamplePeriodNs > MaxSamplePeriodUs * 1000))
            throw new ConfigException($"sampleperiodus={SamplePeriodNs / 1000}: must be 0 (off) or between 100 and {MaxSamplePeriodUs} (10 s)");
        if (TimerClearDeletedRatio < 1 || TimerClearDeletedRatio > 1024) throw new ConfigException($"timerclearratio={TimerClearDeletedRatio}: must be between 1 and 1024");
        if (SchedTraceNs < 0 || SchedTraceNs > MaxSchedTraceMs * 1_000_000) throw new ConfigException($"schedtrace={SchedTraceNs / 1_000_000}: must be 0 (off) or a period in milliseconds up to {MaxSchedTraceMs} (1 h)");
        if (StwPeriodNs < 0 || StwPeriodNs > MaxStwPeriodMs * 1_000_000) throw new ConfigException($"stwperiodms={StwPeriodNs / 1_000_000}: must be 0 (off) or between 1 and {MaxStwPeriodMs}");
        if (StwPauseNs < 0 || StwPauseNs > MaxStwPauseUs * 1000) throw new ConfigException($"stwpauseus={StwPauseNs / 1000}: must be between 0 and {MaxStwPauseUs} (10 s)");
        if (StwPauseNs > 0 && StwPeriodNs == 0) throw new ConfigException($"stwpauseus={StwPauseNs / 1000}: needs stwperiodms (how often to pause)");
        if (StwPeriodNs > 0 && StwPauseNs >= StwPeriodNs) throw new ConfigException($"stwpauseus={StwPauseNs / 1000}: must be shorter than stwperiodms={StwPeriodNs / 1_000_000}");
        return this;
    }

    /// <summary>Parses "gomaxprocs=2,stealtries=0,runnext=0" over the defaults.</summary>
    public static GoConfig Parse(string godebug) => new GoConfig().With(godebug);

    /// <summary>Applies "name=value,..." over this config.</summary>
    public GoConfig With(string godebug)
    {
        var c = this;
        foreach (var raw in godebug.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = raw.IndexOf('=');
            if (eq <= 0) throw new ConfigException($"'{raw}': expected name=value (knobs: {string.Join(", ", s_knobs)})");
            c = c.With(raw[..eq].Trim(), raw[(eq + 1)..].Trim());
        }
        return c.Validate();
    }

    /// <summary>Sets one knob by its GODEBUG name.</summary>
    public GoConfig With(string name, string value) => name.ToLowerInvariant() switch
    {
        "gomaxprocs" => this with { Gomaxprocs = Int(name, value) },
        "stealtries" => this with { StealTries = Int(name, value) },
        "runqsize" => this with { LocalRunqSize = Int(name, value) },
        "globalrunqcheck" => this with { GlobalRunqCheckInterval = Int(name, value) },
        "runnext" => this with { RunNext = Bool(name, value) },
        "randomizescheduler" => this with { RandomizeScheduler = Bool(name, value) },
        "seed" => this with { Seed = ULong(name, value) },
        "forcepreemptns" => this with { ForcePreemptNs = Long(name, value) },
        "sampleperiodus" => this with { SamplePeriodNs = Scaled(name, value, 1000, MaxSamplePeriodUs) },
        "schedtrace" => this with { SchedTraceNs = Scaled(name, value, 1_000_000, MaxSchedTraceMs) },
        "scheddetail" => this with { SchedDetail = Bool(name, value) },
        "timerclear" => this with { TimerClearDeleted = Bool(name, value) },
        "timerclearratio" => this with { TimerClearDeletedRatio = Int(name, value) },
        "verifytimers" => this with { TimerCheckHeap = Bool(name, value) },
        "stwpauseus" => this with { StwPauseNs = Scaled(name, value, 1000, MaxStwPauseUs) },
        "stwperiodms" => this with { StwPeriodNs = Scaled(name, value, 1_000_000, MaxStwPeriodMs) },
        _ => throw new ConfigException($"unknown knob '{name}' (knobs: {string.Join(", ", s_knobs)})"),
    };

    /// <summary>
    /// One knob's value as <see cref="With(string, string)"/> takes it, in the knob's own unit
    /// (sampleperiodus in µs, schedtrace and stwperiodms in ms, booleans as 0 or 1).
    /// </summary>
    public string ValueOf(string knob) => knob.ToLowerInvariant() switch
    {
        "gomaxprocs" => Num(Gomaxprocs),
        "stealtries" => Num(StealTries),
        "runqsize" => Num(LocalRunqSize),
        "globalrunqcheck" => Num(GlobalRunqCheckInterval),
        "runnext" => Flag(RunNext),
        "randomizescheduler" => Flag(RandomizeScheduler),
        "seed" => Seed.ToString(CultureInfo.InvariantCulture),
        "forcepreemptns" => Num(ForcePreemptNs),
        "sampleperiodus" => Num(SamplePeriodNs / 1000),
        "schedtrace" => Num(SchedTraceNs / 1_000_000),
        "scheddetail" => Flag(SchedDetail),
        "timerclear" => Flag(TimerClearDeleted),
        "timerclearratio" => Num(TimerClearDeletedRatio),
        "verifytimers" => Flag(TimerCheckHeap),
        "stwpauseus" => Num(StwPauseNs / 1000),
        "stwperiodms" => Num(StwPeriodNs / 1_000_000),
        _ => throw new ConfigException($"unknown knob '{knob}' (knobs: {string.Join(", ", s_knobs)})"),
    };

    private static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Flag(bool v) => v ? "1" : "0";

    /// <summary>The knobs that differ from Go's defaults, plus gomaxprocs, in GODEBUG form.</summary>
    public override string ToString()
    {
        var d = new GoConfig();
        var sb = new StringBuilder($"gomaxprocs={Gomaxprocs}");
        foreach (string knob in s_knobs.Skip(1)) // gomaxprocs is always there, first
        {
            string v = ValueOf(knob);
            if (v != d.ValueOf(knob)) sb.Append(',').Append(knob).Append('=').Append(v);
        }
        return sb.ToString();
    }

    /// <summary>The longest schedtrace period, in ms (an hour).</summary>
    public const long MaxSchedTraceMs = 3_600_000;
    private const long MaxSamplePeriodUs = 10_000_000, MaxStwPeriodMs = 3_600_000, MaxStwPauseUs = 10_000_000;
    private const long MaxForcePreemptNs = 3_600_000_000_000;

    /// <summary>
    /// A knob given in a coarser unit, in ns. Values far outside the knob's range are refused here,
    /// before the multiplication could overflow; the exact range is checked by <see cref="Validate"/>.
    /// </summary>
    private static long Scaled(string name, string v, long unit, long maxUnits)
    {
        long x = Long(name, v);
        if (x > maxUnits || x < -maxUnits) throw new ConfigException($"{name}={v}: must be at most {maxUnits}");
        return x * unit;
    }

    private static long Long(string name, string v) =>
        long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x
        : throw new ConfigException($"{name}={v}: {NotAnInteger(v)}");

    private static int Int(string name, string v) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x
        : throw new ConfigException($"{name}={v}: {NotAnInteger(v)}");

    private static ulong ULong(string name, string v) =>
        ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x
        : throw new ConfigException($"{name}={v}: {(IsInteger(v) ? "out of range (a non-negative integer below 2^64)" : "not a non-negative integer")}");

    /// <summary>What is wrong with a value no 64-bit integer holds: too many digits, or no integer at all.</summary>
    internal static string NotAnInteger(string v) => IsInteger(v) ? "out of range" : "not an integer";

    /// <summary>True for an integer of any size (a value that may only be out of range).</summary>
    internal static bool IsInteger(string v) =>
        System.Numerics.BigInteger.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);

    private static bool Bool(string name, string v) => v.ToLowerInvariant() switch
    {
        "1" or "true" or "on" => true,
        "0" or "false" or "off" => false,
        _ => throw new ConfigException($"{name}={v}: expected 0 or 1"),
    };
}
