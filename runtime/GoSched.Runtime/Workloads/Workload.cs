// The workload catalogue: named, parameterised programs of real goroutines.
//
// Each workload is a main goroutine plus its parameters with Go-style defaults. The Go programs in
// datasets/go/ run the same workloads with the same parameter names, so a run here and a Go
// capture can be plotted side by side. Parameters are typed (int or duration); an unknown name or a
// bad value is an error that lists what is valid, never a silent default.
using System.Globalization;
using GoSched.Internal;

namespace GoSched.Workloads;

/// <summary>An unknown workload or parameter, or a bad parameter value.</summary>
public sealed class WorkloadException(string message) : ArgumentException(message);

/// <summary>The kind of a workload parameter.</summary>
public enum ParamKind { Int, Duration }

/// <summary>One parameter of a workload, with its default.</summary>
public sealed record WorkloadParam(string Name, ParamKind Kind, string Default, string Description, long Min = 1, long Max = long.MaxValue)
{
    /// <summary>Parses a value: an integer, or a duration like 50us, 2ms, 1s, 750ns (in ns).</summary>
    public long Parse(string value)
    {
        long v = Kind == ParamKind.Int
            ? (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
                : throw new WorkloadException(GoConfig.IsInteger(value)
                    ? $"{Name}={value}: must be between {Show(Min)} and {Show(Max)}"
                    : $"{Name}={value}: not an integer"))
            : TryParseDuration(value, out long d, out bool tooLarge) ? d
            : throw new WorkloadException(tooLarge
                ? $"{Name}={value}: must be between {Show(Min)} and {Show(Max)} (too large for a duration)"
                : value.TrimStart().StartsWith('-') && ParseDuration(value.TrimStart()[1..]) is { }
                ? $"{Name}={value}: must be between {Show(Min)} and {Show(Max)} (a negative duration)"
                : $"{Name}={value}: not a duration (Go's form: 750ns, 50us, 2ms, 1.5s, 2m)");
        if (v < Min || v > Max)
            throw new WorkloadException($"{Name}={value}: must be between {Show(Min)} and {Show(Max)}");
        return v;
    }

    private string Show(long v) => Kind == ParamKind.Duration ? FormatDuration(v) : v.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Go's time.ParseDuration, in ns: a sequence of decimal numbers, each with a unit (ns, us, µs,
    /// ms, s, m, h), as in "300ms", "1.5h" or "2h45m"; "0" alone is zero. No sign: parameters are
    /// never negative. Null when it is not a duration or does not fit in an int64 of ns.
    /// </summary>
    public static long? ParseDuration(string s) => Durations.Parse(s);

    /// <summary><see cref="ParseDuration"/>, saying whether a text that is not read is a duration too large for an int64 of ns.</summary>
    public static bool TryParseDuration(string s, out long ns, out bool tooLarge) => Durations.TryParse(s, out ns, out tooLarge);

    /// <summary>
    /// A duration as Go's time.Duration.String() writes it (750ns, 50us, 1.5ms, 2s, 1m30s, 1h0m0s),
    /// with "us" for Go's "µs"; <see cref="ParseDuration"/> reads it back to the ns.
    /// </summary>
    public static string FormatDuration(long ns) => Durations.Format(ns);
}

