using GoSched.Interactive.Workbench;
using GoSched.Observability;

namespace GoSched.Interactive.Tests;

/// <summary>#!gosched's grammar: help, and every way a line can be wrong.</summary>
public class DirectiveTests : KernelTestBase
{
    [Theory]
    [InlineData("#!gosched help")]
    [InlineData("#!gosched")]
    public async Task Help_lists_subcommands_options_and_workloads(string code)
    {
        var result = await SucceedsAsync(code);

        string help = Assert.Single(Displayed(result, Markdown));
        foreach (string expected in new[] { "#!gosched config", "#!gosched run <workload>", "#!gosched status", "#!gosched plot <kind>",
                     "--gomaxprocs", "--steal-tries", "--runq-size", "--global-runq-check", "--runnext", "--randomize", "--seed",
                     "--sample-period-us", "--timer-clear", "--timer-clear-ratio", "--godebug", "`timers`", "--arg", "--runs", "--schedtrace", "`fanout`", "`workers=8`", "`pingpong`", "lastRun" })
            Assert.Contains(expected, help);
    }

    [Theory]
    [InlineData("#!gosched frob", "unknown subcommand 'frob'; valid subcommands: help, config, run, status, plot")]
    [InlineData("#!gosched frob --x 1", "Unrecognized parameter name '--x'")] // the host rejects this one itself
    [InlineData("#!gosched config --bogus 3", "#!gosched config: unknown option '--bogus'; valid options: --gomaxprocs, --steal-tries")]
    [InlineData("#!gosched config --gomaxprocs", "option '--gomaxprocs' needs a value")]
    [InlineData("#!gosched config --gomaxprocs 2 --gomaxprocs 3", "option '--gomaxprocs' is given more than once")]
    [InlineData("#!gosched config 4", "#!gosched config: unexpected '4'")]
    [InlineData("#!gosched status --verbose", "#!gosched status: unknown option '--verbose'; valid options: --wait")]
    // A knob on a run line, as `gosched run` takes it: the list of run's options did not say where it goes.
    [InlineData("#!gosched run fanout --gomaxprocs 0", "#!gosched run: unknown option '--gomaxprocs'; valid options: --arg, --name, --background. " +
        "GOMAXPROCS and the other knobs are set before the run, with `#!gosched config --gomaxprocs N`")]
    [InlineData("#!gosched run fanout --steal-tries 0", "with `#!gosched config --steal-tries N`")]
    [InlineData("#!gosched run fanout --godebug runnext=0", "with `#!gosched config --godebug \"name=value,...\"`")]
    [InlineData("#!gosched run fanout pingpong", "unexpected 'pingpong' after 'fanout' (#!gosched run takes one workload)")]
    [InlineData("#!gosched run fanout --arg \"workers=1", "unterminated quote")]
    [InlineData("#!gosched plot runq --runs", "option '--runs' needs a value")]
    [InlineData("#!gosched plot runq --overlay yes", "unexpected 'yes' after 'runq'")]
    public async Task A_line_the_host_would_half_ignore_is_rejected_with_what_is_valid(string code, string message)
    {
        Assert.Contains(message, await FailsAsync(code));
    }

    [Fact]
    public async Task One_bad_line_stops_the_whole_cell_before_anything_runs()
    {
        string message = await FailsAsync("#!gosched config --gomaxprocs 3\n#!gosched run fanout --bogus 1\nvar ran = true;");

        Assert.Contains("#!gosched run: unknown option '--bogus'", message);
        Assert.Empty(Backend.Calls);
        var status = await SucceedsAsync("#!gosched status");
        Assert.DoesNotContain("gomaxprocs=3", Assert.Single(Displayed(status, Markdown)));
    }

    [Fact]
    public async Task Lines_of_one_cell_are_checked_each_against_its_own_command()
    {
        var result = await SucceedsAsync("#!gosched config --gomaxprocs 3\n#!gosched run fanout --arg workers=2 --arg work=5ms\n#!gosched run pingpong --arg rounds=10 --name pp");

        Assert.Equal(["fanout", "pingpong"], Backend.Calls.Select(c => c.Workload));
        Assert.Equal("2", Backend.Calls[0].Args["workers"]);
        Assert.Equal("5ms", Backend.Calls[0].Args["work"]);
        Assert.Equal("10", Backend.Calls[1].Args["rounds"]);
        Assert.All(Backend.Calls, c => Assert.Equal(3, c.Config.Gomaxprocs));
        Assert.Equal(3, Displayed(result, Html).Length); // the knobs, two summaries
    }

    [Fact]
    public async Task The_kernel_keeps_working_after_errors()
    {
        await FailsAsync("#!gosched frob");
        await FailsAsync("#!gosched config --gomaxprocs 0");
        await FailsAsync("#!gosched run nothing");

        await SucceedsAsync("#!gosched run fanout");
        var result = await SucceedsAsync("lastRun.Workload");
        Assert.Contains(result.Events, e => e is Microsoft.DotNet.Interactive.Events.ReturnValueProduced { Value: "fanout" });
        Assert.IsType<Recording>(await ValueAsync<object>("lastRun"));
    }
}

/// <summary>The help on the real catalogue, whose descriptions end without a full stop.</summary>
public sealed class HelpOnTheRuntimeTests : KernelTestBase
{
    private protected override IGoSchedBackend UseBackend() => new RuntimeBackend();

    [Fact]
    public async Task Each_workload_description_is_a_sentence_before_its_parameters()
    {
        // "... (very unequal work, so stealing matters) Parameters: `rounds=3`, ..." ran on without a stop.
        string help = Assert.Single(Displayed(await SucceedsAsync("#!gosched help"), Markdown));
        var entries = help.Split('\n').Where(l => l.StartsWith("- **`", StringComparison.Ordinal) && l.Contains(" Parameters: ")).ToList();
        Assert.Equal(GoSched.Workloads.WorkloadCatalog.All.Count, entries.Count);
        Assert.All(entries, l => Assert.Matches(@"[^.]\. Parameters: ", l));
        Assert.Contains("- **`fanout`**: " + GoSched.Workloads.WorkloadCatalog.Get("fanout").Description + ". Parameters: `rounds=3`", help);
    }
}
