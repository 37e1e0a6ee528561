using System.Text.RegularExpressions;

namespace GoSched.Interactive.Tests;

public class StatusTests : KernelTestBase
{
    [Fact]
    public async Task Status_before_any_run_shows_the_knobs()
    {
        var result = await SucceedsAsync("#!gosched status");

        Assert.Contains("no run yet", Assert.Single(Displayed(result, Markdown)));
        Assert.Contains("globalrunqcheck", Assert.Single(Displayed(result, Html)));
    }

    [Fact]
    public async Task Status_shows_the_config_the_last_run_and_every_kept_run()
    {
        await SucceedsAsync("#!gosched run fanout --name a\n#!gosched config --steal-tries 0\n#!gosched run pingpong --name b");
        var result = await SucceedsAsync("#!gosched status");

        string text = Assert.Single(Displayed(result, Markdown));
        Assert.Contains("stealtries=0", text);
        Assert.Contains("**last run** `b` (pingpong)", text);
        string[] tables = Displayed(result, Html);
        Assert.Equal(2, tables.Length);
        Assert.Contains("fanout", tables[1]);
        Assert.Contains("pingpong", tables[1]);
    }
}

public class PlotTests : KernelTestBase
{
    private const string ScriptMarker = "data-gosched-plotly=";

    private static string Chart(Microsoft.DotNet.Interactive.KernelCommandResult result) => Assert.Single(Displayed(result, Html));

    [Fact]
    public async Task Runq_of_the_last_run_draws_a_panel_per_P_and_the_global_queue()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2\n#!gosched run fanout");
        string chart = Chart(await SucceedsAsync("#!gosched plot runq"));

        Assert.Contains("Plotly.newPlot(", chart);
        foreach (string title in new[] { "\"text\":\"P0\"", "\"text\":\"P1\"", "\"text\":\"global queue\"" })
            Assert.Contains(title, chart);
        Assert.Contains("\"shape\":\"hv\"", chart);
        Assert.Contains("[8.0,6.0,4.0,2.0,0.0]", chart); // P0's depth over the fake's five samples
    }

    [Fact]
    public async Task Plotly_js_goes_out_once_per_kernel_session_before_the_first_chart()
    {
        await SucceedsAsync("#!gosched run fanout");
        string first = Chart(await SucceedsAsync("#!gosched plot runq"));
        string second = Chart(await SucceedsAsync("#!gosched plot counters"));

        Assert.StartsWith("<script", first);
        Assert.Contains(ScriptMarker, first);
        Assert.True(first.IndexOf(ScriptMarker, StringComparison.Ordinal) < first.IndexOf("Plotly.newPlot(", StringComparison.Ordinal));
        Assert.DoesNotContain(ScriptMarker, second);
        // (The bundle itself names a CDN as a default of an option the charts do not use.)
        string charts = first[(first.IndexOf("</script>", StringComparison.Ordinal) + 9)..] + second;
        Assert.DoesNotContain("cdn", charts, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<script src", first + second);
    }

    [Fact]
    public async Task Several_runs_side_by_side_or_overlaid()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 1\n#!gosched run fanout --name one\n#!gosched config --gomaxprocs 2\n#!gosched run fanout --name two");

        string sideBySide = Chart(await SucceedsAsync("#!gosched plot runq --runs one,two"));
        Assert.Contains("one: gosched fanout gomaxprocs=1", sideBySide.Replace("go fanout", "gosched fanout"));
        Assert.Contains("two:", sideBySide);
        Assert.Contains("\"dash\":\"dash\"", sideBySide);

        string overlaid = Chart(await SucceedsAsync("#!gosched plot runq --runs one,two --overlay"));
        Assert.Contains("\"text\":\"P1\"", overlaid);
        Assert.Equal(2, Regex.Matches(overlaid, "\"showlegend\":true").Count);
    }

    [Fact]
    public async Task A_real_Go_schedtrace_capture_is_plotted_beside_a_run()
    {
        await SucceedsAsync("#!gosched run fanout --name ours");
        string capture = Path.Combine(AppContext.BaseDirectory, "captures", "fanout-gomaxprocs2-schedtrace.log");

        string chart = Chart(await SucceedsAsync($"#!gosched plot runq --runs ours --schedtrace \"{capture}\""));

        Assert.Contains("fanout-gomaxprocs2-schedtrace", chart);
        Assert.Contains("ours:", chart);
    }

    [Fact]
    public async Task A_Recording_in_a_CSharp_variable_can_be_plotted_by_name()
    {
        await SucceedsAsync("#!gosched run pingpong");
        await SucceedsAsync("var mine = lastRun;");

        Assert.Contains("Plotly.newPlot(", Chart(await SucceedsAsync("#!gosched plot runq --runs mine")));
    }

    [Fact]
    public async Task Counters_are_bars_per_P_a_panel_per_counter()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2\n#!gosched run fanout --name a\n#!gosched run pingpong --name b");
        string chart = Chart(await SucceedsAsync("#!gosched plot counters --runs a,b"));

        Assert.Equal(12, Regex.Matches(chart, "\"type\":\"bar\"").Count - Regex.Matches(chart, "\"bar\":\\[").Count);
        foreach (string title in new[] { "schedticks", "steal operations", "goroutines stolen", "runnext hits", "global-queue takes", "parks" })
            Assert.Contains($"\"text\":\"{title}\"", chart);
    }

    [Theory]
    [InlineData("#!gosched plot", "what to plot? (runq, counters, timers, netpoll, syscalls)")]
    [InlineData("#!gosched plot latency", "unknown kind 'latency'; kinds: runq, counters, timers, netpoll, syscalls")]
    [InlineData("#!gosched plot runq", "nothing to plot yet")]
    [InlineData("#!gosched plot runq --runs ghost", "no run or Recording variable named 'ghost' (runs: none yet)")]
    [InlineData("#!gosched plot runq --schedtrace /no/such.log", "--schedtrace: no such file: /no/such.log")]
    public async Task Bad_plots_fail_with_what_is_valid(string code, string message)
    {
        Assert.Contains(message, await FailsAsync(code));
    }

    [Fact]
    public async Task Counters_of_a_Go_capture_alone_are_refused()
    {
        string capture = Path.Combine(AppContext.BaseDirectory, "captures", "fanout-gomaxprocs2-schedtrace.log");

        Assert.Contains("carry no per-P counters", await FailsAsync($"#!gosched plot counters --schedtrace {capture}"));
    }

    [Fact]
    public async Task A_malformed_capture_fails_with_the_parsers_message()
    {
        string bad = Path.Combine(Path.GetTempPath(), $"gosched-bad-{Guid.NewGuid():N}.log");
        await File.WriteAllTextAsync(bad, "SCHED 0ms: gomaxprocs=x\n");
        try
        {
            Assert.Contains("gomaxprocs", await FailsAsync($"#!gosched plot runq --schedtrace {bad}"));
        }
        finally
        {
            File.Delete(bad);
        }
    }
}
