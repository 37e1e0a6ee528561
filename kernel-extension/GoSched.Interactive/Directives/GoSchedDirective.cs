// GoSchedDirective: the #!gosched magic command's grammar, in one place.
//
//   #!gosched [help | config | run | status | plot] [value] [--option value | --flag]...
//
// The tree below is the single source of the names: the host's parser and completions read it,
// the help text is printed from it, and DirectiveLine checks each line against it. A root
// KernelActionDirective with one level of subcommands is all the host API allows.
using Microsoft.DotNet.Interactive.Directives;

namespace GoSched.Interactive.Directives;

/// <summary>A config option and the GoConfig knob (GODEBUG name) it sets.</summary>
internal sealed record KnobOption(string Option, string Knob, string Description);

internal static class GoSchedDirective
{
    public const string Name = "#!gosched";

    public const string Help = "help", Config = "config", Run = "run", Status = "status", Plot = "plot";

    public const string PlotRunq = "runq", PlotCounters = "counters", PlotTimers = "timers", PlotNetpoll = "netpoll", PlotSyscalls = "syscalls";

    public static readonly string[] PlotKinds = [PlotRunq, PlotCounters, PlotTimers, PlotNetpoll, PlotSyscalls];

    /// <summary>The catalogue's workloads whose goroutines fire timers (named in plot timers' error).</summary>
    public static readonly string[] TimerWorkloads = ["timers", "ticker", "timers-under-load", "timer-churn"];

    /// <summary>The catalogue's workloads whose goroutines wait on the network (named in plot netpoll's error).</summary>
    public static readonly string[] NetpollWorkloads = ["netecho"];

    /// <summary>The catalogue's workloads whose goroutines make blocking system calls (named in plot syscalls' error).</summary>
    public static readonly string[] SyscallWorkloads = ["syscall-block"];

    /// <summary>The config options that set one knob each; values are parsed and checked by GoConfig.</summary>
    public static readonly KnobOption[] Knobs =
    [
        new("--gomaxprocs", "gomaxprocs", "Number of Ps (GOMAXPROCS), 1 to 256."),
        new("--steal-tries", "stealtries", "Rounds of stealWork before an M gives up (Go: 4; 0 turns stealing off)."),
        new("--runq-size", "runqsize", "Slots in each P's local run queue: a power of two, 4 to 65536 (Go: 256)."),
        new("--global-runq-check", "globalrunqcheck", "Take one G from the global queue every this many schedticks, 2 to 1048576 (Go: 61)."),
        new("--runnext", "runnext", "1: newproc and ready use the P's runnext slot (Go); 0: they do not."),
        new("--randomize", "randomizescheduler", "1: Go's race-mode randomizeScheduler (runnext skipped at random, batches shuffled)."),
        new("--seed", "seed", "Seed of the runtime's random generator (steal order, randomize); 0: from entropy."),
        new("--sample-period-us", "sampleperiodus", "Sampler period in microseconds, 100 to 10000000 (10 s); 0 turns the sampler off."),
        new("--timer-clear", "timerclear", "1: a P clears its deleted timers once they exceed 1/4 of its heap (Go's clearDeletedTimers rule); 0: it does not."),
        new("--timer-clear-ratio", "timerclearratio", "The rule's denominator: clear when deleted timers exceed 1/this of the heap (Go: 4)."),
    ];

    /// <summary>Options that take several occurrences; every other option may appear once.</summary>
    public const int MaxArgs = 64;

    /// <summary>
    /// The tree that lines are checked against. The host takes ownership of the instances it is
    /// given (a directive cannot be re-parented), so each kernel gets its own from <see cref="Create"/>.
    /// </summary>
    public static readonly KernelActionDirective Grammar = Create();

    public static KernelActionDirective Create()
    {
        var root = new KernelActionDirective(Name,
            "GoSched Workbench: configure the Go scheduler model, run workloads on it and plot what it did. `#!gosched help` for details.");

        root.Subcommands.Add(new KernelActionDirective(Help, "Lists the subcommands, their options and the workloads."));

        var config = new KernelActionDirective(Config,
            "Sets scheduler knobs for the next runs; with no option shows them. Values are checked as GODEBUG settings are. " +
            "A new GOMAXPROCS also applies at once to a run going on in the background (`run --background`), as runtime.GOMAXPROCS does.");
        foreach (var knob in Knobs)
            config.Parameters.Add(new KernelDirectiveParameter(knob.Option, knob.Description) { TypeHint = "number" });
        config.Parameters.Add(new KernelDirectiveParameter("--godebug",
            "Several knobs at once, GODEBUG-style: \"gomaxprocs=2,stealtries=0\" (applied after the single options)."));
        config.Parameters.Add(new KernelDirectiveParameter("--reset", "Go back to Go's defaults before applying the other options.") { Flag = true });
        root.Subcommands.Add(config);

        root.Subcommands.Add(new KernelActionDirective(Run,
            "Runs a named workload on a fresh runtime with the current config, shows a summary and keeps its recording as a C# variable.")
        {
            Parameters =
            [
                new KernelDirectiveParameter("--workload", "The workload to run (see `#!gosched help`).") { AllowImplicitName = true },
                new KernelDirectiveParameter("--arg", "A workload parameter, name=value; repeat it, or separate several with commas; each name once.") { MaxOccurrences = MaxArgs },
                new KernelDirectiveParameter("--name", "The C# variable that receives the recording (default: lastRun; lastRun is always set too)."),
                new KernelDirectiveParameter("--background", "Start the run and return at once: `config --gomaxprocs` then changes its GOMAXPROCS while it runs, `status --wait` waits for it.") { Flag = true },
            ],
        });

        root.Subcommands.Add(new KernelActionDirective(Status, "Shows the configured knobs, a run going on in the background and the runs kept so far.")
        {
            Parameters = [new KernelDirectiveParameter("--wait", "Wait for the background run to end and show its summary.") { Flag = true }],
        });

        root.Subcommands.Add(new KernelActionDirective(Plot,
            "Plots kept runs: `runq` (per-P run-queue depth over time and the global queue), `counters` (per-P scheduler counters), " +
            "`timers` (timer lateness as a histogram and CDF, lateness over time, and each P's timer heap with its deleted timers), " +
            "`netpoll` (netpoll wake latency as a histogram and CDF, and polls and goroutines readied over time) " +
            "or `syscalls` (system calls, immediate P hand-offs and sysmon's retakes over time, and Ms by state over time); " +
            "stop-the-world pauses are shaded on every timeline; several runs are drawn on the same charts.")
        {
            Parameters =
            [
                new KernelDirectiveParameter("--kind", $"What to plot: {string.Join(", ", PlotKinds)}.") { AllowImplicitName = true },
                new KernelDirectiveParameter("--runs", "Runs to plot, comma-separated: names given to `run --name`, or C# variables holding a Recording (default: the last run)."),
                new KernelDirectiveParameter("--schedtrace", "Real Go GODEBUG=schedtrace logs to plot beside the runs, comma-separated paths."),
                new KernelDirectiveParameter("--overlay", "runq: one panel per P with the runs overlaid, instead of one panel per run.") { Flag = true },
            ],
        });

        return root;
    }
}
