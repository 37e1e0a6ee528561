using System.Text.RegularExpressions;
using GoSched.Interactive.Workbench;
using GoSched.Observability;

namespace GoSched.Interactive.Tests;

/// <summary>#!gosched plot netpoll and plot syscalls on the fake runtime, pauses shaded on the timelines, and every refusal.</summary>
public class BlockingPlotTests : KernelTestBase
{
    /// <summary>The shaded bands of a chart, as (x0, x1) in ms.</summary>
    internal static (double X0, double X1)[] Bands(string chart) =>
        Regex.Matches(chart, "\"type\":\"rect\",\"layer\":\"below\",\"xref\":\"x\\d*\",\"yref\":\"y\\d* domain\",\"x0\":([0-9.]+),\"x1\":([0-9.]+)")
            .Select(m => (double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)))
            .ToArray();

    private const string Shaded = "(shaded: stop-the-world pauses)";

    [Fact]
    public async Task Netpoll_draws_the_wake_latency_distribution_and_polls_over_time_with_the_pauses()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2\n#!gosched run netecho");
        string[] charts = Charts(await SucceedsAsync("#!gosched plot netpoll"));

        Assert.Equal(2, charts.Length);
        var (latency, polls) = (charts[0], charts[1]);

        Assert.Contains("Netpoll wake latency (poll returned the goroutine → it runs): lastRun: gosched netecho gomaxprocs=2", latency);
        foreach (string text in new[] { "\"text\":\"histogram (10 bins per decade)\"", "\"text\":\"CDF\"", "% of wakes at most this late", "wake latency (ms)" })
            Assert.Contains(text, latency);
        Assert.Equal(2, Regex.Matches(latency, "\"type\":\"log\"").Count);
        Assert.Empty(Bands(latency)); // not a timeline

        Assert.Contains($"Netpoll over time: lastRun: gosched netecho gomaxprocs=2 {Shaded}", polls);
        foreach (string panel in new[] { "netpoll calls per ms", "blocking polls per ms (an M slept in epoll)", "goroutines readied per ms" })
            Assert.Contains($"\"text\":\"{panel}\"", polls);
        // Samples 25 ms apart seeing 100, 10 and 50 more each time: 4, 0.4 and 2 per ms.
        Assert.Contains("[4.0,4.0,4.0,4.0,4.0]", polls);
        Assert.Contains("[0.4,0.4,0.4,0.4,0.4]", polls);
        Assert.Contains("[2.0,2.0,2.0,2.0,2.0]", polls);
        // Each pause on each of the three panels, from its request until the world started again.
        var bands = Bands(polls);
        Assert.Equal(6, bands.Length);
        Assert.Equal(3, bands.Count(b => b == (30, 32)));
        Assert.Equal(3, bands.Count(b => b == (70, 71)));
    }

    [Fact]
    public async Task Two_netecho_runs_are_overlaid_one_colour_each()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 1\n#!gosched run netecho --name one");
        await SucceedsAsync("#!gosched config --gomaxprocs 4\n#!gosched run netecho --name four --arg wakes=2000");

        string[] charts = Charts(await SucceedsAsync("#!gosched plot netpoll --runs one,four"));

        Assert.Equal(2, charts.Length);
        foreach (string chart in charts)
        {
            Assert.Contains("one: gosched netecho gomaxprocs=1", chart);
            Assert.Contains("four: gosched netecho gomaxprocs=4", chart);
            Assert.Equal(2, LegendEntries(chart));
        }
        Assert.Equal(12, Bands(charts[1]).Length); // both runs' pauses, in their colours
    }

    [Fact]
    public async Task Netpoll_without_samples_plots_the_latency_and_explains_the_missing_timeline()
    {
        await SucceedsAsync("#!gosched config --sample-period-us 0\n#!gosched run netecho");
        var result = await SucceedsAsync("#!gosched plot netpoll");

        Assert.Single(Charts(result));
        Assert.Contains("No polls over time to plot", Assert.Single(Displayed(result, Markdown)));
    }

    [Fact]
    public async Task Runs_without_netpoll_wakes_are_left_out_or_refused_naming_them_and_what_to_run()
    {
        await SucceedsAsync("#!gosched run netecho --name n\n#!gosched run fanout --name f\n#!gosched run timers --name t");

        var result = await SucceedsAsync("#!gosched plot netpoll --runs n,f,t");
        Assert.NotEmpty(Charts(result));
        Assert.Contains("Left out of plot netpoll: no goroutine was woken by netpoll in 'f' (fanout); no goroutine was woken by netpoll in 't' (timers).", Displayed(result, Markdown));
        Assert.Equal(
            "plot netpoll: no goroutine was woken by netpoll in 'f' (fanout); no goroutine was woken by netpoll in 't' (timers): " +
            "run a workload whose goroutines wait on the network first: #!gosched run netecho",
            await FailsAsync("#!gosched plot netpoll --runs f,t"));
    }

    [Fact]
    public async Task A_Go_schedtrace_log_is_left_out_or_refused_by_netpoll_and_syscalls()
    {
        await SucceedsAsync("#!gosched run netecho --name n");
        string capture = Path.Combine(AppContext.BaseDirectory, "captures", "fanout-gomaxprocs2-schedtrace.log");

        Assert.Contains(Displayed(await SucceedsAsync($"#!gosched plot netpoll --runs n --schedtrace {capture}"), Markdown),
            m => m.Contains("is a Go schedtrace log, which records no netpoll wake latency"));
        Assert.Contains("is a Go schedtrace log, which records no netpoll wake latency", await FailsAsync($"#!gosched plot netpoll --schedtrace {capture}"));
        Assert.Contains("is a Go schedtrace log, which records no system calls", await FailsAsync($"#!gosched plot syscalls --schedtrace {capture}"));
    }

    [Fact]
    public async Task Syscalls_draws_hand_offs_and_Ms_by_state_over_time_with_the_pauses()
    {
        await SucceedsAsync("#!gosched run syscall-block");
        string[] charts = Charts(await SucceedsAsync("#!gosched plot syscalls"));

        Assert.Equal(2, charts.Length);
        var (handoffs, machines) = (charts[0], charts[1]);

        Assert.Contains("System calls and P hand-offs (so far): lastRun: gosched syscall-block gomaxprocs=", handoffs);
        Assert.Contains(Shaded, handoffs);
        foreach (string panel in new[] { "system calls (Go.Syscall, Go.SyscallBlock)", "Ps handed off at once (Go.SyscallBlock: entersyscallblock)", "Ps retaken by sysmon from system calls (retake)" })
            Assert.Contains($"\"text\":\"{panel}\"", handoffs);
        Assert.Contains("[0.0,10.0,20.0,30.0,40.0]", handoffs); // system calls so far
        Assert.Contains("[0.0,3.0,6.0,9.0,12.0]", handoffs);    // sysmon's retakes so far (handoff=0)
        Assert.Equal(6, Bands(handoffs).Length);

        Assert.Contains($"Ms by state: lastRun: gosched syscall-block", machines);
        Assert.Contains(Shaded, machines);
        foreach (string state in new[] { "running a goroutine", "in a system call", "spinning", "idle", "idle, locked to a goroutine", "blocked in netpoll", "Ms created (threads)" })
            Assert.Contains($"\"name\":\"{state}\"", machines);
        Assert.Contains("[0.0,1.0,2.0,0.0,1.0]", machines); // in a system call: i % 3
        Assert.Contains("\"dash\":\"dash\"", machines);     // the threads created
        Assert.Equal([(30.0, 32.0), (70.0, 71.0)], Bands(machines));
    }

    [Fact]
    public async Task Two_syscall_runs_share_the_hand_off_panels_and_get_an_Ms_panel_each()
    {
        await SucceedsAsync("#!gosched run syscall-block --name retaken\n#!gosched run syscall-block --name blocked --arg handoff=1");

        string[] charts = Charts(await SucceedsAsync("#!gosched plot syscalls --runs retaken,blocked"));

        Assert.Equal(2, charts.Length);
        Assert.Equal(2, LegendEntries(charts[0]));                  // a colour per run
        Assert.Contains("[0.0,10.0,20.0,30.0,40.0]", charts[0]);    // blocked: every call handed off at once
        Assert.Contains("\"text\":\"retaken: gosched syscall-block", charts[1]);
        Assert.Contains("\"text\":\"blocked: gosched syscall-block", charts[1]);
        Assert.Equal(7, LegendEntries(charts[1]));                  // a colour per state, not per run
        Assert.Equal(4, Bands(charts[1]).Length);                   // each run's pauses on its own panel
    }

    [Fact]
    public async Task A_run_without_system_calls_or_samples_is_refused_naming_it_and_what_to_run()
    {
        await SucceedsAsync("#!gosched run fanout");
        Assert.Equal(
            "plot syscalls: no system call in 'lastRun' (fanout): run a workload whose goroutines make blocking system calls first: #!gosched run syscall-block",
            await FailsAsync("#!gosched plot syscalls"));

        await SucceedsAsync("#!gosched config --sample-period-us 0\n#!gosched run syscall-block --name quiet");
        Assert.Equal(
            "plot syscalls: no samples in quiet (was the sampler off? #!gosched config --sample-period-us 1000)",
            await FailsAsync("#!gosched plot syscalls --runs quiet"));
    }

    [Fact]
    public async Task Nothing_to_plot_and_unknown_runs_fail_for_netpoll_and_syscalls()
    {
        foreach (string kind in new[] { "netpoll", "syscalls" })
        {
            Assert.Contains("nothing to plot yet", await FailsAsync($"#!gosched plot {kind}"));
            Assert.Contains("no run or Recording variable named 'ghost'", await FailsAsync($"#!gosched plot {kind} --runs ghost"));
            Assert.Contains("unknown option", await FailsAsync($"#!gosched plot {kind} --bins 10"), StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Pauses_are_shaded_on_the_run_queue_chart_and_absent_without_pauses()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2\n#!gosched run netecho --name n\n#!gosched run fanout --name f");

        string one = Charts(await SucceedsAsync("#!gosched plot runq --runs n")).Single();
        Assert.Contains(Shaded, one);
        Assert.Equal(6, Bands(one).Length); // P0, P1 and the global queue

        string apart = Charts(await SucceedsAsync("#!gosched plot runq --runs n,f")).Single();
        Assert.Equal([(30.0, 32.0), (70.0, 71.0)], Bands(apart)); // on n's panel only

        string none = Charts(await SucceedsAsync("#!gosched plot runq --runs f")).Single();
        Assert.DoesNotContain(Shaded, none);
        Assert.Empty(Bands(none));
    }

    [Fact]
    public async Task Help_lists_the_new_kinds()
    {
        string help = Assert.Single(Displayed(await SucceedsAsync("#!gosched help"), Markdown));

        Assert.Contains("`netpoll` (netpoll wake latency", help);
        Assert.Contains("`syscalls` (system calls, immediate P hand-offs and sysmon's retakes", help);
        Assert.Contains("stop-the-world pauses are shaded", help);
    }
}

/// <summary>The rates over time, from cumulative counters.</summary>
public class BlockingChartsTests
{
    private static SchedSample At(long ns) => new(ns, 1, 0, 1, 0, 0, 0, [0], null, null);

    [Fact]
    public void A_cumulative_counter_becomes_a_rate_per_ms_holding_over_each_interval()
    {
        var samples = new[] { At(0), At(2_000_000), At(3_000_000), At(3_000_000) };

        var (t, rate) = BlockingCharts.PerMs(samples, [0, 10, 40, 40]);

        Assert.Equal([0.0, 2.0, 3.0, 3.0], t);
        Assert.Equal([5.0, 30.0, 0.0, 0.0], rate); // a zero-length interval counts 0, not infinity
        Assert.Empty(BlockingCharts.PerMs([At(0)], [5]).T);
    }
}

/// <summary>plot netpoll, plot syscalls and shaded pauses on the real runtime: small runs, then their charts.</summary>
public sealed class BlockingPlotOnTheRuntimeTests : KernelTestBase
{
    private protected override IGoSchedBackend UseBackend() => new RuntimeBackend();

    [Fact]
    public async Task Netecho_syscall_block_and_stw_runs_plot_their_netpoll_syscalls_and_pauses()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2 --sample-period-us 200\n#!gosched run netecho --arg pairs=4,rounds=100 --name echo");
        await SucceedsAsync("#!gosched run syscall-block --arg blockers=2,calls=4,block=2ms,work=2ms,handoff=1 --name blocked");
        await SucceedsAsync("#!gosched run stw --arg duration=40ms,sleepers=10,period=10ms,pause=300us --name paused");

        var echo = await ValueAsync<Recording>("echo");
        Assert.Equal(echo.Netpoll!.Readied, echo.NetpollWakeLatency!.TotalCount);
        Assert.Equal(8, (await ValueAsync<Recording>("blocked")).Syscalls!.BlockHandoffs);

        string[] netpoll = Charts(await SucceedsAsync("#!gosched plot netpoll --runs echo"));
        Assert.Equal(2, netpoll.Length);
        Assert.Contains("Netpoll wake latency (poll returned the goroutine → it runs): echo: gosched netecho gomaxprocs=2,sampleperiodus=200", netpoll[0]);

        string[] syscalls = Charts(await SucceedsAsync("#!gosched plot syscalls --runs blocked"));
        Assert.Equal(2, syscalls.Length);

        var paused = await ValueAsync<Recording>("paused");
        Assert.NotEmpty(paused.Pauses);
        string runq = Charts(await SucceedsAsync("#!gosched plot runq --runs paused")).Single();
        Assert.Equal(paused.Pauses.Count * 3, BlockingPlotTests.Bands(runq).Length); // P0, P1 and the global queue
    }
}
