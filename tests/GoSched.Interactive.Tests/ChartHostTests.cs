using System.Runtime.Loader;
using GoSched.Charts;
using GoSched.Interactive.Charts;
using Microsoft.DotNet.Interactive.CSharp;

namespace GoSched.Interactive.Tests;

/// <summary>The renderer's load context, and XPlot charts written in a cell.</summary>
[Collection(AloneCollection.Name)] // relies on the XPlot formatter the extension registers
public class ChartHostTests : KernelTestBase
{
    [Fact]
    public void The_renderer_runs_in_its_own_load_context_with_its_own_FSharp_Core()
    {
        var renderer = ChartHost.Renderer;
        renderer.LineChart(new ChartSpec { Series = [new SeriesSpec { Name = "s", X = [0, 1], Y = [1, 0] }] });
        var context = Assert.IsType<ChartsLoadContext>(AssemblyLoadContext.GetLoadContext(renderer.GetType().Assembly));

        Assert.Equal(ChartHost.DefaultDirectory(), context.Directory);
        var fsharp = Assert.Single(context.Assemblies, a => a.GetName().Name == "FSharp.Core");
        Assert.Equal(Path.Combine(ChartHost.DefaultDirectory(), "FSharp.Core.dll"), fsharp.Location);
        Assert.Contains(context.Assemblies, a => a.GetName().Name == "Plotly.NET");
        // The contract is the default context's: that is what makes the cast to IChartRenderer work.
        Assert.DoesNotContain(context.Assemblies, a => a.GetName().Name == "GoSched.Charts.Contract");
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(typeof(IChartRenderer).Assembly));
    }

    [Fact]
    public void A_missing_charts_folder_is_reported_by_path()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ChartHost.Load("/no/charts"));
        Assert.Contains("/no/charts/GoSched.Charts.dll", e.Message);
    }

    [Fact]
    public async Task An_XPlot_chart_in_a_cell_renders_as_html_with_the_offline_script()
    {
        var csharp = Kernel.ChildKernels.OfType<CSharpKernel>().Single();
        csharp.AddAssemblyReferences([typeof(XPlot.Plotly.Chart).Assembly.Location, typeof(Microsoft.FSharp.Core.FSharpOption<>).Assembly.Location]);
        // The extension was loaded before this test touched XPlot: load again, as a later #r would
        // (the formatter is registered on the assembly's load, or at extension load if already there).
        await GoSchedKernelExtension.LoadAsync(new Microsoft.DotNet.Interactive.CompositeKernel(), Backend, () => ChartHost.Renderer);

        var result = await SucceedsAsync("XPlot.Plotly.Chart.Line(new[] { 1, 3, 2 })");

        var html = result.Events.OfType<Microsoft.DotNet.Interactive.Events.ReturnValueProduced>().Single()
            .FormattedValues.Single(v => v.MimeType == Html).Value;
        Assert.Contains("data-gosched-plotly=", html);
        Assert.Contains("Plotly.newPlot(", html);
        Assert.Contains("\"y\":[1,3,2]", html);
    }
}
