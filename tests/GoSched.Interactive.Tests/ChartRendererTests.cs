using System.Text.RegularExpressions;
using GoSched.Charts;
using GoSched.Interactive.Charts;

namespace GoSched.Interactive.Tests;

public class ChartRendererTests
{
    private readonly IChartRenderer _renderer = ChartHost.Renderer;

    private static ChartSpec TwoPanels() => new()
    {
        Title = "run-queue depth",
        XTitle = "time (ms)",
        YTitle = "goroutines",
        PanelTitles = ["P0", "P1"],
        Series =
        [
            new SeriesSpec { Name = "P0", X = [0, 1, 2], Y = [3, 1, 0], Panel = 0, Shape = LineShapes.Step, Group = "run a" },
            new SeriesSpec { Name = "P1", X = [0, 1, 2], Y = [0, 2, 0], Panel = 1, Shape = LineShapes.Step, Group = "run a" },
            new SeriesSpec { Name = "global", X = [0, 1, 2], Y = [5, 0, 0], Panel = 0, Dashed = true },
        ],
    };

    [Fact]
    public void LineChart_is_a_div_and_a_script_that_draws_it()
    {
        string html = _renderer.LineChart(TwoPanels());

        var id = Regex.Match(html, "<div id=\"([0-9a-f-]+)\"").Groups[1].Value;
        Assert.NotEmpty(id);
        Assert.Contains($"Plotly.newPlot('{id}'", html);
        Assert.Contains("\"shape\":\"hv\"", html);
        Assert.Contains("\"dash\":\"dash\"", html);
        Assert.Contains("\"legendgroup\":\"run a\"", html);
        Assert.Contains("run-queue depth", html);
        Assert.Contains("\"text\":\"P1\"", html); // subplot title annotation
    }

