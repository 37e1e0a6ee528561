// PlotlyChartRenderer: ChartSpec in, Plotly.NET chart out, as an HTML fragment.
//
// Loaded by reflection into the extension's own load context (GoSched.Interactive/ChartsLoadContext.cs):
// keep a public parameterless constructor and nothing but contract types in the public surface.
// Charts are built with Plotly.NET's C# bindings; the fragment is GenericChart.toChartHTML, a div
// plus the script that draws it, which references no script of its own (see PlotlyJs for the one
// that must precede it).
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace GoSched.Charts;

/// <summary>The Plotly.NET implementation of <see cref="IChartRenderer"/>.</summary>
public sealed class PlotlyChartRenderer : IChartRenderer
{
    // Plotly's default colourway: colours are assigned per legend group so one run keeps its colour
    // on every panel.
    private static readonly string[] s_palette =
    {
        "#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52",
    };

    private const int DefaultWidth = 900;
    private const int PanelHeight = 230;
    private const int MinHeight = 420;

    public string PlotlyJsVersion => PlotlyJs.Version;

    public string PlotlyScriptTag() => PlotlyJs.ScriptTag;

    public string LineChart(ChartSpec chart) => Render(chart, (s, color, showLegend) =>
    {
        // Line.init's F# optional arguments are all required from C#; the line is a DynamicObj whose
        // properties are plotly.js's own names, so set the three that matter directly.
        var line = new Line();
        line.SetProperty("color", color);
        line.SetProperty("shape", s.Shape);
        if (s.Dashed) line.SetProperty("dash", "dash");
        return CSharpChart.Line<double, double, string>(s.X, s.Y, Name: s.Name, ShowLegend: showLegend, Line: line);
    });

    public string BarChart(ChartSpec chart) => Render(chart, (s, color, showLegend) =>
        CSharpChart.Column<double, double, string>(s.Y, Keys: s.X, Name: s.Name, ShowLegend: showLegend, MarkerColor: Color.fromHex(color)));

    /// <summary>Builds every series with <paramref name="trace"/>, groups them into panels and lays the panels out.</summary>
    private static string Render(ChartSpec chart, Func<SeriesSpec, string, bool, GenericChart> trace) =>
        GenericChart.toChartHTML(Build(chart, trace));

    internal static GenericChart Build(ChartSpec chart, Func<SeriesSpec, string, bool, GenericChart> trace)
    {
        Validate(chart);
        int panels = Math.Max(1, chart.PanelTitles.Length);
        int columns = Math.Clamp(chart.Columns, 1, panels);
        int rows = (panels + columns - 1) / columns;

        var colors = new Dictionary<string, string>();
        var legendShown = new HashSet<string>();
        var perPanel = new List<GenericChart>[panels];
        for (int i = 0; i < panels; i++) perPanel[i] = new List<GenericChart>();

        foreach (var s in chart.Series)
        {
            string group = s.Group.Length > 0 ? s.Group : s.Name;
            if (!colors.TryGetValue(group, out var color))
                colors[group] = color = s_palette[colors.Count % s_palette.Length];
            bool first = legendShown.Add(group);
            var t = trace(s, color, first);
            if (s.Group.Length > 0) t = Plotly.NET.CSharp.GenericChartExtensions.WithTraceInfo(t, LegendGroup: s.Group);
            perPanel[s.Panel].Add(t);
        }

        var axisType = (string scale) => scale == AxisScales.Log ? StyleParam.AxisType.Log : StyleParam.AxisType.Linear;
        var panelCharts = perPanel.Select((traces, i) =>
        {
            var c = traces.Count > 0 ? CSharpChart.Combine(traces) : CSharpChart.Invisible();
            // Every panel gets the x title: with a shared x axis (the grid's coupled pattern) the
            // panels of a column draw one axis, taken from the first, at the bottom.
            c = Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<string, string, string>(c,
                TitleText: chart.XTitle, AxisType: axisType(chart.XScale));
            // plotly's default tick labels on a log axis use SI prefixes: 1e-4 on a millisecond
            // axis reads "100µ", which a reader takes for 100 µs. Powers of ten are unambiguous.
            if (chart.XScale == AxisScales.Log)
            {
                var powers = new Plotly.NET.LayoutObjects.LinearAxis();
                powers.SetProperty("exponentformat", "power");
                c = Plotly.NET.Chart.withXAxis(powers, Id: null).Invoke(c);
            }
            string yTitle = chart.PanelYTitles.Length > 0 ? chart.PanelYTitles[i] : i % columns == 0 ? chart.YTitle : "";
            c = Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<string, string, string>(c,
                TitleText: yTitle, AxisType: axisType(chart.YScale));
            return c;
        }).ToArray();

        GenericChart result = panels == 1
            ? panelCharts[0]
            : CSharpChart.Grid(panelCharts, rows, columns,
                SubPlotTitles: chart.PanelTitles,
                Pattern: chart.ShareX ? StyleParam.LayoutGridPattern.Coupled : StyleParam.LayoutGridPattern.Independent,
                YGap: 0.35);

        if (chart.Bands.Length > 0)
            result = Plotly.NET.Chart.withShapes(chart.Bands.Select(b => Band(b, colors, columns, chart.ShareX && panels > 1)), Append: null).Invoke(result);

        int width = chart.Width > 0 ? chart.Width : DefaultWidth;
        int height = chart.Height > 0 ? chart.Height : Math.Max(MinHeight, rows * PanelHeight);
        result = Plotly.NET.CSharp.GenericChartExtensions.WithSize(result, width, height);
        if (chart.Title.Length > 0) result = Plotly.NET.Chart.withTitle(chart.Title, TitleFont: null).Invoke(result);
        return result;
    }

