// GoSchedKernelExtension: what happens when a notebook loads the package.
//
//   #r "nuget: GoSched.Interactive, 0.1.0"
//
// The host loads every dll of the package's interactive-extensions/dotnet/ folder into its default
// load context and calls OnLoadAsync with the root (composite) kernel. Load wires the pieces and
// holds no logic of its own: the #!gosched directive (Directives/), the session that its commands
// act on (Workbench/), chart output (Charts/), and the C# kernel's reference to GoSched.Runtime so
// that cells can use the runtime and the recordings the commands leave in variables.
using GoSched.Charts;
using GoSched.Interactive.Charts;
using GoSched.Interactive.Workbench;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.CSharp;

namespace GoSched.Interactive;

/// <summary>The .NET Interactive extension of GoSched Workbench.</summary>
public sealed class GoSchedKernelExtension : IKernelExtension
{
    public Task OnLoadAsync(Kernel kernel) => LoadAsync(kernel, new RuntimeBackend(), () => ChartHost.Renderer);

    /// <summary>Loads the extension into <paramref name="kernel"/> with the given runtime and renderer (tests pass fakes).</summary>
    internal static async Task<GoSchedSession> LoadAsync(Kernel kernel, IGoSchedBackend backend, Func<IChartRenderer> renderer)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        var plotly = new PlotlyOutput(renderer);
        plotly.RegisterXPlotFormatter();

        var session = new GoSchedSession(kernel, backend, plotly);
        session.AddDirectives();

        var csharp = kernel as CSharpKernel ?? (kernel as CompositeKernel)?.ChildKernels.OfType<CSharpKernel>().FirstOrDefault();
        if (csharp is not null)
        {
            // C# cells see GoSched.Runtime: in the real kernel the package's lib/ does this too, but a
            // kernel that loads the extension directly (the notebook runner, tests) has no #r for it.
            csharp.AddAssemblyReferences([typeof(GoConfig).Assembly.Location]);
            await csharp.SetValueAsync(GoSchedSession.ConfigVariable, session.Config, typeof(GoConfig));
        }

        KernelInvocationContext.Current?.DisplayAs(
            "**GoSched Workbench** is loaded. Try `#!gosched help`, then `#!gosched config --gomaxprocs 2`, " +
            "`#!gosched run <workload>` and `#!gosched plot runq`.",
            "text/markdown");
        return session;
    }
}
