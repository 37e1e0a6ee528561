using System.Text.RegularExpressions;
using GoSched.Interactive.Workbench;
using GoSched.Observability;
using HdrHistogram;

namespace GoSched.Interactive.Tests;

/// <summary>#!gosched plot timers on the fake runtime: the three charts, overlaid runs, and every refusal.</summary>
public class TimerPlotTests : KernelTestBase
{
    [Fact]
    public async Task One_run_draws_the_lateness_distribution_lateness_over_time_and_the_heaps()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2\n#!gosched run timers");
        string[] charts = Charts(await SucceedsAsync("#!gosched plot timers"));

        Assert.Equal(3, charts.Length);
        var (distribution, overTime, heaps) = (charts[0], charts[1], charts[2]);

        Assert.Contains("Timer lateness: lastRun: gosched timers gomaxprocs=2", distribution);
        foreach (string text in new[] { "\"text\":\"histogram (10 bins per decade)\"", "\"text\":\"CDF\"", "% of firings at most this late", "lateness: fired - due (ms)" })
            Assert.Contains(text, distribution);
        Assert.Equal(2, Regex.Matches(distribution, "\"type\":\"log\"").Count); // both panels' lateness axes
        Assert.Contains("\"shape\":\"hv\"", distribution); // the histogram's step outline

        Assert.Contains("solid: p99, dashed: p50", overTime);
        Assert.Contains("\"name\":\"p99\"", overTime);
        Assert.Contains("\"name\":\"p50\"", overTime);
        Assert.Contains("\"type\":\"log\"", overTime);

