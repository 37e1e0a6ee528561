// RuntimeBackend: IGoSchedBackend on the real runtime.
using GoSched.Interactive.Directives;
using GoSched.Observability;

namespace GoSched.Interactive.Workbench;

internal sealed class RuntimeBackend : IGoSchedBackend
{
    // GoSched.GoRuntime and GoSched.Workloads.WorkloadCatalog are not in this build yet: until they
    // are, there are no workloads and `run` says so. Go schedtrace logs can already be plotted.
    public IReadOnlyList<WorkloadInfo> Workloads { get; } = [];

    public Task<RunOutcome> RunAsync(string workload, GoConfig config, IReadOnlyDictionary<string, string> args, CancellationToken cancellationToken) =>
        throw new DirectiveException("run: this build has no runtime yet (GoSched.GoRuntime is not merged)");

    public Recording ParseSchedTrace(string path) => SchedTraceParser.ParseFile(path);
}
