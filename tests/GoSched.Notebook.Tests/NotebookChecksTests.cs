using System.Text.Json;
using System.Text.Json.Nodes;

namespace GoSched.Notebook.Tests;

/// <summary>The checks on executed notebooks, on notebooks made here: they must catch each failure.</summary>
public class NotebookChecksTests
{
    const string InlinePlotly = "<script type=\"text/javascript\">/**\n* plotly.js v2.28.0\n*/ window.Plotly = {};</script>";
    const string Chart = "<div id=\"c1\"></div><script type=\"text/javascript\">Plotly.newPlot('c1', [], {});</script>";

    static JsonNode Cell(string source, params JsonNode[] outputs) => new JsonObject
    {
        ["cell_type"] = "code",
        ["execution_count"] = 1,
        ["metadata"] = new JsonObject(),
        ["source"] = new JsonArray(source.Split('\n').Select(l => (JsonNode)JsonValue.Create(l + "\n")!).ToArray()),
        ["outputs"] = new JsonArray(outputs),
    };

    static JsonNode Display(string mime, string text) => new JsonObject
    {
        ["output_type"] = "display_data",
        ["metadata"] = new JsonObject(),
        ["data"] = new JsonObject { [mime] = new JsonArray(text.Split('\n').Select(l => (JsonNode)JsonValue.Create(l)!).ToArray()) },
    };

    static JsonNode Stream(string text) => new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = text };

    static IReadOnlyList<string> Check(params JsonNode[] cells) => CheckRun(null, cells);

    static IReadOnlyList<string> CheckRun(JsonObject? run, params JsonNode[] cells)
    {
        var notebook = new JsonObject
        {
            ["cells"] = new JsonArray(cells.Prepend(new JsonObject { ["cell_type"] = "markdown", ["metadata"] = new JsonObject(), ["source"] = "# t" }).ToArray()),
            ["metadata"] = run is null ? new JsonObject() : new JsonObject { ["gosched_run"] = run },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        using var doc = JsonDocument.Parse(notebook.ToJsonString());
        return NotebookChecks.Problems(doc);
    }

    [Fact]
    public void A_clean_notebook_with_an_offline_chart_passes()
    {
        Assert.Empty(Check(
            Cell("#r \"nuget: GoSched.Interactive, 0.1.0\"", Display("text/plain", "Loaded")),
            Cell("#!gosched plot runq", Display("text/html", InlinePlotly + Chart)),
            Cell("#!gosched plot runq --run 2", Display("text/html", Chart)),
            Cell("Console.WriteLine(1);", Stream("1\n"))));
    }

    [Fact]
    public void An_error_output_is_reported_with_its_cell()
    {
        var error = new JsonObject { ["output_type"] = "error", ["ename"] = "Error", ["evalue"] = "(1,1): error CS0103", ["traceback"] = new JsonArray() };
        var problem = Assert.Single(Check(Cell("x", error)));
        Assert.StartsWith("cell 2 (x): error output: Error: (1,1): error CS0103", problem);
    }

    [Theory]
    [InlineData("text/plain", "System.InvalidOperationException: boom")]
    [InlineData("text/plain", "gosched: error: unknown option --foo")]
    [InlineData("text/html", "<div>Error: bad value for --gomaxprocs</div>")]
    [InlineData("text/markdown", "Unhandled Exception")]
    public void Exception_or_error_text_in_an_output_is_reported(string mime, string text)
    {
        Assert.Single(Check(Cell("#!gosched run fanout", Display(mime, text))));
    }

    [Fact]
    public void Exception_or_error_text_in_a_stream_is_reported()
    {
        Assert.Equal(2, Check(Cell("go()", Stream("NullReferenceException\nerror: x\n"))).Count);
    }

    [Fact]
    public void Words_inside_scripts_and_styles_do_not_count()
    {
        Assert.Empty(Check(Cell("show()", Display("text/html",
            "<style>.error: {}</style><div>ok</div><script>try {} catch (e) { throw new Exception('error: x'); }</script>"))));
    }

    [Fact]
    public void A_plot_cell_without_a_chart_is_reported()
    {
        var problems = Check(Cell("#!gosched plot runq", Display("text/plain", "no recording yet")));
        Assert.Contains(problems, p => p.Contains("no Plotly chart", StringComparison.Ordinal));
    }

    [Fact]
    public void A_chart_without_an_earlier_inline_plotly_js_is_reported()
    {
        var problems = Check(
            Cell("#!gosched plot runq", Display("text/html", Chart)),
            Cell("#!gosched plot runq", Display("text/html", InlinePlotly + Chart)));
        Assert.Contains(problems, p => p.StartsWith("cell 2:", StringComparison.Ordinal) && p.Contains("inline copy of plotly.js", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("<script src=\"https://cdn.plot.ly/plotly-2.28.0.min.js\"></script>")]
    [InlineData("<script type='text/javascript' src='//example.invalid/plotly.js'></script>")]
    [InlineData("<script>require.config({paths: {plotly: 'https://cdn.plot.ly/plotly-2.28.0.min'}});</script>")]
    public void A_chart_that_loads_plotly_from_the_network_is_reported(string reference)
    {
        var problems = Check(Cell("#!gosched plot runq", Display("text/html", InlinePlotly + reference + Chart)));
        Assert.NotEmpty(problems);
        Assert.All(problems, p => Assert.Contains("network", p.Replace("CDN", "network"), StringComparison.Ordinal));
    }

    [Fact]
    public void The_CDN_address_inside_plotly_js_itself_does_not_count()
    {
        var bundle = "<script type=\"text/javascript\">/**\n* plotly.js v2.28.0\n*/ var c = {topojsonURL:{dflt:\"https://cdn.plot.ly/\"}};</script>";
        Assert.Empty(Check(Cell("#!gosched plot runq", Display("text/html", bundle + Chart))));
    }

    [Fact]
    public void A_cell_that_never_ran_is_reported()
    {
        var cell = Cell("1 + 1");
        cell["execution_count"] = null;
        Assert.Contains("was not executed", Assert.Single(Check(cell)));
    }

    [Fact]
    public void The_plot_command_is_recognised_only_as_a_plot_subcommand()
    {
        Assert.Empty(Check(
            Cell("#!gosched run fanout --gomaxprocs 2", Display("text/plain", "ran")),
            Cell("// #!gosched plot is described below\n1", Display("text/plain", "1"))));
    }

    [Fact]
    public void A_run_that_stopped_is_reported_once_with_where_and_why()
    {
        var run = new JsonObject { ["completed"] = false, ["stopped_at_cell"] = 1, ["error"] = "CellTimeoutError: A cell timed out" };
        var hung = Cell("#r \"nuget: GoSched.Interactive, 0.1.0\"", Stream("Failed to load kernel extension \"GoSchedKernelExtension\" from assembly x.dll"));
        hung["execution_count"] = null;
        var after = Cell("#!gosched help");
        after["execution_count"] = null;
        var problems = CheckRun(run, hung, after);
        Assert.Equal(2, problems.Count);
        Assert.Equal("the run stopped at cell 2: CellTimeoutError: A cell timed out", problems[0]);
        Assert.Contains("could not load an extension", problems[1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_completed_run_adds_no_problem()
    {
        Assert.Empty(CheckRun(new JsonObject { ["completed"] = true, ["seconds"] = 4.2 }, Cell("1", Display("text/plain", "1"))));
    }
}
