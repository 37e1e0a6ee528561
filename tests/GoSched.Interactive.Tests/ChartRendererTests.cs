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