/// <summary>
/// Workload arguments as written on a command line: `gosched run --arg` and the notebook's
/// `#!gosched run --arg` read them with this one parser, so the two accept the same text.
/// </summary>
public static class WorkloadArgText
{
    /// <summary>
    /// Reads --arg values given to workload <paramref name="workload"/>, whose parameters are
    /// <paramref name="parameters"/>: each value is name=value, or several separated by commas
    /// (rounds=1,workers=2). Names are matched without regard to case, as <see cref="Workload.Bind"/>
    /// does, and come back as the parameter spells them; values are left as text, for Bind to
    /// check. Throws <see cref="WorkloadException"/> for an empty value or item (`""`, `a=1,,b=2`, a
    /// trailing comma), a piece that is not name=value, a name the workload does not have, or a name
    /// given twice (the last one used to win without a word).
    /// </summary>
    public static Dictionary<string, string> Parse(string workload, IReadOnlyCollection<string> parameters, IEnumerable<string> values)
    {
        string names = parameters.Count == 0 ? "none" : string.Join(", ", parameters);
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string value in values)
        {
            // Empty items were dropped without a word (`--arg ""`, `--arg ,`, rounds=1,,workers=2):
            // a value lost between commas or quotes ran with its default.
            if (string.IsNullOrWhiteSpace(value))
                throw new WorkloadException($"--arg '{value}': empty; expected name=value ({workload} parameters: {names})");
            string[] pairs = value.Split(',', StringSplitOptions.TrimEntries);
            if (Array.IndexOf(pairs, "") is var empty and >= 0)
                throw new WorkloadException($"--arg {value.Trim()}: item {empty + 1} of {pairs.Length} is empty; separate name=value items with single commas");
            foreach (string pair in pairs) Add(pair);
        }
        return args;

        void Add(string pair)
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1)
                throw new WorkloadException($"--arg {pair}: expected name=value ({workload} parameters: {names})");
            string key = pair[..eq].Trim();
            string name = parameters.FirstOrDefault(p => string.Equals(p, key, StringComparison.OrdinalIgnoreCase))
                ?? throw new WorkloadException($"--arg {pair}: {workload} has no parameter '{key}' (parameters: {names})");
            if (args.TryGetValue(name, out string? earlier))
                throw new WorkloadException($"--arg {pair}: {name} given twice ({name}={earlier} before it); give each parameter once");
            args[name] = pair[(eq + 1)..].Trim();
        }
    }
}

/// <summary>Parsed parameters of one workload run.</summary>
public sealed class WorkloadArgs
{
    private readonly Dictionary<string, long> _values;
    internal WorkloadArgs(Dictionary<string, long> values) { _values = values; }
    public long this[string name] => _values[name];
    public int Int(string name) => checked((int)_values[name]);
    public IReadOnlyDictionary<string, long> Values => _values;
}

/// <summary>A named workload: parameters and a main goroutine.</summary>
public sealed class Workload
{
    private readonly Func<WorkloadArgs, WorkloadRun, GoTask> _main;

    internal Workload(string name, string description, IReadOnlyList<WorkloadParam> parameters, Func<WorkloadArgs, WorkloadRun, GoTask> main)
    {
        Name = name;
        Description = description;
        Parameters = parameters;
        _main = main;
    }

    public string Name { get; }
    public string Description { get; }
    public IReadOnlyList<WorkloadParam> Parameters { get; }

    /// <summary>Knobs a workload sets from its arguments (the stw workload's pause knobs), applied to the run's config.</summary>
    internal Func<GoConfig, WorkloadArgs, GoConfig>? Configure { get; init; }

    /// <summary>
    /// Rules that tie arguments together (timers: max not below min), checked by <see cref="Bind"/>
    /// once every value is in its own range; throws <see cref="WorkloadException"/> naming the arguments.
    /// </summary>
    internal Action<WorkloadArgs>? Check { get; init; }

    /// <summary>Checks and completes the arguments with defaults; throws WorkloadException naming the problem.</summary>
    public WorkloadArgs Bind(IReadOnlyDictionary<string, string>? args)
    {
        var values = Parameters.ToDictionary(p => p.Name, p => p.Parse(p.Default));
        if (args != null)
        {
            foreach (var (k, v) in args)
            {
                var p = Parameters.FirstOrDefault(x => string.Equals(x.Name, k, StringComparison.OrdinalIgnoreCase))
                    ?? throw new WorkloadException($"workload '{Name}' has no parameter '{k}' (parameters: {string.Join(", ", Parameters.Select(x => x.Name))})");
                values[p.Name] = p.Parse(v);
            }
        }
        var bound = new WorkloadArgs(values);
        Check?.Invoke(bound);
        return bound;
    }

