// The command tree: run, workloads (and bench, notebook as their projects land).
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GoSched.Benchmarks;
using GoSched.Notebooks;
using GoSched.Workloads;
using HdrHistogram;

namespace GoSched.Cli;

public static class CliApp
{
    /// <summary>How often a long `gosched run` says how far it got, on stderr (<see cref="RunProgress"/>).</summary>
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(5);

    /// <param name="progressEvery">the period of `run`'s progress lines; default <see cref="ProgressEvery"/> (tests shorten it).</param>
    /// <param name="interruption">what stops `run` and `notebook` at SIGINT or SIGTERM (the program's listens for the real
    /// signals; tests trigger their own); default: none comes.</param>
    public static RootCommand Build(TextWriter stdout, TextWriter stderr, TimeSpan? progressEvery = null, Interruption? interruption = null)
    {
        interruption ??= new Interruption(posix: false);
        var root = new RootCommand("GoSched Workbench: Go's goroutine scheduler in C#, run from the command line.");
        root.Subcommands.Add(RunCommand(stdout, stderr, progressEvery ?? ProgressEvery, interruption));
        root.Subcommands.Add(WorkloadsCommand(stdout, stderr));
        root.Subcommands.Add(BenchCommand(stdout, stderr));
        root.Subcommands.Add(NotebookCommand(stdout, stderr, interruption));
        // `gosched` alone shows the help; an unknown command is one line naming the commands
        // (System.CommandLine's own report is the help dump after "Required command was not provided").
        string commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
        root.Action = new CheckedAction(stderr, parse =>
        {
            new System.CommandLine.Help.HelpAction().Invoke(parse);
            return 1;
        }, unknownArgument: token => $"unknown command '{token}' (commands: {commands}; see gosched --help)");
        return root;
    }

