// RuntimeBackend: IGoSchedBackend on the real runtime (GoSched.Workloads' catalogue, GoSched.GoRuntime).
using GoSched.Interactive.Directives;
using GoSched.Observability;
using GoSched.Workloads;

namespace GoSched.Interactive.Workbench;

internal sealed class RuntimeBackend : IGoSchedBackend
{
    /// <summary>A run that has not finished by then is stopped by its runtime and reported as such.</summary>
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(10);

    public IReadOnlyList<WorkloadInfo> Workloads { get; } = WorkloadCatalog.All
        .Select(w => new WorkloadInfo(w.Name, w.Description, w.Parameters.Select(p => new WorkloadParameter(p.Name, p.Default, p.Description)).ToArray()))
        .ToArray();

    public async Task<RunOutcome> RunAsync(string workload, GoConfig config, IReadOnlyDictionary<string, string> args, Action<IRunControl>? started, CancellationToken cancellationToken)
    {
        RunResult result;
        try
        {
            // An interrupted cell stops the run (its goroutines end at their next await) and still
            // returns its result, whose error says it was cancelled: nothing keeps running unseen.
            Action<GoRuntime>? onStart = started is null ? null : rt => started(new RunControl(rt));
            result = await WorkloadCatalog.Get(workload).RunAsync(config, args, s_timeout, cancellationToken: cancellationToken, started: onStart);
        }
        catch (WorkloadException e)
        {
            throw new DirectiveException(e.Message);
        }
        return new RunOutcome(
            result.Recording,
            result.WallNs,
            result.GoroutinesStarted,
            result.GoroutinesFinished,
            result.StealOps,
            result.Error?.Message,
            result.Metrics,
            result.Warnings);
    }

    public Recording ParseSchedTrace(string path) => SchedTraceParser.ParseFile(path);

    public void CheckArgs(string workload, IReadOnlyDictionary<string, string> args) => WorkloadCatalog.Get(workload).Bind(args);

    private sealed class RunControl(GoRuntime rt) : IRunControl
    {
        public int SetGomaxprocs(int n) => rt.SetGomaxprocs(n);
    }
}
