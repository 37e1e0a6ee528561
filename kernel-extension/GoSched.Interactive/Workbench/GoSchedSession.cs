// GoSchedSession: what one kernel's #!gosched commands act on, and the handlers themselves.
//
// State per kernel: the config for the next runs, and the runs kept so far (by name; each is also
// a C# variable). Every handler turns a bad value into a failed command with a message saying what
// is valid, and never lets an exception out into the kernel.
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using GoSched.Interactive.Charts;
using GoSched.Interactive.Directives;
using GoSched.Observability;
using GoSched.Workloads;
using HdrHistogram;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Formatting.TabularData;

namespace GoSched.Interactive.Workbench;

/// <summary>A run going on in the background (`run --background`): its task, the handle that changes its GOMAXPROCS, and what stops it.</summary>
internal sealed record BackgroundRun(string Name, string Workload, IReadOnlyDictionary<string, string> Args, Task<RunOutcome> Task, IRunControl Control, CancellationTokenSource Stop);

/// <summary>A run kept by the session.</summary>
internal sealed record KeptRun(string Name, string Workload, IReadOnlyDictionary<string, string> Args, RunOutcome Outcome);

/// <summary>
/// The summary table of a run, one row. Figures: what the workload itself reported (its
/// run.Report figures, such as ns_per_roundtrip or handoffs), as name=value.
/// </summary>
public sealed record RunSummary(
    string Name,
    string Workload,
    string Args,
    string Settings,
    string Figures,
    double WallMs,
    long GoroutinesStarted,
    long GoroutinesFinished,
    long Steals,
    int Samples,
    string Error);

/// <summary>
/// The summary of a run that fired timers: <see cref="RunSummary"/>'s columns, then the timer
/// figures (lateness percentiles in ms from the run's HdrHistogram, and the deleted timers that
/// the 1/4 rule cleared). A table that mixes runs with and without timers leaves the lateness
/// cells of the others empty (text, since the table shows a null as "&lt;null&gt;").
/// </summary>
public sealed record TimerRunSummary(
    string Name,
    string Workload,
    string Args,
    string Settings,
    string Figures,
    double WallMs,
    long GoroutinesStarted,
    long GoroutinesFinished,
    long Steals,
    int Samples,
    long TimersFired,
    string LatenessP50Ms,
    string LatenessP99Ms,
    string LatenessMaxMs,
    long DeletedTimersCleared,
    string Error);

/// <summary>One knob in the status table.</summary>
public sealed record KnobRow(string Knob, string Option, string Value, string GoDefault);

internal sealed class GoSchedSession
{
    /// <summary>The C# variable that always holds the last run's recording.</summary>
    public const string LastRunVariable = "lastRun";

    /// <summary>The C# variable that holds the current config, for cells that start their own runtime.</summary>
    public const string ConfigVariable = "goConfig";

    private const string MarkdownMimeType = "text/markdown";

    private readonly Kernel _kernel;
    private readonly IGoSchedBackend _backend;
    private readonly PlotlyOutput _plotly;
    private readonly Dictionary<string, KeptRun> _runs = new(StringComparer.Ordinal);
    private KeptRun? _last;
    private string? _running;

    /// <summary>The workload a foreground `#!gosched run` is running right now, or null (tests wait on it).</summary>
    internal string? Running => Volatile.Read(ref _running);
    private BackgroundRun? _background;

    public GoSchedSession(Kernel kernel, IGoSchedBackend backend, PlotlyOutput plotly)
    {
        _kernel = kernel;
        _backend = backend;
        _plotly = plotly;
    }

    /// <summary>The config the next run starts with.</summary>
    public GoConfig Config { get; private set; } = new();

    // The session of each kernel, for the parse-time check of a submission's lines (CheckLine).
    private static readonly ConditionalWeakTable<Kernel, GoSchedSession> s_sessions = new();

    /// <summary>The session loaded into <paramref name="kernel"/> (or its root), if any.</summary>
    internal static GoSchedSession? For(Kernel kernel) =>
        s_sessions.TryGetValue(kernel, out var s) || (kernel.RootKernel is { } root && s_sessions.TryGetValue(root, out s)) ? s : null;

    /// <summary>
    /// Checks a bound command's values before anything in its cell runs (called from the host's
    /// parse step, GoSchedCommand.GetValidationErrors): knob values, the workload and its
    /// arguments, the variable name, the plot kind. What depends on earlier lines of the same cell
    /// (which runs exist, whether one runs in the background) is checked when the line runs.
    /// A bad value on the third line of a cell must not let the first two run for minutes first.
    /// </summary>
    internal void CheckLine(GoSchedCommand command)
    {
        switch (command)
        {
            case GoSchedConfig c:
                ApplyConfig(new GoConfig(), c);
                break;
            case GoSchedRun r:
                var (workload, args, _) = ResolveRun(r);
                try { _backend.CheckArgs(workload.Name, args); }
                catch (ArgumentException e) when (e is not ConfigException) { throw new DirectiveException($"{workload.Name}: {e.Message}"); }
                break;
            case GoSchedPlot p:
                CheckPlotKind(p);
                break;
        }
    }

