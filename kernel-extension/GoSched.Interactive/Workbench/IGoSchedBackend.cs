// IGoSchedBackend: the one seam between the notebook commands and the runtime.
//
// The command layer (parsing, validation, errors, tables, charts) talks to the runtime only through
// this interface, so it is tested with a fake (tests/GoSched.Interactive.Tests/FakeBackend.cs) and
// carries no scheduler logic (STYLE.md 7). RuntimeBackend is the real one: GoSched.Workloads'
// catalogue and GoSched.GoRuntime.
using GoSched.Observability;

namespace GoSched.Interactive.Workbench;

internal interface IGoSchedBackend
{
    /// <summary>The named workloads, in the order the help lists them.</summary>
    IReadOnlyList<WorkloadInfo> Workloads { get; }

    /// <summary>
    /// Runs <paramref name="workload"/> (a name from <see cref="Workloads"/>, parameters already
    /// checked against its list) on a fresh runtime with <paramref name="config"/>. A run that ends
    /// in a deadlock or a goroutine's exception returns normally with <see cref="RunOutcome.Error"/> set.
    /// <paramref name="started"/> is called once the arguments are accepted and the run's runtime
    /// exists, with a handle that changes its GOMAXPROCS while it runs.
    /// </summary>
    Task<RunOutcome> RunAsync(string workload, GoConfig config, IReadOnlyDictionary<string, string> args, Action<IRunControl>? started, CancellationToken cancellationToken);

    /// <summary>Reads a real Go program's GODEBUG=schedtrace log.</summary>
    Recording ParseSchedTrace(string path);

    /// <summary>Checks a workload's argument values without running it; throws ArgumentException naming the bad one.</summary>
    void CheckArgs(string workload, IReadOnlyDictionary<string, string> args);
}

/// <summary>What a notebook may change on a run while it runs.</summary>
internal interface IRunControl
{
    /// <summary>runtime.GOMAXPROCS(n) on the running workload; returns the previous value. Throws InvalidOperationException once the run has ended.</summary>
    int SetGomaxprocs(int n);
}

/// <summary>A workload of the catalogue: what `#!gosched help` and `run` show and check against.</summary>
internal sealed record WorkloadInfo(string Name, string Description, IReadOnlyList<WorkloadParameter> Parameters);

/// <summary>One parameter of a workload, with its default as text.</summary>
internal sealed record WorkloadParameter(string Name, string Default, string Description);

/// <summary>What a run leaves behind: its recording and the figures of the summary table.</summary>
internal sealed record RunOutcome(
    Recording Recording,
    long WallNs,
    long GoroutinesStarted,
    long GoroutinesFinished,
    long Steals,
    string? Error,
    IReadOnlyDictionary<string, double>? Metrics = null,
    IReadOnlyList<string>? Warnings = null);
