// A cell with several #!gosched lines: every line's values are checked before any line runs, and
// once a line has failed, the lines after it change nothing. A bad value on the third line must
// not let the first two run for minutes first, or leave half of the cell's settings applied.
namespace GoSched.Interactive.Tests;

public class CellCheckTests : KernelTestBase
{
    [Theory]
    [InlineData("#!gosched run fanout --name y1\n#!gosched plot bogus", "unknown kind 'bogus'")]
    [InlineData("#!gosched run fanout --name y2\n#!gosched config --gomaxprocs 0", "gomaxprocs=0: must be between 1 and 256")]
    [InlineData("#!gosched run fanout --name y3\n#!gosched config --godebug nosuch=1", "nosuch")]
    [InlineData("#!gosched run fanout --name y4\n#!gosched run fanout --arg workers=0", "fanout: workers=0: must be at least 1")]
    [InlineData("#!gosched run fanout --name y5\n#!gosched run nope", "unknown workload 'nope'")]
    [InlineData("#!gosched run fanout --name y6\n#!gosched run fanout --arg rounds=3", "fanout has no parameter 'rounds'")]
    [InlineData("#!gosched run fanout --name y7\n#!gosched run fanout --name class", "--name class: not a C# variable name")]
    [InlineData("#!gosched config --gomaxprocs 3\n#!gosched plot", "what to plot?")]
    public async Task A_bad_value_on_a_later_line_fails_the_cell_before_any_line_runs(string cell, string message)
    {
        Assert.Contains(message, await FailsAsync(cell));
        Assert.Empty(Backend.Calls);
        Assert.Equal(new GoConfig().Gomaxprocs, (await ValueAsync<GoConfig>("goConfig")).Gomaxprocs);
    }

    [Fact]
    public async Task After_a_line_fails_while_running_the_lines_after_it_change_nothing()
    {
        int before = (await ValueAsync<GoConfig>("goConfig")).Gomaxprocs;
        // The run passes every check, then deadlocks: a failure only running can find.
        string failed = await FailsAsync("#!gosched run stuck --name s\n#!gosched config --gomaxprocs 7\n#!gosched run pingpong");
        Assert.Contains("deadlock", failed);
        Assert.Single(Backend.Calls); // the pingpong line did not run
        Assert.Equal(before, (await ValueAsync<GoConfig>("goConfig")).Gomaxprocs);
        // The next cell runs normally.
        await SucceedsAsync("#!gosched config --gomaxprocs 7");
        Assert.Equal(7, (await ValueAsync<GoConfig>("goConfig")).Gomaxprocs);
    }

    [Fact]
    public async Task Plot_runs_refuses_a_name_twice_and_a_variable_that_is_no_recording()
    {
        await SucceedsAsync("#!gosched run fanout --name a");
        Assert.Contains("'a' is named twice", await FailsAsync("#!gosched plot runq --runs a,a"));
        await SucceedsAsync("int notARecording = 3;");
        Assert.Contains("the variable 'notARecording' holds a Int32, not a Recording", await FailsAsync("#!gosched plot runq --runs notARecording"));
        Assert.Contains("/tmp is a folder", await FailsAsync("#!gosched plot runq --schedtrace /tmp"));
        // Every unknown name at once, not only the first.
        Assert.Contains("--runs: no run or Recording variable named 'x', 'y' (runs: a)", await FailsAsync("#!gosched plot runq --runs a,x,y"));
        // An empty list plotted the last run instead.
        Assert.Contains("--runs: no run named in ''", await FailsAsync("#!gosched plot runq --runs \"\""));
        Assert.Contains("--runs: no run named in ' , '", await FailsAsync("#!gosched plot runq --runs \" , \""));
        Assert.Contains("--schedtrace: no file named in ''", await FailsAsync("#!gosched plot runq --schedtrace \"\""));
    }

    [Fact]
    public async Task Plot_runs_given_a_RunResult_says_to_plot_its_Recording()
    {
        await SucceedsAsync("""
            using GoSched;
            async GoTask Noop() { await Go.Gosched(); }
            RunResult r2;
            using (var rt = new GoRuntime(goConfig)) r2 = await rt.RunAsync(() => Noop());
            """);
        string message = await FailsAsync("#!gosched plot runq --runs r2");
        Assert.Equal("--runs: the variable 'r2' holds a RunResult, not a Recording: plot its recording with `var r2Recording = r2.Recording;` then `--runs r2Recording`", message);
        await SucceedsAsync("var r2Recording = r2.Recording;");
        Assert.Single(Charts(await SucceedsAsync("#!gosched plot runq --runs r2Recording")));
    }

    [Fact]
    public async Task Status_wait_with_nothing_in_the_background_says_so()
    {
        var result = await SucceedsAsync("#!gosched status --wait");
        Assert.Contains(Displayed(result, Markdown), m => m.Contains("No run is going on in the background"));
    }
}