    /// <summary>Registers #!gosched and its subcommands on <see cref="_kernel"/>.</summary>
    public void AddDirectives()
    {
        s_sessions.AddOrUpdate(_kernel, this);
        var root = GoSchedDirective.Create();
        var subcommand = root.Subcommands.ToDictionary(s => s.Name);
        _kernel.RegisterCommandHandler<GoSchedPublish>((_, _) => PublishPendingAsync());
        _kernel.AddDirective<GoSchedRoot>(root, (c, ctx) => Guard(c, ctx, RootAsync));
        _kernel.AddDirective<GoSchedHelp>(subcommand[GoSchedDirective.Help], (c, ctx) => Guard(c, ctx, (_, x) => HelpAsync(x)));
        _kernel.AddDirective<GoSchedConfig>(subcommand[GoSchedDirective.Config], (c, ctx) => Guard(c, ctx, ConfigAsync));
        _kernel.AddDirective<GoSchedRun>(subcommand[GoSchedDirective.Run], (c, ctx) => Guard(c, ctx, RunAsync));
        _kernel.AddDirective<GoSchedStatus>(subcommand[GoSchedDirective.Status], (c, ctx) => Guard(c, ctx, StatusAsync));
        _kernel.AddDirective<GoSchedPlot>(subcommand[GoSchedDirective.Plot], (c, ctx) => Guard(c, ctx, async (p, x) =>
        {
            await CollectBackgroundAsync(x, wait: false); // a background run that ended can be plotted
            if (_background is { } bg && !Split(p.Runs).Contains(bg.Name))
                x.DisplayAs($"The run `{bg.Name}` ({bg.Workload}) is still going on in the background and is not plotted: " +
                    $"`{GoSchedDirective.Name} {GoSchedDirective.Status} --wait` waits for it.", MarkdownMimeType);
            await PlotAsync(p, x);
        }));
    }

    // Submissions (cells) in which a #!gosched line has failed. The host goes on to the cell's next
    // directive lines after a failed one (seen with Microsoft.DotNet.Interactive 1.0.0-beta.26120.1:
    // a config line after a run that deadlocked was applied, its output hidden); here they are skipped.
    private static readonly ConditionalWeakTable<KernelCommand, object> s_failedSubmissions = new();