        foreach (string text in new[] { "\"text\":\"all Ps\"", "\"text\":\"P0\"", "\"text\":\"P1\"", "\"name\":\"timers on the heap\"", "\"name\":\"of which deleted\"", "\"dash\":\"dash\"" })
            Assert.Contains(text, heaps);
        Assert.Contains("[21.0,41.0,61.0,81.0,101.0]", heaps); // all Ps: 10(i+1) + 11(i+1) = 21(i+1)
        Assert.Contains("[11.0,21.0,31.0,41.0,51.0]", heaps); // P1: 10(i+1) + 1
        Assert.Contains("[0.0,2.0,4.0,6.0,8.0]", heaps);      // deleted, all Ps
    }

    [Fact]
    public async Task Pauses_are_shaded_on_both_timer_timelines()
    {
        // The heaps chart had none while the lateness-over-time chart beside it shaded them.
        await SucceedsAsync("#!gosched config --gomaxprocs 2\n#!gosched run timers --arg stw=1 --name paused\n#!gosched run timers --name quiet");
        string[] charts = Charts(await SucceedsAsync("#!gosched plot timers --runs paused"));
        var (overTime, heaps) = (charts[1], charts[2]);
        Assert.Equal([(30.0, 32.0), (70.0, 71.0)], BlockingPlotTests.Bands(overTime));
        Assert.Contains("(shaded: stop-the-world pauses)", heaps);
        var bands = BlockingPlotTests.Bands(heaps);
        Assert.Equal(6, bands.Length); // each pause on all Ps, P0 and P1
        Assert.Equal(3, bands.Count(b => b == (30, 32)));

        string quietHeaps = Charts(await SucceedsAsync("#!gosched plot timers --runs quiet"))[2];
        Assert.Empty(BlockingPlotTests.Bands(quietHeaps));
        Assert.DoesNotContain("shaded", quietHeaps);
    }

    [Fact]
    public async Task Two_runs_are_overlaid_on_every_chart_by_one_command()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 1\n#!gosched run timers --name one");
        await SucceedsAsync("#!gosched config --gomaxprocs 2 --timer-clear 0\n#!gosched run timers --name two --arg sleeps=300");

        string[] charts = Charts(await SucceedsAsync("#!gosched plot timers --runs one,two"));

        Assert.Equal(3, charts.Length);
        foreach (string chart in charts)
        {
            Assert.Contains("one: gosched timers gomaxprocs=1", chart);
            Assert.Contains("two: gosched timers gomaxprocs=2,timerclear=0", chart);
            Assert.Equal(2, LegendEntries(chart)); // one entry (and colour) per run
        }
        Assert.Contains("\"text\":\"P1\"", charts[2]); // the panels of the run with more Ps
    }

    [Fact]
    public async Task A_Recording_variable_and_a_kept_run_plot_together()
    {
        await SucceedsAsync("#!gosched run timers --name a");
        await SucceedsAsync("var mine = a;");

        Assert.Equal(3, Charts(await SucceedsAsync("#!gosched plot timers --runs a,mine")).Length);
    }

    [Fact]
    public async Task Without_samples_the_lateness_is_plotted_and_the_missing_heaps_explained()
    {
        await SucceedsAsync("#!gosched config --sample-period-us 0\n#!gosched run timers");
        var result = await SucceedsAsync("#!gosched plot timers");

        Assert.Equal(2, Charts(result).Length);
        Assert.Contains("was the sampler off?", Assert.Single(Displayed(result, Markdown)));
    }

    [Fact]
    public async Task A_run_without_timers_is_refused_naming_it_and_what_to_run()
    {
        await SucceedsAsync("#!gosched run fanout");

        string message = await FailsAsync("#!gosched plot timers");

        Assert.Equal("plot timers: no timer fired in 'lastRun' (fanout): run a workload whose goroutines sleep or use timers first: #!gosched run timers", message);
    }

    [Fact]
    public async Task The_runs_with_timers_are_plotted_and_those_without_named_in_one_note()
    {
        await SucceedsAsync("#!gosched run timers --name t\n#!gosched run pingpong --name p\n#!gosched run fanout --name f");

        var result = await SucceedsAsync("#!gosched plot timers --runs t,p,f");

        string[] charts = Charts(result);
        Assert.Equal(3, charts.Length);
        Assert.All(charts, c => Assert.Contains("t: gosched timers", c));
        Assert.All(charts, c => Assert.DoesNotContain("p: gosched pingpong", c));
        Assert.Equal("Left out of plot timers: no timer fired in 'p' (pingpong); no timer fired in 'f' (fanout).", Assert.Single(Displayed(result, Markdown)));
    }

    [Fact]
    public async Task A_Go_schedtrace_log_is_left_out_it_records_no_timer_lateness()
    {
        await SucceedsAsync("#!gosched run timers --name t");
        string capture = Path.Combine(AppContext.BaseDirectory, "captures", "fanout-gomaxprocs2-schedtrace.log");

        var result = await SucceedsAsync($"#!gosched plot timers --runs t --schedtrace {capture}");

        Assert.Equal(3, Charts(result).Length);
        Assert.Contains("is a Go schedtrace log, which records no timer lateness", Assert.Single(Displayed(result, Markdown)));
        Assert.Contains("is a Go schedtrace log, which records no timer lateness", await FailsAsync($"#!gosched plot timers --schedtrace {capture}"));
    }

    [Fact]
    public async Task Nothing_to_plot_and_unknown_runs_fail_as_for_the_other_kinds()
    {
        Assert.Contains("nothing to plot yet", await FailsAsync("#!gosched plot timers"));
        Assert.Contains("no run or Recording variable named 'ghost'", await FailsAsync("#!gosched plot timers --runs ghost"));
    }

    [Fact]
    public async Task The_summary_of_a_run_that_fired_timers_shows_the_timer_figures()
    {
        string summary = Assert.Single(Displayed(await SucceedsAsync("#!gosched run timers"), Html));

        foreach (string cell in new[] { "TimersFired", "LatenessP50Ms", "LatenessP99Ms", "LatenessMaxMs", "DeletedTimersCleared", ">1000<", ">7<" })
            Assert.Contains(cell, summary);
        // Firing k is (k + 1) x 20 µs late: p50 10 ms, p99 19.8 ms, max 20 ms (HdrHistogram's 3 digits).
        Assert.Matches(@">10(\.0\d*)?<", summary);
        Assert.Matches(@">19\.8\d*<", summary);
        Assert.Matches(@">20(\.0\d*)?<", summary);
    }

    [Fact]
    public async Task A_run_without_timers_keeps_the_short_summary_and_status_mixes_both()
    {
        string fanout = Assert.Single(Displayed(await SucceedsAsync("#!gosched run fanout --name f"), Html));
        Assert.DoesNotContain("TimersFired", fanout);

        await SucceedsAsync("#!gosched run timers --name t");
        string table = Displayed(await SucceedsAsync("#!gosched status"), Html)[1];
        Assert.Contains("TimersFired", table);
        Assert.Contains(">f<", table);
        Assert.Contains(">t<", table);
    }
}

/// <summary>The timer charts' numbers, from HdrHistogram's own iterations.</summary>
public class TimerChartsTests
{
    private static LongHistogram Uniform(int n, long stepNs)
    {
        var h = new LongHistogram(1, 100_000_000_000, 3);
        for (int k = 1; k <= n; k++) h.RecordValue(k * stepNs);
        return h;
    }

    [Fact]
    public void The_histogram_is_a_closed_step_outline_of_log_bins_summing_to_100_percent()
    {
        var (x, y) = LatencyCharts.LogBinned(Uniform(1000, 20_000)); // 0.02 .. 20 ms

        Assert.Equal(0, y[0]);
        Assert.Equal(0, y[^1]);
        Assert.Equal(100, y.Sum(), 6);
        Assert.True(x.Zip(x.Skip(1)).All(p => p.First <= p.Second), "edges ascend");
        // Consecutive edges are a tenth of a decade apart; the bins cover 0.02 ms to 20 ms.
        Assert.Equal(Math.Pow(10, 0.1), x[2] / x[1], 6);
        Assert.InRange(x[1], 0.0125, 0.02);
        Assert.InRange(x[^1], 20, 20 * Math.Pow(10, 0.1));
        // Uniform in value, so the last full decade (2 .. 20 ms) holds about 90%.
        double top = x.Zip(y).Where(p => p.First >= 1.99).Sum(p => p.Second);
        Assert.InRange(top, 88, 92);
    }