    private static Command BenchCommand(TextWriter stdout, TextWriter stderr)
    {
        var workload = new Argument<string>("workload") { Description = $"benchmark: {string.Join(", ", BenchRunner.Names)}" };
        var gomaxprocs = IntOptions.Create("--gomaxprocs", "Ps for gosched and GOMAXPROCS for Go", 2);
        var reps = IntOptions.Create("--reps", "timed repetitions of each system", 7);
        var quick = new Option<bool>("--quick") { Description = "small sizes, one repetition, no Go: checks that it runs" };
        var noGo = new Option<bool>("--no-go") { Description = "skip the Go 1.19 reference" };
        var godebug = new Option<string?>("--godebug") { Description = "further gosched knobs, name=value,..." };
        var json = new Option<bool>("--json") { Description = "print the report as one JSON object" };
        var cmd = new Command("bench", "measure a workload on gosched, the .NET thread pool and Go 1.19, side by side")
        {
            workload, gomaxprocs, reps, quick, noGo, godebug, json,
        };
        cmd.Action = new CheckedAction(stderr, parse =>
        {
            // A quick run checks that a benchmark runs, in one small repetition; --reps 5 with it ran
            // one without a word. Refused rather than honoured: more repetitions of the small sizes
            // would still be no measurement, but would look like one.
            if (parse.GetValue(quick) && parse.GetResult(reps) is { Implicit: false } && parse.GetValue(reps) > 1)
            {
                stderr.WriteLine($"gosched bench: --reps {parse.GetValue(reps)} with --quick: a quick run makes one repetition at small sizes, to check that the benchmark runs; leave out --quick to measure with --reps");
                return 1;
            }
            try
            {
                bool asJson = parse.GetValue(json);
                var report = BenchRunner.Run(parse.GetValue(workload)!, new BenchOptions
                {
                    Gomaxprocs = parse.GetValue(gomaxprocs),
                    Repetitions = parse.GetValue(reps),
                    Quick = parse.GetValue(quick),
                    RunGo = !parse.GetValue(noGo),
                    Godebug = parse.GetValue(godebug),
                    Progress = stderr,
                });
                stdout.WriteLine(asJson ? report.ToJson() : report.ToTable());
                return 0;
            }
            catch (ArgumentOutOfRangeException e) when (e.ParamName is { } name)
            {
                // "--gomaxprocs 0: must be between 1 and 256", not .NET's "(Parameter 'Gomaxprocs') Actual value was 0."
                string option = name == nameof(BenchOptions.Repetitions) ? "--reps" : "--" + name.ToLowerInvariant();
                stderr.WriteLine($"gosched bench: {option} {e.ActualValue}: {e.Message.Split(" (Parameter", 2)[0]}");
                return 1;
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                stderr.WriteLine($"gosched bench: {(e is ArgumentException a && a.ParamName is not null ? e.Message.Split(" (Parameter", 2)[0] : e.Message)}");
                return 1;
            }
        });
        return cmd;
    }

    private static Command NotebookCommand(TextWriter stdout, TextWriter stderr, Interruption interruption)
    {
        var file = new Argument<string>("notebook") { Description = "the .ipynb to execute" };
        var outDir = new Option<string>("--out") { Description = "output folder", DefaultValueFactory = _ => "out" };
        var cellTimeout = new Option<string?>("--cell-timeout") { Description = "fail a cell that runs longer than this: a duration from 1ms to 24h, e.g. 30s or 5m (default 10m)" };
        var allowErrors = new Option<bool>("--allow-errors") { Description = "record a cell's error in its output and go on (as nbconvert's); exit 0 unless a cell timed out" };
        var cmd = new Command("notebook", "execute a notebook in-process with the extension loaded; write the executed .ipynb and a self-contained .html. Exit code 0: the notebook ran (cell errors that --allow-errors went past included); 1: a cell failed or timed out, or bad input; 130 (SIGINT, Ctrl-C) or 143 (SIGTERM): interrupted, the running cell stopped and the cells run so far written; a second Ctrl-C exits at once")
        {
            file, outDir, cellTimeout, allowErrors,
        };
        cmd.Action = new CheckedAsyncAction(stderr, async (parse, ct) =>
        {
            var limit = TimeSpan.FromMinutes(10);
            if (parse.GetValue(cellTimeout) is { } text)
            {
                try { limit = ParseTimeout("--cell-timeout", text); }
                catch (ConfigException e)
                {
                    stderr.WriteLine($"gosched notebook: {e.Message}");
                    return 1;
                }
            }
            string path = parse.GetValue(file)!;
            if (Directory.Exists(path))
            {
                stderr.WriteLine($"gosched notebook: {path} is a folder, not a notebook");
                return 1;
            }
            if (!File.Exists(path))
            {
                stderr.WriteLine($"gosched notebook: no such file: {path}");
                return 1;
            }
            if (!path.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase))
            {
                stderr.WriteLine($"gosched notebook: {path}: expected a .ipynb notebook");
                return 1;
            }
            string output = parse.GetValue(outDir)!;
            if (string.IsNullOrWhiteSpace(output))
            {
                stderr.WriteLine("gosched notebook: --out: expected a folder");
                return 1;
            }
            try
            {
                // SIGINT or SIGTERM stops the running cell as its timeout does; the cells run so far are written.
                long begin = System.Diagnostics.Stopwatch.GetTimestamp();
                NotebookResult result;
                using (interruption.Listen())
                using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct, interruption.Token))
                    result = await new NotebookRunner { Log = stderr, CellTimeout = limit, AllowErrors = parse.GetValue(allowErrors) }.RunAsync(path, Path.GetFullPath(output), cancel.Token);
                // One line a cell: a thrown exception's stack trace (the cell's frames, then Roslyn's)
                // and the lines after the first of any message are in the cell's output.
                string where = $"the whole error is in the cell's output in {result.ExecutedNotebook}";
                foreach (var f in result.AllowedErrors) stderr.WriteLine($"gosched notebook: cell {f.Cell}: {f.Summary} (--allow-errors went on; {where})");
                foreach (var f in result.Failures) stderr.WriteLine($"gosched notebook: cell {f.Cell}: {f.Summary} ({where})");
                foreach (var n in result.Notes) stderr.WriteLine($"gosched notebook: {n}");
                string errors = result.AllowedErrors.Count switch { 0 => "", 1 => " (1 with an error)", var n => $" ({n} with errors)" };
                string cut = result.InterruptedCell is { } c ? $"; interrupted in cell {c}" : result.Interrupted ? "; interrupted" : "";
                stdout.WriteLine($"{result.CellsRun} {(result.CellsRun == 1 ? "cell" : "cells")} run{errors}{cut}; wrote {result.ExecutedNotebook} and {result.Html}");
                if (result.Interrupted && interruption.Signal is { } signal)
                {
                    stderr.WriteLine($"gosched notebook: interrupted ({signal}): stopped after {RunProgress.Elapsed(System.Diagnostics.Stopwatch.GetElapsedTime(begin))}");
                    return interruption.ExitCode;
                }
                return result.ExitCode;
            }
            catch (NotebookException e)
            {
                // Says which file or folder and what is wrong with it, in one line.
                stderr.WriteLine($"gosched notebook: {e.Message}");
                return 1;
            }
            catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"gosched notebook: {path}: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    private static Command RunCommand(TextWriter stdout, TextWriter stderr, TimeSpan progressEvery, Interruption interruption)
    {
        var workload = new Argument<string>("workload") { Description = "workload name (see `gosched workloads`)" };
        var gomaxprocs = IntOptions.Create("--gomaxprocs", "number of Ps (default: CPUs)");
        var stealTries = IntOptions.Create("--steal-tries", "stealWork passes (Go: 4; 0 disables stealing)");
        var runqSize = IntOptions.Create("--runq-size", "local run-queue slots, a power of two >= 4 (Go: 256)");
        var godebug = new Option<string?>("--godebug") { Description = "knobs as name=value,... (e.g. runnext=0,seed=7)" };
        var schedtrace = new Option<string?>("--schedtrace") { Description = "print schedtrace lines to stderr every period, a whole number of milliseconds up to 1h: a bare number is milliseconds, as in Go (10), or a duration (10ms, 2s); 0 is off" };
        var scheddetail = new Option<bool>("--scheddetail") { Description = "print scheddetail blocks with each schedtrace line (needs --schedtrace)" };
        var argOpt = new Option<string[]>("--arg") { Description = "a workload parameter, name=value; repeat it, or separate several with commas (rounds=1,workers=2); each name once", AllowMultipleArgumentsPerToken = false };
        // A bare --arg after one with a value (`--arg rounds=1 --arg`) was taken as nothing and the
        // run went on; alone it is "--arg needs a value", and so it is anywhere.
        argOpt.Validators.Add(r =>
        {
            if (r.IdentifierTokenCount > r.Tokens.Count && r.Tokens.Count > 0) r.AddError("--arg needs a value");
        });
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of the summary" };
        var timeout = new Option<string?>("--timeout") { Description = "how long the run may take, its stop included (it is stopped a tenth of this, at most 2s, before the end): a duration from 1ms to 24h, e.g. 30s or 5m (default 10m)" };
        var cmd = new Command("run", "run a named workload headless and print a summary. Exit code 0: the run finished; 1: bad input (nothing ran); 2: the run failed (a panic, a deadlock) or timed out, after its summary; 130 (SIGINT, Ctrl-C) or 143 (SIGTERM): interrupted, stopped as a timeout stops it, after its summary (result interrupted); a second Ctrl-C exits at once")
        {
            workload, gomaxprocs, stealTries, runqSize, godebug, schedtrace, scheddetail, argOpt, json, timeout,
        };
        cmd.Action = new CheckedAction(stderr, parse =>
        {
            try
            {
                var w = WorkloadCatalog.Get(parse.GetValue(workload)!);
                var cfg = new GoConfig();
                if (parse.GetValue(godebug) is { } gd) cfg = cfg.With(gd);
                if (parse.GetValue(gomaxprocs) is { } g) cfg = cfg with { Gomaxprocs = g };
                if (parse.GetValue(stealTries) is { } st) cfg = cfg with { StealTries = st };
                if (parse.GetValue(runqSize) is { } rq) cfg = cfg with { LocalRunqSize = rq };
                if (parse.GetValue(schedtrace) is { } stp) cfg = cfg with { SchedTraceNs = SchedTracePeriod(stp) };
                if (parse.GetValue(scheddetail)) cfg = cfg with { SchedDetail = true };
                cfg = cfg.Validate();
                // Go prints scheddetail's blocks only with its schedtrace lines: alone, the option
                // printed nothing and the run exited 0 as if it had. (A bare scheddetail=1 in
                // --godebug does nothing, as GODEBUG's does in Go.)
                if (parse.GetValue(scheddetail) && cfg.SchedTraceNs == 0)
                    throw new ConfigException("--scheddetail needs --schedtrace <period> (as in Go, scheddetail prints with each schedtrace line)");
                var wargs = WorkloadArgText.Parse(w.Name, w.Parameters.Select(p => p.Name).ToArray(), parse.GetValue(argOpt) ?? Array.Empty<string>());
                TimeSpan? limit = parse.GetValue(timeout) is { } ts ? ParseTimeout("--timeout", ts) : null;
                bool asJson = parse.GetValue(json);
                // schedtrace and scheddetail lines go to stderr as they come, as Go's runtime writes
                // them (its print goes to fd 2), so stdout holds only the summary or the one JSON object.
                // So do the progress lines of a long run.
                // A write to stderr that fails (2>/dev/full) stops those lines, not the run: it
                // threw on their own threads and aborted the process before the summary.
                var log = new FailSafeWriter(stderr);
                RunResult result;
                var runLimit = limit ?? DefaultRunTimeout;
                // SIGINT or SIGTERM cancels the run: it stops as at its timeout, and its summary is printed.
                using (interruption.Listen())
                using (var progress = new RunProgress(log, w.Name, runLimit, progressEvery))
                    result = w.Run(cfg, wargs, runLimit, log, interruption.Token, started: progress.Start);
                // The signal that came during the run, as the run's error (a run that ended by itself first is left as it ended).
                if (interruption.Signal is { } signal && result.Error is OperationCanceledException)
                    result = result with { Error = new RunInterruptedException(signal, result.WallNs) };
                if (log.Failure is { } failure)
                    result = result with { Warnings = [.. result.Warnings, $"stderr could not be written ({failure}): the progress and schedtrace lines stopped there; the run went on"] };
                if (asJson) stdout.WriteLine(Summary.Json(w.Name, result));
                else Summary.Print(stdout, w.Name, result);
                if (result.Error != null)
                {
                    // Prefixed as every other error of run's ("timed out: ..." alone was not).
                    log.WriteLine($"gosched run: {result.Error.Message}"); // one attempt: stdout has the summary
                    return result.Error is RunInterruptedException ? interruption.ExitCode : 2;
                }
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                stderr.WriteLine($"gosched run: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }

    /// <summary>--timeout's default, as the help says.</summary>
    private static readonly TimeSpan DefaultRunTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The shortest and longest --timeout and --cell-timeout.</summary>
    internal const long MinTimeoutNs = 1_000_000, MaxTimeoutNs = 24 * 3_600_000_000_000L;

    /// <summary>
    /// A --timeout or --cell-timeout: a Go duration from 1ms to 24h. Shorter ones end a run before
    /// its threads have started (below 100 ns it was a TimeSpan of zero, which Run refuses with
    /// .NET's own message); a day is far beyond any workload, and the waits take at most ~24.8 days
    /// (int.MaxValue ms) before they throw.
    /// </summary>
    internal static TimeSpan ParseTimeout(string option, string text)
    {
        string t = text.Trim();
        string range = $"must be between {WorkloadParam.FormatDuration(MinTimeoutNs)} and {WorkloadParam.FormatDuration(MaxTimeoutNs)}";
        string positive = $"{option} {text}: expected a positive duration (examples: 30s, 5m, 500ms)";
        if (!WorkloadParam.TryParseDuration(t, out long ns, out bool tooLarge))
            throw new ConfigException(tooLarge ? $"{option} {text}: {range}"
                : t.Length > 0 && t.All(c => char.IsAsciiDigit(c) || c == '.')
                ? $"{option} {text}: a duration needs a unit, as in {t}s or {t}ms"
                : positive);
        if (ns <= 0)
            throw new ConfigException(positive);
        if (ns < MinTimeoutNs || ns > MaxTimeoutNs)
            throw new ConfigException($"{option} {text}: {range}");
        return TimeSpan.FromTicks(ns / 100);
    }

    /// <summary>
    /// The --schedtrace period in ns. As Go's GODEBUG schedtrace: whole milliseconds, so a bare
    /// number is milliseconds ("10"), and a duration must be a whole number of them ("10ms", "1s";
    /// not "500us" or "1.5ms"). 0 is off, as in Go.
    /// </summary>
    internal static long SchedTracePeriod(string text)
    {
        const long maxMs = GoConfig.MaxSchedTraceMs;
        text = text.Trim();
        long ms;
        if (text.Length > 0 && text.All(char.IsAsciiDigit))
            ms = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : long.MaxValue;
        else if (WorkloadParam.ParseDuration(text) is not { } ns)
            throw new ConfigException($"--schedtrace {text}: expected a period in whole milliseconds, like 10ms or 10 (as in Go)");
        else if (ns % 1_000_000 != 0)
            throw new ConfigException($"--schedtrace {text}: schedtrace periods are whole milliseconds, as in Go (e.g. 1ms, 10ms)");
        else
            ms = ns / 1_000_000;
        if (ms > maxMs)
            throw new ConfigException($"--schedtrace {text}: must be at most 1h ({maxMs} ms)");
        return ms * 1_000_000;
    }

    private static Command WorkloadsCommand(TextWriter stdout, TextWriter stderr)
    {
        var cmd = new Command("workloads", "list the workloads and their parameters");
        cmd.Action = new CheckedAction(stderr, _ =>
        {
            foreach (var w in WorkloadCatalog.All)
            {
                stdout.WriteLine($"{w.Name}: {w.Description}");
                foreach (var p in w.Parameters) stdout.WriteLine($"    {p.Name}={p.Default}  {p.Description}");
            }
            return 0;
        });
        return cmd;
    }
}

/// <summary>
/// A long headless run's progress, on stderr: a line every period once the run has lasted that
/// long, so short runs print none. `run mutex --arg hold=500us` was 20 s of silence. The figures
/// are the runtime's (GoRuntime.Stats): a workload reports its own only when it ends.
/// </summary>
internal sealed class RunProgress(TextWriter log, string workload, TimeSpan timeout, TimeSpan every) : IDisposable
{
    // A thread of its own rather than a System.Threading.Timer: timer callbacks run on the .NET
    // ThreadPool, which a busy host (the test runner, a kernel) can starve for longer than a whole
    // run, and then the lines never come.
    private readonly ManualResetEventSlim _done = new();
    private Thread? _thread;

    /// <summary>Starts the lines; Workload.Run calls it with the run's runtime before the run starts.</summary>
    public void Start(GoRuntime rt)
    {
        long begin = System.Diagnostics.Stopwatch.GetTimestamp();
        string limit = WorkloadParam.FormatDuration(timeout.Ticks * 100);
        _thread = new Thread(() =>
        {
            // A tick that comes as the run ends says nothing: the summary follows.
            while (!_done.Wait(every))
            {
                var s = rt.Stats();
                string elapsed = Elapsed(System.Diagnostics.Stopwatch.GetElapsedTime(begin));
                log.WriteLine($"gosched run: {workload} still running at {elapsed} (timeout {limit}): {s.GoroutinesStarted} goroutines started, {s.GoroutinesFinished} finished");
            }
        }) { IsBackground = true, Name = "gosched run progress" };
        _thread.Start();
    }

    /// <summary>
    /// How long the run has gone, in Go's form as the timeout beside it (5s, 1m5.3s), to a tenth of
    /// a second; it said "5 s (timeout 10m0s)".
    /// </summary>
    internal static string Elapsed(TimeSpan elapsed) =>
        WorkloadParam.FormatDuration((long)Math.Round(elapsed.TotalSeconds * 10, MidpointRounding.AwayFromZero) * 100_000_000);

    public void Dispose()
    {
        _done.Set();
        _thread?.Join();
        _done.Dispose();
    }
}

/// <summary>The end-of-run summary, as text or JSON.</summary>
public static class Summary
{
    public static void Print(TextWriter o, string workload, RunResult r)
    {
        var inv = CultureInfo.InvariantCulture;
        // Durations as Go writes them (2ms, not 2000000), so a line can be pasted back as --arg values.
        var kinds = WorkloadCatalog.All.FirstOrDefault(w => w.Name == workload)?.Parameters.ToDictionary(p => p.Name, p => p.Kind);
        string Arg(KeyValuePair<string, long> kv) => kinds is not null && kinds.GetValueOrDefault(kv.Key) == ParamKind.Duration
            ? $"{kv.Key}={WorkloadParam.FormatDuration(kv.Value)}" : $"{kv.Key}={kv.Value}";
        o.WriteLine($"workload     {workload} {string.Join(" ", r.Arguments.Select(Arg))}");
        o.WriteLine($"settings     {r.Config}");
        // Two walls that differ: the run's (runtime start to stop) and a workload's own wall_ms (its
        // timed section, e.g. fanout's first spawn to last Wait). Each line says which it is.
        o.WriteLine($"wall         {(r.WallNs / 1e6).ToString("0.###", inv)} ms, the whole run (runtime start to stop)");
        o.WriteLine($"goroutines   {r.GoroutinesStarted} started, {r.GoroutinesFinished} finished");
        o.WriteLine($"steals       {r.StealOps} ops, {r.StolenGoroutines} goroutines");
        if (r.Metrics.Count > 0) o.WriteLine("figures      the workload's own, timed inside it:");
        foreach (var (k, v) in r.Metrics) o.WriteLine($"{k,-12} {WorkloadRun.FormatFigure(v)}");
        if (TimerFigures(r) is { } t)
            o.WriteLine(string.Create(inv, $"timers       {t.Fired} fired; lateness (fired - due, in runOneTimer) p50 {t.P50:0.###} ms, p99 {t.P99:0.###} ms, max {t.Max:0.###} ms; " +
                        $"heap max {t.MaxHeap}; deleted cleared {t.Cleared}"));
        // The error's message follows on stderr; a timeout is no error of the program's ("error: TimeoutException").
        o.WriteLine($"result       {Result(r)}");
        foreach (var warning in r.Warnings) o.WriteLine($"warning      {warning}");
    }

    /// <summary>The result line's word: ok, timed out, interrupted (SIGINT or SIGTERM) or error: &lt;type&gt;.</summary>
    public static string Result(RunResult r) => r.Error switch
    {
        null => "ok",
        TimeoutException => "timed out",
        RunInterruptedException => "interrupted",
        var e => "error: " + e.GetType().Name,
    };

    /// <summary>Timer figures of a run that fired timers, else null.</summary>
    public sealed record TimerSummary(long Fired, double P50, double P90, double P99, double P999, double Max, int MaxHeap, long Cleared);

    public static TimerSummary? TimerFigures(RunResult r)
    {
        var rec = r.Recording;
        if (rec.TimerLateness is not { TotalCount: > 0 } h) return null;
        int maxHeap = rec.Samples.Select(s => s.TimersLen?.Sum() ?? 0).DefaultIfEmpty(0).Max();
        return new TimerSummary(h.TotalCount, rec.TimerLatenessMs(50), rec.TimerLatenessMs(90), rec.TimerLatenessMs(99),
            rec.TimerLatenessMs(99.9), h.GetMaxValue() / 1e6, maxHeap, rec.ClearedDeletedTimers);
    }

    /// <summary>snake_case throughout: the records inside (per-P counters, timer figures) as the top-level keys.</summary>
    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string Json(string workload, RunResult r) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["workload"] = workload,
        ["gomaxprocs"] = r.Config.Gomaxprocs,
        ["settings"] = r.Config.ToString(),
        ["arguments"] = r.Arguments,
        ["goroutines_started"] = r.GoroutinesStarted,
        ["goroutines_finished"] = r.GoroutinesFinished,
        ["wall_ms"] = r.WallNs / 1e6,
        ["steals"] = r.StealOps,
        ["stolen_goroutines"] = r.StolenGoroutines,
        ["metrics"] = r.Metrics,
        ["per_p"] = r.Recording.Counters,
        ["timers"] = TimerFigures(r),
        ["result"] = Result(r),
        ["error"] = r.Error?.Message,
        ["warnings"] = r.Warnings,
    }, s_json);
}

/// <summary>
/// A run that SIGINT or SIGTERM stopped. Its message is the stderr line after "gosched run: ":
/// interrupted (SIGINT): stopped after 3.2s.
/// </summary>
public sealed class RunInterruptedException(string signal, long wallNs)
    : OperationCanceledException($"interrupted ({signal}): stopped after {RunProgress.Elapsed(TimeSpan.FromTicks(wallNs / 100))}")
{
    public string Signal { get; } = signal;
}