    /// <summary>
    /// Runs a handler, unless an earlier #!gosched line of the same cell failed; the errors users
    /// cause become a failed command with their message.
    /// </summary>
    private async Task Guard<T>(T command, KernelInvocationContext context, Func<T, KernelInvocationContext, Task> handler)
        where T : KernelCommand
    {
        var submission = context.Command;
        if (s_failedSubmissions.TryGetValue(submission, out _))
            return;
        if (!_handlerDone.IsCompleted)
        {
            // An interrupted cell's handler still stopping its run (see _handlerDone).
            try { await _handlerDone.WaitAsync(InterruptedHandlerWait, context.CancellationToken); }
            catch (TimeoutException)
            {
                Fail(command, context, $"#!gosched: an interrupted run has not stopped within {InterruptedHandlerWait.TotalSeconds:0} s; run this line again once `{GoSchedDirective.Name} {GoSchedDirective.Status}` shows nothing running");
                return;
            }
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _handlerDone = done.Task;
        string? failure;
        try
        {
            await PublishPendingAsync();
            await handler(command, context);
            return;
        }
        catch (Exception e) when (e is DirectiveException or ConfigException or SchedTraceFormatException or IOException or UnauthorizedAccessException)
        {
            failure = e.Message;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            failure = "#!gosched: cancelled";
        }
        catch (Exception e)
        {
            // A bug of ours, not of the user's: say so, with the type, but keep the kernel alive.
            failure = $"#!gosched: internal error: {e.GetType().Name}: {e.Message}";
        }
        finally
        {
            if (_publishQueued.IsCompleted) done.SetResult();
            else _publishQueued.ContinueWith(_ => done.SetResult(), TaskScheduler.Default);
        }
        Fail(command, context, failure);
    }

    // When a cell is interrupted, the host fails its command at once and goes on to the next one
    // (its scheduler abandons a cancelled operation rather than waiting for it), while the handler
    // runs on: it stops its runtime, which takes a few ms, and keeps the run. The next #!gosched
    // line waits for it, so that two handlers never act on the session, or on two runtimes, at once.
    private Task _handlerDone = Task.CompletedTask;

    /// <summary>
    /// Completes when the last #!gosched handler has returned, an interrupted one too, and what it
    /// queued for the kernel is in the kernel's queue (tests wait on it).
    /// </summary>
    internal Task HandlerDone => _handlerDone;
    private static readonly TimeSpan InterruptedHandlerWait = TimeSpan.FromSeconds(30);

    /// <summary>Fails the command, and with it the rest of its cell's #!gosched lines.</summary>
    private static void Fail(KernelCommand command, KernelInvocationContext context, string message)
    {
        s_failedSubmissions.AddOrUpdate(context.Command, true);
        context.Fail(command, message: message);
    }

    private Task RootAsync(GoSchedRoot command, KernelInvocationContext context)
    {
        // The line check has already rejected any word that is not a subcommand; this is the bare directive.
        if (command.Line?.Subcommand is { } word)
            throw new DirectiveException($"{GoSchedDirective.Name}: unknown subcommand '{word}'");
        return HelpAsync(context);
    }

    // ---- help ------------------------------------------------------------------------------------

    private Task HelpAsync(KernelInvocationContext context)
    {
        var root = GoSchedDirective.Grammar;
        var md = new StringBuilder();
        md.AppendLine($"**`{root.Name}`**: {root.Description}").AppendLine();
        foreach (var sub in root.Subcommands)
        {
            var value = sub.Parameters.FirstOrDefault(p => p.AllowImplicitName);
            md.AppendLine($"- **`{root.Name} {sub.Name}{(value is null ? "" : $" <{value.Name.TrimStart('-')}>")}`**: {sub.Description}");
            foreach (var p in sub.Parameters.Where(p => !p.AllowImplicitName))
                md.AppendLine($"  - `{p.Name}{(p.Flag ? "" : " <value>")}`: {p.Description}");
        }
        md.AppendLine().AppendLine("**Workloads** (`run <workload> --arg name=value`):").AppendLine();
        if (_backend.Workloads.Count == 0)
            md.AppendLine("- none in this build");
        foreach (var w in _backend.Workloads)
        {
            string args = string.Join(", ", w.Parameters.Select(p => $"`{p.Name}={p.Default}`"));
            // The catalogue's descriptions are phrases with no full stop ("... so stealing matters"),
            // which ran into "Parameters:"; the fake backend's and a notebook's own end with one.
            string description = w.Description.TrimEnd();
            if (!description.EndsWith('.') && !description.EndsWith('!') && !description.EndsWith('?')) description += ".";
            md.AppendLine($"- **`{w.Name}`**: {description}{(args.Length > 0 ? $" Parameters: {args}." : "")}");
        }
        md.AppendLine().AppendLine(
            $"After a run its recording is the C# variable `{LastRunVariable}` (and the `--name` given); " +
            $"`{ConfigVariable}` holds the current config for cells that start their own `GoSched.GoRuntime`.");
        context.DisplayAs(md.ToString(), MarkdownMimeType);
        return Task.CompletedTask;
    }

    // ---- config ----------------------------------------------------------------------------------

    private async Task ConfigAsync(GoSchedConfig command, KernelInvocationContext context)
    {
        await CollectBackgroundAsync(context, wait: false);
        var before = Config;
        Config = ApplyConfig(Config, command);
        await SetVariableAsync(ConfigVariable, Config, typeof(GoConfig));
        if (_background is { } running)
        {
            // Only GOMAXPROCS reaches a running workload (runtime.GOMAXPROCS); say so for the rest.
            var later = GoConfig.KnobNames.Where(k => k != "gomaxprocs" && Config.ValueOf(k) != before.ValueOf(k)).Select(k => $"`{k}={Config.ValueOf(k)}`").ToList();
            if (later.Count > 0)
                context.DisplayAs($"{string.Join(", ", later)} {(later.Count == 1 ? "applies" : "apply")} to the next run: the background run `{running.Name}` ({running.Workload}) keeps the knobs it started with (only GOMAXPROCS changes while it runs)", MarkdownMimeType);
        }
        if (_background is { } bg && (command.Gomaxprocs != null || Config.Gomaxprocs != before.Gomaxprocs))
        {
            // As runtime.GOMAXPROCS(n): the running workload stops the world and resizes its Ps.
            string text;
            try { text = $"GOMAXPROCS of the background run `{bg.Name}` ({bg.Workload}): {bg.Control.SetGomaxprocs(Config.Gomaxprocs)} → {Config.Gomaxprocs}"; }
            catch (InvalidOperationException) { text = $"the background run `{bg.Name}` ({bg.Workload}) has ended; GOMAXPROCS={Config.Gomaxprocs} applies to the next runs"; }
            context.DisplayAs(text, MarkdownMimeType);
        }
        DisplayTable(context, KnobRows());
    }

    /// <summary>The command's knobs applied to <paramref name="config"/> (or to Go's defaults with --reset), checked.</summary>
    private static GoConfig ApplyConfig(GoConfig config, GoSchedConfig command)
    {
        if (command.Reset) config = new GoConfig();
        foreach (var (knob, value) in command.KnobValues())
            config = config.With(knob, value);
        if (command.Godebug is { } godebug)
            config = config.With(godebug); // validates
        return config.Validate();
    }

    private IReadOnlyList<KnobRow> KnobRows()
    {
        var defaults = new GoConfig();
        // The knobs with options of their own, then those set only through --godebug when they
        // differ from Go's default (so that they are seen, without lengthening every table).
        var rows = GoSchedDirective.Knobs.Select(k => new KnobRow(k.Knob, k.Option, Config.ValueOf(k.Knob), defaults.ValueOf(k.Knob))).ToList();
        foreach (string knob in GoConfig.KnobNames.Where(n => GoSchedDirective.Knobs.All(k => k.Knob != n)))
            if (Config.ValueOf(knob) != defaults.ValueOf(knob))
                rows.Add(new KnobRow(knob, $"--godebug {knob}=", Config.ValueOf(knob), defaults.ValueOf(knob)));
        return rows;
    }

    // ---- run -------------------------------------------------------------------------------------

    /// <summary>The workload, its arguments (names checked) and the variable a run command names.</summary>
    private (WorkloadInfo Workload, Dictionary<string, string> Args, string Name) ResolveRun(GoSchedRun command)
    {
        string usage = $"{GoSchedDirective.Name} {GoSchedDirective.Run} <workload> [--arg name=value]... [--name variable]";
        string valid = string.Join(", ", _backend.Workloads.Select(w => w.Name));
        if (string.IsNullOrWhiteSpace(command.Workload))
            throw new DirectiveException($"{usage}: which workload? ({(valid.Length > 0 ? valid : "none in this build")})");
        var workload = _backend.Workloads.FirstOrDefault(w => w.Name == command.Workload)
            ?? throw new DirectiveException($"unknown workload '{command.Workload}'; workloads: {(valid.Length > 0 ? valid : "none in this build")}");
        var args = ParseArgs(workload, command.ArgValues());
        string name = command.Name ?? LastRunVariable;
        if (!SyntaxFacts.IsValidIdentifier(name) || SyntaxFacts.GetKeywordKind(name) != Microsoft.CodeAnalysis.CSharp.SyntaxKind.None)
            throw new DirectiveException($"--name {name}: not a C# variable name");
        if (name == ConfigVariable)
            throw new DirectiveException($"--name {name}: that variable holds the configured knobs (cells start their own runtimes with it); choose another name");
        return (workload, args, name);
    }

    private async Task RunAsync(GoSchedRun command, KernelInvocationContext context)
    {
        var (workload, args, name) = ResolveRun(command);
        await CollectBackgroundAsync(context, wait: false);
        if (_background is { } bg)
            throw new DirectiveException($"the run `{bg.Name}` ({bg.Workload}) is going on in the background; `{GoSchedDirective.Name} {GoSchedDirective.Status} --wait` waits for it");
        if (command.Background)
        {
            await StartBackgroundAsync(workload.Name, args, name, context);
            return;
        }

        _running = workload.Name;
        RunOutcome outcome;
        try
        {
            outcome = await _backend.RunAsync(workload.Name, Config, args, started: null, context.CancellationToken);
        }
        catch (ArgumentException e) when (e is not ConfigException)
        {
            // The workload's own check of its parameters' values.
            throw new DirectiveException($"{workload.Name}: {e.Message}");
        }
        finally
        {
            _running = null;
        }

        await KeepAsync(new KeptRun(name, workload.Name, args, outcome), context);
        if (outcome.Error is { } error)
            Fail(command, context, $"{workload.Name}: {error}");
    }

    // Kept runs whose C# variables an interrupted handler could not set itself. The C# kernel sets
    // a variable by running a declaration and storing the new script state, a read-modify-write of
    // that state with no lock (Microsoft.DotNet.Interactive.CSharp's RunAsync: ScriptState = await
    // ScriptState.ContinueWithAsync(...)), so it must only ever run inside the kernel's own order of
    // commands: an abandoned handler that set it raced the next command (the variable of an
    // interrupted run was lost in 4 of 8 fresh-clone test runs, and a user's cell could lose its own
    // variables the same way). Such a handler queues GoSchedPublish instead, and every #!gosched line
    // publishes what is pending first.
    private readonly List<KeptRun> _unpublished = new();

    /// <summary>Keeps a finished run: its variables (lastRun and its name) and its summary.</summary>
    private async Task KeepAsync(KeptRun run, KernelInvocationContext context)
    {
        _runs[run.Name] = run;
        _last = run;
        if (context.CancellationToken.IsCancellationRequested)
        {
            lock (_unpublished) _unpublished.Add(run);
            QueuePublish();
        }
        else
        {
            await PublishAsync(run);
        }
        DisplaySummaries(context, [run]);
        DisplayWarnings(context, run);
        DisplaySchedTrace(context, run);
    }

    /// <summary>Sets a kept run's variables: lastRun (if it is still the last) and its name.</summary>
    private async Task PublishAsync(KeptRun run)
    {
        if (ReferenceEquals(_last, run))
            await SetVariableAsync(LastRunVariable, run.Outcome.Recording, typeof(Recording));
        if (run.Name != LastRunVariable && ReferenceEquals(_runs.GetValueOrDefault(run.Name), run))
            await SetVariableAsync(run.Name, run.Outcome.Recording, typeof(Recording));
    }

    /// <summary>Sets the variables of runs kept by interrupted handlers, oldest first.</summary>
    private async Task PublishPendingAsync()
    {
        while (true)
        {
            KeptRun run;
            lock (_unpublished)
            {
                if (_unpublished.Count == 0) return;
                run = _unpublished[0];
                _unpublished.RemoveAt(0);
            }
            await PublishAsync(run);
        }
    }

    /// <summary>
    /// Queues a <see cref="GoSchedPublish"/> as a command of its own, after whatever the kernel is
    /// running now. Sent from inside a handler, a command runs inline as the handler's child; with
    /// the execution context not flowing, the kernel sees a new top-level command and queues it.
    /// </summary>
    private void QueuePublish()
    {
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (ExecutionContext.SuppressFlow())
            _ = Task.Run(() =>
            {
                try { return _kernel.SendAsync(new GoSchedPublish()); }
                finally { queued.TrySetResult(); }
            });
        // Its result is not read: if it fails, the next #!gosched line publishes the runs (Guard).
        // The handler counts as done only once the command is in the kernel's queue (Guard): the
        // ThreadPool can take long to start the Task.Run on a busy host, and a cell sent after
        // HandlerDone ran ahead of the publish and did not see the run's variables.
        _publishQueued = queued.Task;
    }

    /// <summary>The last publish QueuePublish sent from a pool thread, once it is in the kernel's queue.</summary>
    private Task _publishQueued = Task.CompletedTask;

    /// <summary>What the run left behind without failing (a thread still running goroutine code that never awaits), under its summary.</summary>
    private static void DisplayWarnings(KernelInvocationContext context, KeptRun run)
    {
        foreach (var warning in run.Outcome.Warnings ?? [])
            context.DisplayAs($"**Warning** (`{run.Name}`): {warning}", MarkdownMimeType);
    }

    /// <summary>The run's schedtrace lines (knob schedtrace), as Go prints them: the first ones, and where the rest are.</summary>
    private static void DisplaySchedTrace(KernelInvocationContext context, KeptRun run)
    {
        var lines = run.Outcome.Recording.SchedTrace;
        if (lines.Count == 0) return;
        const int Shown = 60;
        var text = new StringBuilder();
        foreach (string line in lines.Take(Shown)) text.AppendLine(line);
        if (lines.Count > Shown)
            text.AppendLine($"... {lines.Count - Shown} more lines: all {lines.Count} are in {run.Name}.SchedTrace");
        context.DisplayAs(text.ToString(), "text/plain");
    }

    /// <summary>
    /// `run --background`: starts the run and returns once its arguments are accepted and its
    /// runtime exists. The run is not tied to the cell: it ends when its main goroutine returns
    /// (or the backend's timeout stops it), and is kept by the next command that finds it ended.
    /// </summary>
    private async Task StartBackgroundAsync(string workload, Dictionary<string, string> args, string name, KernelInvocationContext context)
    {
        var started = new TaskCompletionSource<IRunControl>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stop = new CancellationTokenSource(); // StopBackgroundAsync: the notebook ended with the run still going on
        var task = _backend.RunAsync(workload, Config, args, c => started.TrySetResult(c), stop.Token);
        if (await Task.WhenAny(task, started.Task) == task && !started.Task.IsCompleted)
        {
            // The arguments were refused: throws (a DirectiveException, or the workload's own check).
            try { await task; }
            catch (ArgumentException e) when (e is not ConfigException) { throw new DirectiveException($"{workload}: {e.Message}"); }
            throw new DirectiveException($"{workload}: the run ended before it started");
        }
        _background = new BackgroundRun(name, workload, args, task, await started.Task, stop);
        context.DisplayAs(
            $"`{workload}` runs in the background as `{name}`: `{GoSchedDirective.Name} {GoSchedDirective.Config} --gomaxprocs N` changes its GOMAXPROCS " +
            $"while it runs; `{GoSchedDirective.Name} {GoSchedDirective.Status} --wait` waits for it and shows its summary.", MarkdownMimeType);
    }

    /// <summary>
    /// At the end of a notebook run (`gosched notebook`): stops the background run if it is still
    /// going on, waiting at most <paramref name="wait"/> for it to stop, and returns a line saying
    /// so; null if no run was going on. A run nobody waited for would otherwise be cut off unseen
    /// when the process exits.
    /// </summary>
    internal async Task<string?> StopBackgroundAsync(TimeSpan wait)
    {
        if (_background is not { } bg) return null;
        _background = null;
        if (bg.Task.IsCompleted) return null; // it ended on its own: nothing was cut short
        bg.Stop.Cancel(); // its goroutines stop at their next await
        bool stopped = await Task.WhenAny(bg.Task, Task.Delay(wait)) == bg.Task;
        return $"the background run `{bg.Name}` ({bg.Workload}) was still going on when the notebook ended: " +
               $"{(stopped ? "it was stopped" : $"it was told to stop and had not within {wait.TotalSeconds:0} s")} and its results are not in the notebook " +
               $"(end the notebook with `{GoSchedDirective.Name} {GoSchedDirective.Status} --wait` to wait for it)";
    }

    /// <summary>Keeps the background run if it has ended (or once it ends, with <paramref name="wait"/>).</summary>
    private async Task CollectBackgroundAsync(KernelInvocationContext context, bool wait)
    {
        if (_background is not { } bg || (!wait && !bg.Task.IsCompleted)) return;
        RunOutcome outcome;
        try
        {
            outcome = await bg.Task.WaitAsync(context.CancellationToken);
        }
        catch (Exception e) when (e is DirectiveException or ArgumentException)
        {
            _background = null;
            context.DisplayAs($"the background run `{bg.Name}` ({bg.Workload}) failed: {e.Message}", MarkdownMimeType);
            return;
        }
        _background = null;
        await KeepAsync(new KeptRun(bg.Name, bg.Workload, bg.Args, outcome), context);
    }

    /// <summary>Reads "--arg a=1 --arg b=2" or "--arg a=1,b=2" against the workload's parameter list, as `gosched run` does.</summary>
    private static Dictionary<string, string> ParseArgs(WorkloadInfo workload, IEnumerable<string> values)
    {
        try { return WorkloadArgText.Parse(workload.Name, workload.Parameters.Select(p => p.Name).ToArray(), values); }
        catch (WorkloadException e) { throw new DirectiveException(e.Message); }
    }

    /// <summary>The summary table of <paramref name="runs"/>, with the timer columns when any of them fired timers.</summary>
    private static void DisplaySummaries(KernelInvocationContext context, IReadOnlyCollection<KeptRun> runs)
    {
        if (runs.Any(r => FiredTimers(r.Outcome.Recording)))
            DisplayTable(context, runs.Select(TimerSummary));
        else
            DisplayTable(context, runs.Select(Summary));
    }

    private static bool FiredTimers(Recording recording) => recording.TimerLateness is { TotalCount: > 0 };

    private static string ArgsText(KeptRun run) => string.Join(",", run.Args.Select(a => $"{a.Key}={a.Value}"));

    private static RunSummary Summary(KeptRun run) => new(
        run.Name,
        run.Workload,
        ArgsText(run),
        SettingsText(run.Outcome.Recording),
        FiguresText(run),
        Math.Round(run.Outcome.WallNs / 1e6, 3),
        run.Outcome.GoroutinesStarted,
        run.Outcome.GoroutinesFinished,
        run.Outcome.Steals,
        run.Outcome.Recording.Samples.Count,
        run.Outcome.Error ?? "");

    /// <summary>The knobs the run started with, and every GOMAXPROCS it had if that changed while it ran.</summary>
    private static string SettingsText(Recording rec)
    {
        var changes = rec.Pauses.Where(p => p.ProcsAfter != p.ProcsBefore).ToArray();
        if (changes.Length == 0) return rec.Settings;
        return $"{rec.Settings}; GOMAXPROCS changed while it ran: {changes[0].ProcsBefore}→{string.Join("→", changes.Select(p => p.ProcsAfter))}";
    }

    private static string FiguresText(KeptRun run) => run.Outcome.Metrics is { Count: > 0 } m
        ? string.Join(", ", m.Select(kv => $"{kv.Key}={GoSched.Workloads.WorkloadRun.FormatFigure(kv.Value)}"))
        : "";

    private static TimerRunSummary TimerSummary(KeptRun run)
    {
        var rec = run.Outcome.Recording;
        bool fired = FiredTimers(rec);
        string Ms(double ms) => fired ? Math.Round(ms, 3).ToString(CultureInfo.InvariantCulture) : "";
        return new TimerRunSummary(
            run.Name,
            run.Workload,
            ArgsText(run),
            SettingsText(rec),
            FiguresText(run),
            Math.Round(run.Outcome.WallNs / 1e6, 3),
            run.Outcome.GoroutinesStarted,
            run.Outcome.GoroutinesFinished,
            run.Outcome.Steals,
            rec.Samples.Count,
            rec.TimerLateness?.TotalCount ?? 0,
            Ms(rec.TimerLatenessMs(50)),
            Ms(rec.TimerLatenessMs(99)),
            Ms(fired ? rec.TimerLateness!.GetMaxValue() / 1e6 : 0),
            rec.ClearedDeletedTimers,
            run.Outcome.Error ?? "");
    }

    // ---- status ----------------------------------------------------------------------------------

    private async Task StatusAsync(GoSchedStatus command, KernelInvocationContext context)
    {
        if (command.Wait && _background is null)
            context.DisplayAs("No run is going on in the background: nothing to wait for (`run <workload> --background` starts one).", MarkdownMimeType);
        await CollectBackgroundAsync(context, command.Wait);
        var md = new StringBuilder($"**Config** `{Config}` (for the next run; `{ConfigVariable}` in C#)");
        if (_running is { } running)
            md.Append($"; **running** `{running}`");
        if (_background is { } bg)
            md.Append($"; **in the background** `{bg.Name}` ({bg.Workload})");
        md.Append(_last is { } last ? $"; **last run** `{last.Name}` ({last.Workload})" : "; no run yet");
        context.DisplayAs(md.ToString(), MarkdownMimeType);
        DisplayTable(context, KnobRows());
        if (_runs.Count > 0)
            DisplaySummaries(context, _runs.Values);
    }

    // ---- plot ------------------------------------------------------------------------------------

    private static void CheckPlotKind(GoSchedPlot command)
    {
        string kinds = string.Join(", ", GoSchedDirective.PlotKinds);
        if (string.IsNullOrWhiteSpace(command.Kind))
            throw new DirectiveException($"{GoSchedDirective.Name} {GoSchedDirective.Plot} <kind>: what to plot? ({kinds})");
        if (!GoSchedDirective.PlotKinds.Contains(command.Kind))
            throw new DirectiveException($"{GoSchedDirective.Name} {GoSchedDirective.Plot}: unknown kind '{command.Kind}'; kinds: {kinds}");
    }

    private Task PlotAsync(GoSchedPlot command, KernelInvocationContext context)
    {
        CheckPlotKind(command);

        var runs = ResolveRuns(command);
        if (command.Kind == GoSchedDirective.PlotTimers)
            return PlotTimersAsync(runs, context);
        if (command.Kind == GoSchedDirective.PlotNetpoll)
            return PlotNetpollAsync(runs, context);
        if (command.Kind == GoSchedDirective.PlotSyscalls)
            return PlotSyscallsAsync(runs, context);
        if (command.Kind == GoSchedDirective.PlotCounters)
        {
            var withCounters = runs.Where(r => r.Recording.Counters.Count > 0).ToArray();
            if (withCounters.Length == 0)
                throw new DirectiveException($"plot counters: {string.Join(", ", runs.Select(r => r.Name))} carry no per-P counters (Go schedtrace logs do not)");
            if (withCounters.Length < runs.Count)
                context.DisplayAs($"Left out of plot counters: {string.Join(", ", runs.Except(withCounters).Select(r => $"'{r.Name}'"))}, which carry no per-P counters (Go schedtrace logs do not).", MarkdownMimeType);
            _plotly.Display(context, _plotly.Renderer.BarChart(RecordingCharts.Counters(withCounters)));
            return Task.CompletedTask;
        }

        RefuseUnsampled(GoSchedDirective.PlotRunq, runs);
        _plotly.Display(context, _plotly.Renderer.LineChart(RecordingCharts.Runq(runs, command.Overlay)));
        return Task.CompletedTask;
    }

    /// <summary>
    /// What a plot kind needs of every run, and what to say of a run that lacks it. Has: true when
    /// the run has it, false when it recorded none (nothing happened), null when its kind of
    /// recording cannot have it (a Go schedtrace log). Whose: the workloads to suggest, as "a
    /// workload {Whose}"; Otherwise: what to suggest when none of them is in this build.
    /// </summary>
    private sealed record PlotNeeds(string Kind, string Table, Func<Recording, bool?> Has, Func<NamedRecording, string> NoneIn,
        string Whose, string[] Workloads, string Otherwise);

    private static readonly PlotNeeds s_timers = new(GoSchedDirective.PlotTimers, "timer lateness",
        r => r.TimerLateness is { } h ? h.TotalCount > 0 : null, r => $"no timer fired in '{r.Name}' ({r.Recording.Workload})",
        "whose goroutines sleep or use timers", GoSchedDirective.TimerWorkloads, "run goroutines that call Go.Sleep, Go.After or use a Timer or Ticker first");

    private static readonly PlotNeeds s_netpoll = new(GoSchedDirective.PlotNetpoll, "netpoll wake latency",
        r => r.NetpollWakeLatency is { } h ? h.TotalCount > 0 : null, r => $"no goroutine was woken by netpoll in '{r.Name}' ({r.Recording.Workload})",
        "whose goroutines wait on the network", GoSchedDirective.NetpollWorkloads, "run goroutines that use Net.Listen and Net.Dial first");

    private static readonly PlotNeeds s_syscalls = new(GoSchedDirective.PlotSyscalls, "system calls",
        r => r.Syscalls is { } c ? c.Syscalls > 0 : null, r => $"no system call in '{r.Name}' ({r.Recording.Workload})",
        "whose goroutines make blocking system calls", GoSchedDirective.SyscallWorkloads, "run goroutines that call Go.Syscall or Go.SyscallBlock first");

    /// <summary>plot timers: the lateness distribution, lateness over time and the heaps, each a chart with every run on it.</summary>
    private Task PlotTimersAsync(IReadOnlyList<NamedRecording> runs, KernelInvocationContext context)
    {
        runs = KeepWith(s_timers, runs, context);
        DisplayLine(context, TimerCharts.LatenessDistribution(runs), TimerCharts.LatenessOverTime(runs));
        DisplayOrExplain(context, TimerCharts.Heaps(runs), "timer heaps");
        return Task.CompletedTask;
    }

    /// <summary>plot netpoll: the wake-latency distribution, then polls and goroutines readied over time.</summary>
    private Task PlotNetpollAsync(IReadOnlyList<NamedRecording> runs, KernelInvocationContext context)
    {
        runs = KeepWith(s_netpoll, runs, context);
        DisplayLine(context, BlockingCharts.WakeLatency(runs));
        DisplayOrExplain(context, BlockingCharts.PollsOverTime(runs), "polls over time");
        return Task.CompletedTask;
    }

    /// <summary>plot syscalls: system calls and P hand-offs over time, then Ms by state over time (both need samples).</summary>
    private Task PlotSyscallsAsync(IReadOnlyList<NamedRecording> runs, KernelInvocationContext context)
    {
        runs = KeepWith(s_syscalls, runs, context);
        RefuseUnsampled(GoSchedDirective.PlotSyscalls, runs);
        DisplayLine(context, BlockingCharts.HandoffsOverTime(runs)!, BlockingCharts.MachinesOverTime(runs));
        return Task.CompletedTask;
    }

    /// <summary>
    /// The runs that have what the plot kind needs. The others are left out with a one-line note
    /// naming each and why; if none has it, the plot is refused, saying what to run.
    /// </summary>
    private IReadOnlyList<NamedRecording> KeepWith(PlotNeeds needs, IReadOnlyList<NamedRecording> runs, KernelInvocationContext context)
    {
        var without = runs.Where(r => needs.Has(r.Recording) != true).ToArray();
        if (without.Length == 0)
            return runs;
        string Why(NamedRecording r) => needs.Has(r.Recording) is null
            ? $"'{r.Name}' is a {(r.Recording.Source == "go" ? "Go schedtrace log, which records" : "recording with")} no {needs.Table}"
            : needs.NoneIn(r);
        if (without.Length < runs.Count)
        {
            context.DisplayAs($"Left out of plot {needs.Kind}: {string.Join("; ", without.Select(Why))}.", MarkdownMimeType);
            return runs.Except(without).ToArray();
        }
        var known = needs.Workloads.Where(w => _backend.Workloads.Any(b => b.Name == w)).ToArray();
        string what = known.Length > 0
            ? $"run a workload {needs.Whose} first: {GoSchedDirective.Name} {GoSchedDirective.Run} {known[0]}" +
              (known.Length > 1 ? $" (or {string.Join(", ", known.Skip(1))})" : "")
            : needs.Otherwise;
        throw new DirectiveException($"plot {needs.Kind}: {string.Join("; ", without.Select(Why))}: {what}");
    }

    /// <summary>Shows each chart as a line chart, in order.</summary>
    private void DisplayLine(KernelInvocationContext context, params GoSched.Charts.ChartSpec[] charts)
    {
        foreach (var chart in charts)
            _plotly.Display(context, _plotly.Renderer.LineChart(chart));
    }

    /// <summary>Refuses runs without samples, for plot kinds drawn only over time.</summary>
    private static void RefuseUnsampled(string kind, IReadOnlyList<NamedRecording> runs)
    {
        var empty = runs.Where(r => r.Recording.Samples.Count == 0).Select(r => r.Name).ToArray();
        if (empty.Length > 0)
            throw new DirectiveException($"plot {kind}: no samples in {string.Join(", ", empty)} (was the sampler off? #!gosched config --sample-period-us 1000)");
    }

    /// <summary>Shows a chart drawn from samples, or says that the runs had none.</summary>
    private void DisplayOrExplain(KernelInvocationContext context, GoSched.Charts.ChartSpec? chart, string what)
    {
        if (chart is not null)
            DisplayLine(context, chart);
        else
            context.DisplayAs($"No {what} to plot: the runs have no samples (was the sampler off? `#!gosched config --sample-period-us 1000`).", MarkdownMimeType);
    }

    /// <summary>--runs names (kept runs first, then C# variables holding a Recording) and --schedtrace files; default: the last run.</summary>
    private List<NamedRecording> ResolveRuns(GoSchedPlot command)
    {
        var runs = new List<NamedRecording>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // An empty list (`--runs ""`) is a mistake, not a request for the default (the last run).
        if (command.Runs is { } given && !Split(given).Any())
            throw new DirectiveException($"--runs: no run named in '{given}': give kept runs or Recording variables, comma-separated (runs: {KeptRunNames()})");
        if (command.Schedtrace is { } files && !Split(files).Any())
            throw new DirectiveException($"--schedtrace: no file named in '{files}': give schedtrace log paths, comma-separated");
        var unknown = new List<string>();
        foreach (string name in Split(command.Runs))
        {
            if (!seen.Add(name))
                throw new DirectiveException($"--runs: '{name}' is named twice");
            if (_background is { } bg && bg.Name == name && !_runs.ContainsKey(name))
                throw new DirectiveException($"--runs: `{name}` is still running in the background; `{GoSchedDirective.Name} {GoSchedDirective.Status} --wait` waits for it");
            if (_runs.TryGetValue(name, out var kept))
                runs.Add(new NamedRecording(name, kept.Outcome.Recording));
            else if (TryGetVariable(name) is { } recording)
                runs.Add(new NamedRecording(name, recording));
            else if (CSharp is { } csharp && csharp.TryGetValue<object>(name, out var other))
                throw new DirectiveException(other is RunResult
                    // rt.Run's result: its recording is one property away.
                    ? $"--runs: the variable '{name}' holds a RunResult, not a Recording: plot its recording with `var {name}Recording = {name}.Recording;` then `--runs {name}Recording`"
                    : $"--runs: the variable '{name}' holds {(other is null ? "null" : $"a {other.GetType().Name}")}, not a Recording");
            else
                unknown.Add(name);
        }
        if (unknown.Count > 0)
            throw new DirectiveException(
                $"--runs: no run or Recording variable named {string.Join(", ", unknown.Select(n => $"'{n}'"))} (runs: {KeptRunNames()})");
        foreach (string path in Split(command.Schedtrace))
        {
            if (Directory.Exists(path))
                throw new DirectiveException($"--schedtrace: {path} is a folder; give the path of a schedtrace log file");
            if (!File.Exists(path))
                throw new DirectiveException($"--schedtrace: no such file: {path} (relative paths start at {Environment.CurrentDirectory})");
            var recording = _backend.ParseSchedTrace(path);
            runs.Add(new NamedRecording(recording.Label, recording));
        }
        if (runs.Count == 0)
        {
            if (_last is null)
                throw new DirectiveException("plot: nothing to plot yet: #!gosched run <workload> first, or give --runs or --schedtrace");
            runs.Add(new NamedRecording(_last.Name, _last.Outcome.Recording));
        }
        return runs;
    }

    /// <summary>The kept runs' names for an error message, or "none yet".</summary>
    private string KeptRunNames() => _runs.Count == 0 ? "none yet" : string.Join(", ", _runs.Keys);

    private static IEnumerable<string> Split(string? list) =>
        list?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    /// <summary>Rows of a record type as an HTML table, one column per property (the formatting library's tabular data).</summary>
    private static void DisplayTable<T>(KernelInvocationContext context, IEnumerable<T> rows) =>
        context.Display(rows.ToTabularDataResource(), PlotlyOutput.HtmlMimeType);

    // ---- the C# kernel ---------------------------------------------------------------------------

    private CSharpKernel? CSharp => _kernel as CSharpKernel
        ?? (_kernel as CompositeKernel)?.ChildKernels.OfType<CSharpKernel>().FirstOrDefault();

    private async Task SetVariableAsync(string name, object value, Type type)
    {
        if (CSharp is { } csharp)
            await csharp.SetValueAsync(name, value, type);
    }

    private Recording? TryGetVariable(string name) =>
        CSharp is { } csharp && csharp.TryGetValue<object>(name, out var value) ? value as Recording : null;
}