    [Fact]
    public void A_chart_references_no_script_of_its_own()
    {
        string html = _renderer.LineChart(TwoPanels()) + _renderer.BarChart(Bars());

        Assert.DoesNotContain("<script src", html);
        Assert.DoesNotContain("cdn", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("require(", html);
    }

    [Fact]
    public void Series_of_one_group_share_a_colour_and_one_legend_entry()
    {
        string html = _renderer.LineChart(TwoPanels());

        var traces = Regex.Matches(html, "\"name\":\"(P0|P1)\".*?\"showlegend\":(true|false).*?\"color\":\"(#[0-9a-f]+)\"");
        Assert.Equal(2, traces.Count);
        Assert.Equal(traces[0].Groups[3].Value, traces[1].Groups[3].Value);
        Assert.Equal(["true", "false"], traces.Select(m => m.Groups[2].Value));
    }

    private static ChartSpec Bars() => new()
    {
        Title = "steals per P",
        XTitle = "P",
        YTitle = "count",
        Series =
        [
            new SeriesSpec { Name = "steal ops", X = [0, 1], Y = [10, 12] },
            new SeriesSpec { Name = "stolen Gs", X = [0, 1], Y = [40, 44] },
        ],
    };

    [Fact]
    public void BarChart_draws_one_bar_trace_per_series()
    {
        string html = _renderer.BarChart(Bars());

        Assert.Equal(2, Regex.Matches(html, "\"type\":\"bar\",\"name\"").Count);
        Assert.Contains("steals per P", html);
    }

    [Fact]
    public void Log_scale_reaches_the_axis()
    {
        var spec = Bars();
        spec.XScale = AxisScales.Log;

        Assert.Contains("\"type\":\"log\"", _renderer.LineChart(spec));
    }

    [Fact]
    public void Mismatched_series_and_unknown_panels_are_rejected()
    {
        var ragged = new ChartSpec { Title = "t", Series = [new SeriesSpec { Name = "s", X = [1, 2], Y = [1] }] };
        var lost = new ChartSpec { Title = "t", Series = [new SeriesSpec { Name = "s", X = [1], Y = [1], Panel = 3 }] };

        Assert.Contains("2 x values and 1 y values", Assert.Throws<ArgumentException>(() => _renderer.LineChart(ragged)).Message);
        Assert.Contains("panel 3, but the chart has 1", Assert.Throws<ArgumentException>(() => _renderer.LineChart(lost)).Message);
    }

    /// <summary>Four panels (marked by their series' names), a band on each, laid out in <paramref name="columns"/> columns.</summary>
    private static ChartSpec Banded(int columns, bool shareX) => new()
    {
        Title = "banded",
        PanelTitles = ["a", "b", "c", "d"],
        Columns = columns,
        ShareX = shareX,
        Series = Enumerable.Range(0, 4).Select(i => new SeriesSpec { Name = $"panel{i}", X = [0, 10], Y = [i, i], Panel = i }).ToArray(),
        Bands = Enumerable.Range(0, 4).Select(i => new BandSpec { X0 = i + 0.25, X1 = i + 0.5, Panel = i, Group = i == 3 ? "panel3" : "" }).ToArray(),
    };

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    public void A_band_is_drawn_on_the_axes_of_its_panels_traces(int columns, bool shareX)
    {
        string html = _renderer.LineChart(Banded(columns, shareX));

        var shapes = Regex.Matches(html, "\\{\"type\":\"rect\",\"layer\":\"below\",\"xref\":\"(x\\d*)\",\"yref\":\"(y\\d*) domain\",\"x0\":([0-9.]+),\"x1\":[0-9.]+,\"y0\":0,\"y1\":1,\"fillcolor\":\"(#[0-9a-f]+)\"");
        Assert.Equal(4, shapes.Count);
        for (int i = 0; i < 4; i++)
        {
            var trace = Regex.Match(html, $"\"name\":\"panel{i}\".*?\"xaxis\":\"(x\\d*)\",\"yaxis\":\"(y\\d*)\"");
            Assert.True(trace.Success, $"panel{i}'s trace has no axes in {html}");
            var band = shapes.Single(m => double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) == i + 0.25);
            Assert.Equal((trace.Groups[1].Value, trace.Groups[2].Value), (band.Groups[1].Value, band.Groups[2].Value));
        }
        // A band takes its group's colour; one without a group is grey.
        var color3 = Regex.Match(html, "\"name\":\"panel3\".*?\"color\":\"(#[0-9a-f]+)\"").Groups[1].Value;
        Assert.Equal(color3, shapes.Single(m => m.Groups[3].Value == "3.25").Groups[4].Value);
        Assert.Equal("#7f7f7f", shapes.Single(m => m.Groups[3].Value == "0.25").Groups[4].Value);
    }

    [Fact]
    public void A_band_on_no_panel_or_running_backwards_is_rejected()
    {
        var lost = Banded(1, true);
        lost.Bands = [new BandSpec { X0 = 1, X1 = 2, Panel = 4 }];
        var backwards = Banded(1, true);
        backwards.Bands = [new BandSpec { X0 = 2, X1 = 1 }];

        Assert.Contains("a band is on panel 4, but the chart has 4", Assert.Throws<ArgumentException>(() => _renderer.LineChart(lost)).Message);
        Assert.Contains("a band runs from 2 to 1", Assert.Throws<ArgumentException>(() => _renderer.LineChart(backwards)).Message);
    }

    [Fact]
    public void The_script_tag_carries_plotly_js_guarded_against_require_js()
    {
        string tag = _renderer.PlotlyScriptTag();

        Assert.Matches(@"^\d+\.\d+\.\d+$", _renderer.PlotlyJsVersion);
        Assert.StartsWith("<script", tag);
        Assert.EndsWith("</script>", tag);
        Assert.Contains("if (typeof window.Plotly === 'undefined')", tag);
        Assert.Contains("(function (define, exports, module) {", tag);
        Assert.Contains($"plotly.js v{_renderer.PlotlyJsVersion}", tag);
        Assert.True(tag.Length > 1_000_000, "the whole bundle, not a reference to it");
        Assert.Single(Regex.Matches(tag, "</script", RegexOptions.IgnoreCase));
    }
}