    /// <summary>
    /// Runs the workload on a new runtime with <paramref name="config"/> and returns what happened
    /// (errors such as deadlock or panic are in the result, not thrown). Bad arguments throw.
    /// </summary>
    /// <param name="started">Called with the run's runtime before it starts (e.g. to change its GOMAXPROCS while it runs).</param>
    public RunResult Run(GoConfig config, IReadOnlyDictionary<string, string>? args = null, TimeSpan? timeout = null, TextWriter? schedTraceOut = null,
        CancellationToken cancellationToken = default, Action<GoRuntime>? started = null)
    {
        var bound = Bind(args);
        if (Configure != null) config = Configure(config, bound);
        using var rt = new GoRuntime(config).WithWorkloadName(Name);
        rt.SchedTraceOut = schedTraceOut;
        var run = new WorkloadRun();
        started?.Invoke(rt);
        var result = rt.Run(() => _main(bound, run), timeout ?? TimeSpan.FromMinutes(10), cancellationToken);
        return result with { Metrics = run.Metrics, Arguments = bound.Values };
    }

    /// <summary><see cref="Run"/> off the calling thread (the notebook's way).</summary>
    public Task<RunResult> RunAsync(GoConfig config, IReadOnlyDictionary<string, string>? args = null, TimeSpan? timeout = null, TextWriter? schedTraceOut = null,
        CancellationToken cancellationToken = default, Action<GoRuntime>? started = null)
    {
        Bind(args); // argument errors surface synchronously, before any thread starts
        var tcs = new TaskCompletionSource<RunResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var t = new Thread(() =>
        {
            try { tcs.SetResult(Run(config, args, timeout, schedTraceOut, cancellationToken, started)); }
            catch (Exception e) { tcs.SetException(e); }
        }) { IsBackground = true, Name = $"gosched-workload-{Name}" };
        t.Start();
        return tcs.Task;
    }

    public override string ToString() => $"{Name}: {Description}";
}

/// <summary>What a running workload reports besides the scheduler's own figures.</summary>
public sealed class WorkloadRun
{
    internal readonly Dictionary<string, double> Metrics = new();
    /// <summary>Sets a workload-specific figure (e.g. "ns_per_hop").</summary>
    public void Report(string name, double value) { lock (Metrics) Metrics[name] = value; }
    public static long Now() => Clock.Nanotime();

    /// <summary>
    /// A reported figure as the summaries print it (`gosched run`, a notebook's Figures column):
    /// three decimals, and three significant digits below 0.001, so that a small ratio that is not
    /// zero (8 parks in 40,000 locks) does not print as 0 beside the count it was made from.
    /// </summary>
    public static string FormatFigure(double value) => value != 0 && Math.Abs(value) < 0.001
        ? value.ToString("G3", CultureInfo.InvariantCulture)
        : value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>The running runtime's P-nanoseconds so far (<see cref="GoRuntime.ProcTimeNs"/>); call from a goroutine.</summary>
    public static long ProcNs() => GoRuntime.Current.ProcTimeNs();
}

/// <summary>The named workloads.</summary>
public static class WorkloadCatalog
{
    private static readonly Workload[] s_all =
    {
        Fanout.Workload, Imbalance.Workload, PingPong.Workload, Ring.Workload, Spawn.Workload, MutexContention.Workload,
        Timers.Workload, Tickers.Workload, Timers.UnderLoad, TimerChurn.Workload,
        SyscallBlock.Workload, Locked.Workload, Resize.Workload, Stw.Workload, NetEcho.Workload,
    };

    public static IReadOnlyList<Workload> All => s_all;

    public static IEnumerable<string> Names => s_all.Select(w => w.Name);

    /// <summary>The workload called <paramref name="name"/>; throws WorkloadException listing the valid names.</summary>
    public static Workload Get(string name) =>
        s_all.FirstOrDefault(w => string.Equals(w.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new WorkloadException($"unknown workload '{name}' (workloads: {string.Join(", ", Names)})");
}