    [Fact]
    public void The_CDF_rises_to_100_percent_at_the_largest_value()
    {
        var (x, y) = LatencyCharts.Cdf(Uniform(1000, 20_000));

        Assert.True(x.Zip(x.Skip(1)).All(p => p.First < p.Second), "values ascend");
        Assert.True(y.Zip(y.Skip(1)).All(p => p.First <= p.Second), "shares never fall");
        Assert.Equal(100, y[^1], 9);
        Assert.Equal(20, x[^1], 1);
        int median = Array.FindIndex(y, v => v >= 50);
        Assert.Equal(10, x[median], 0);
    }

    [Fact]
    public void Lateness_over_time_gives_each_bins_percentiles()
    {
        // 1000 firings over 100 ms; the first half 1 ms late, the second half 4 ms late.
        var firings = Enumerable.Range(0, 1000)
            .Select(k => new TimerFiring(k * 100_000L, k % 2, k < 500 ? 1_000_000 : 4_000_000))
            .Reverse() // the recording's firings are per P, not in time order
            .ToArray();

        var (t, p50, p99) = TimerCharts.BinnedOverTime(firings);

        Assert.Equal(20, t.Length); // 50 firings per bin
        Assert.True(t.Zip(t.Skip(1)).All(p => p.First < p.Second));
        Assert.All(p50.Take(10), v => Assert.Equal(1, v, 2));
        Assert.All(p99.Skip(10), v => Assert.Equal(4, v, 2));
        Assert.Empty(TimerCharts.BinnedOverTime([]).T);
    }
}

/// <summary>plot timers on the real runtime: a small timers run, then its three charts.</summary>
public sealed class TimerPlotOnTheRuntimeTests : KernelTestBase
{
    private protected override IGoSchedBackend UseBackend() => new RuntimeBackend();

    [Fact]
    public async Task A_timers_run_and_a_churn_run_without_the_quarter_rule_plot_together()
    {
        string summary = Displayed(await SucceedsAsync(
            "#!gosched config --gomaxprocs 2 --sample-period-us 200\n#!gosched run timers --arg goroutines=20,sleeps=5,min=1ms,max=3ms --name sleepers"), Html).Last();
        Assert.Contains(">100<", summary); // 20 goroutines x 5 sleeps fired
        await SucceedsAsync("#!gosched config --timer-clear 0\n#!gosched run timer-churn --arg goroutines=4,rounds=2,resets=20,timeout=2ms --name churn");
        var churn = await ValueAsync<Recording>("churn");
        Assert.Contains("timerclear=0", churn.Settings);
        Assert.Equal(0, churn.ClearedDeletedTimers);

        string[] charts = Charts(await SucceedsAsync("#!gosched plot timers --runs sleepers,churn"));

        Assert.Equal(3, charts.Length);
        Assert.All(charts, c => Assert.Contains("churn: gosched timer-churn gomaxprocs=2,sampleperiodus=200,timerclear=0", c));
        Assert.Contains("sleepers: gosched timers", charts[2]);
    }
}

/// <summary>Stop-the-world pauses on the timer lateness timeline, as on the other timelines.</summary>
public class TimerPauseBandTests
{
    [Fact]
    public void Lateness_over_time_shades_each_pause_of_each_run()
    {
        var rec = new Recording("gosched", "stw", "gomaxprocs=2");
        typeof(Recording).GetProperty(nameof(Recording.TimerFirings))!.GetSetMethod(nonPublic: true)!
            .Invoke(rec, [new[] { new TimerFiring(5_000_000, 0, 1_000_000), new TimerFiring(25_000_000, 1, 9_000_000) }]);
        var addPause = typeof(Recording).GetMethod("AddPause", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;
        addPause.Invoke(rec, [new StwPause(10_000_000, 50_000, 500_000, "pause", 2, 2)]);
        addPause.Invoke(rec, [new StwPause(20_000_000, 50_000, 600_000, "pause", 2, 2)]);

        var chart = GoSched.Interactive.Workbench.TimerCharts.LatenessOverTime([new GoSched.Interactive.Workbench.NamedRecording("stw", rec)]);

        Assert.EndsWith("(shaded: stop-the-world pauses)", chart.Title);
        Assert.Equal([(10.0, 10.5), (20.0, 20.6)], chart.Bands.Select(b => (b.X0, b.X1)).ToArray());
        Assert.All(chart.Bands, b => Assert.Equal(0, b.Panel));
    }
}
