// The chart contract: what the notebook extension asks of the chart renderer, in plain data.
//
// Why a contract at all: the renderer is built on Plotly.NET, which needs a newer FSharp.Core than
// the dotnet-interactive host loads. So the renderer lives in a load context of its own (with its
// own FSharp.Core), and only this assembly is shared between that context and the host's. Nothing
// from Plotly.NET or F# may appear here: a chart is described by titles, arrays of numbers and a
// few switches, and comes back as an HTML fragment (a div plus the script that draws it).
//
// The fragment never references plotly.js by itself. The host puts PlotlyScriptTag() on the page
// once, before the first chart of a kernel session (or of an exported page), because the script is
// 3.6 MB and must work offline.
namespace GoSched.Charts;

/// <summary>Renders chart descriptions to HTML fragments. Implemented by GoSched.Charts (Plotly.NET).</summary>
public interface IChartRenderer
{
    /// <summary>
    /// A script tag holding the whole plotly.js that the renderer was built against, guarded so that
    /// it runs at most once per page and is never captured by require.js (which would leave
    /// window.Plotly unset and every chart blank).
    /// </summary>
    string PlotlyScriptTag();

    /// <summary>The plotly.js version the renderer embeds, e.g. "2.28.0".</summary>
    string PlotlyJsVersion { get; }

    /// <summary>A line (or step) chart: one trace per series, laid out on the chart's panels.</summary>
    string LineChart(ChartSpec chart);

    /// <summary>A grouped bar chart: each series is one colour, X holds the category positions.</summary>
    string BarChart(ChartSpec chart);
}

/// <summary>How a series joins its points.</summary>
public static class LineShapes
{
    /// <summary>Straight segments between samples.</summary>
    public const string Linear = "linear";

    /// <summary>A step that holds each value until the next sample (a queue length between two readings).</summary>
    public const string Step = "hv";
}

/// <summary>Axis scales.</summary>
public static class AxisScales
{
    public const string Linear = "linear";

    /// <summary>For latency histograms and CDFs spanning decades.</summary>
    public const string Log = "log";
}

/// <summary>One chart: its panels (subplots) and the series drawn on them.</summary>
public sealed class ChartSpec
{
    public string Title { get; set; } = "";

    public string XTitle { get; set; } = "";

    public string YTitle { get; set; } = "";

    /// <summary>Scale of every panel's x axis (<see cref="AxisScales"/>).</summary>
    public string XScale { get; set; } = AxisScales.Linear;

    /// <summary>Scale of every panel's y axis (<see cref="AxisScales"/>).</summary>
    public string YScale { get; set; } = AxisScales.Linear;

    /// <summary>
    /// One title per panel. Empty: a single panel. Panels fill a grid row by row,
    /// <see cref="Columns"/> to a row; series pick their panel by index.
    /// </summary>
    public string[] PanelTitles { get; set; } = [];

    /// <summary>
    /// One y-axis title per panel, for panels that measure different things (a histogram beside a
    /// CDF). Empty: <see cref="YTitle"/> on the first panel of each row.
    /// </summary>
    public string[] PanelYTitles { get; set; } = [];

    /// <summary>Panels per grid row (1: one panel under another, sharing the x axis).</summary>
    public int Columns { get; set; } = 1;

    /// <summary>Whether panels share one x range (zooming one zooms all).</summary>
    public bool ShareX { get; set; } = true;

    public SeriesSpec[] Series { get; set; } = [];

    /// <summary>Shaded vertical bands behind the series (intervals of time, e.g. stop-the-world pauses); line charts only.</summary>
    public BandSpec[] Bands { get; set; } = [];

    /// <summary>Pixel size; 0: the renderer picks one from the number of panels.</summary>
    public int Width { get; set; }

    public int Height { get; set; }
}

/// <summary>An x interval shaded over the full height of one panel, under its traces.</summary>
public sealed class BandSpec
{
    public double X0 { get; set; }

    public double X1 { get; set; }

    /// <summary>Index into <see cref="ChartSpec.PanelTitles"/> (0 when the chart has one panel).</summary>
    public int Panel { get; set; }

    /// <summary>A series group whose colour the band takes (one run's pauses in its colour); empty: grey.</summary>
    public string Group { get; set; } = "";
}

/// <summary>One trace: a name for the legend, x and y of equal length, and where it goes.</summary>
public sealed class SeriesSpec
{
    public string Name { get; set; } = "";

    public double[] X { get; set; } = [];

    public double[] Y { get; set; } = [];

    /// <summary>Index into <see cref="ChartSpec.PanelTitles"/> (0 when the chart has one panel).</summary>
    public int Panel { get; set; }

    /// <summary>Line shape (<see cref="LineShapes"/>); ignored by bar charts.</summary>
    public string Shape { get; set; } = LineShapes.Linear;

    /// <summary>Series with the same non-empty group share one legend entry and colour (e.g. one run across panels).</summary>
    public string Group { get; set; } = "";

    /// <summary>Draw dashed (e.g. the global queue beside the per-P queues).</summary>
    public bool Dashed { get; set; }
}