    /// <summary>
    /// A band as a rectangle on its panel's x axis, from the bottom to the top of the panel's y
    /// domain, under the traces. Panels map to axes as plotly.js's grid patterns number them:
    /// coupled, one x axis per column and one y axis per row; independent, an x/y pair per panel.
    /// </summary>
    private static Shape Band(BandSpec b, Dictionary<string, string> colors, int columns, bool coupled)
    {
        int x = coupled ? b.Panel % columns + 1 : b.Panel + 1, y = coupled ? b.Panel / columns + 1 : b.Panel + 1;
        string Axis(string letter, int n) => n == 1 ? letter : $"{letter}{n}";
        var shape = new Shape();
        shape.SetProperty("type", "rect");
        shape.SetProperty("layer", "below");
        shape.SetProperty("xref", Axis("x", x));
        shape.SetProperty("yref", $"{Axis("y", y)} domain");
        shape.SetProperty("x0", b.X0);
        shape.SetProperty("x1", b.X1);
        shape.SetProperty("y0", 0);
        shape.SetProperty("y1", 1);
        shape.SetProperty("fillcolor", colors.GetValueOrDefault(b.Group, "#7f7f7f"));
        shape.SetProperty("opacity", 0.2);
        var line = new Line();
        line.SetProperty("width", 0);
        shape.SetProperty("line", line);
        return shape;
    }

    /// <summary>Rejects a spec that Plotly would draw wrongly without a word.</summary>
    private static void Validate(ChartSpec chart)
    {
        int panels = Math.Max(1, chart.PanelTitles.Length);
        if (chart.PanelYTitles.Length != 0 && chart.PanelYTitles.Length != panels)
            throw new ArgumentException($"chart '{chart.Title}': {chart.PanelYTitles.Length} panel y titles for {panels} panels");
        foreach (var s in chart.Series)
        {
            if (s.X.Length != s.Y.Length)
                throw new ArgumentException($"chart '{chart.Title}': series '{s.Name}' has {s.X.Length} x values and {s.Y.Length} y values");
            if (s.Panel < 0 || s.Panel >= panels)
                throw new ArgumentException($"chart '{chart.Title}': series '{s.Name}' is on panel {s.Panel}, but the chart has {panels}");
        }
        foreach (var b in chart.Bands)
        {
            if (b.Panel < 0 || b.Panel >= panels)
                throw new ArgumentException($"chart '{chart.Title}': a band is on panel {b.Panel}, but the chart has {panels}");
            if (!(b.X0 <= b.X1))
                throw new ArgumentException($"chart '{chart.Title}': a band runs from {b.X0} to {b.X1}");
        }
    }
}
