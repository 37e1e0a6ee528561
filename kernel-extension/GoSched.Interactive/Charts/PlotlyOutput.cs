// PlotlyOutput: chart HTML as it goes to a notebook, with plotly.js before the first chart.
//
// plotly.js (3.6 MB, offline) is emitted once per kernel session: with the first chart that this
// kernel displays, whether it comes from #!gosched plot or from an XPlot.Plotly chart in a cell.
// Each extension load (one per kernel) has its own PlotlyOutput, so a new kernel (a re-started
// notebook, the next notebook of the runner) starts again with the script.
using System.Reflection;
using GoSched.Charts;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace GoSched.Interactive.Charts;

internal sealed class PlotlyOutput
{
    public const string HtmlMimeType = "text/html";
    private const string XPlotAssembly = "XPlot.Plotly";
    private const string XPlotChartType = "XPlot.Plotly.PlotlyChart";
    private const string XPlotInlineHtml = "GetInlineHtml";

    // The XPlot formatter is process-wide (Formatter is static); it writes through the output of the
    // kernel that loaded the extension last.
    private static PlotlyOutput? s_current;
    private static int s_subscribed;

    private readonly Func<IChartRenderer> _renderer;
    private int _scriptEmitted;

    public PlotlyOutput(Func<IChartRenderer> renderer)
    {
        _renderer = renderer;
    }

    public IChartRenderer Renderer => _renderer();

    /// <summary>Whether plotly.js has gone out in this kernel session.</summary>
    public bool ScriptEmitted => Volatile.Read(ref _scriptEmitted) != 0;

    /// <summary><paramref name="chartHtml"/>, preceded by plotly.js the first time in this session.</summary>
    public string Page(string chartHtml) =>
        Interlocked.Exchange(ref _scriptEmitted, 1) == 0 ? Renderer.PlotlyScriptTag() + chartHtml : chartHtml;

    /// <summary>Displays a chart (and plotly.js the first time) as text/html.</summary>
    public void Display(KernelInvocationContext context, string chartHtml) =>
        context.DisplayAs(Page(chartHtml), HtmlMimeType);

    /// <summary>
    /// Registers the text/html formatter for XPlot.Plotly's chart type, now if XPlot is loaded and
    /// otherwise as soon as it is (a later #r "nuget: XPlot.Plotly"). By reflection: the extension
    /// does not depend on XPlot. Without it the kernel shows an XPlot chart as a property table.
    /// </summary>
    public void RegisterXPlotFormatter()
    {
        Volatile.Write(ref s_current, this);
        if (Interlocked.Exchange(ref s_subscribed, 1) == 0)
            AppDomain.CurrentDomain.AssemblyLoad += (_, e) => TryRegisterXPlot(e.LoadedAssembly);
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
            TryRegisterXPlot(assembly);
    }

    private static void TryRegisterXPlot(Assembly assembly)
    {
        if (assembly.GetName().Name != XPlotAssembly || assembly.GetType(XPlotChartType) is not { } chartType)
            return;
        var inlineHtml = chartType.GetMethod(XPlotInlineHtml, Type.EmptyTypes);
        if (inlineHtml is null)
            return;
        // XPlot's inline HTML is a div and a script calling Plotly.newPlot on the global Plotly,
        // which is what the guarded script tag provides.
        Formatter.Register(chartType, (chart, writer) =>
        {
            string html = (string)inlineHtml.Invoke(chart, null)!;
            writer.Write(Volatile.Read(ref s_current) is { } output ? output.Page(html) : html);
        }, HtmlMimeType);
    }
}
