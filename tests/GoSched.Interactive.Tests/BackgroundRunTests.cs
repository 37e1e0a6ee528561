// `#!gosched run --background` and `config --gomaxprocs` applied to the run going on: what a user
// expects from runtime.GOMAXPROCS in a notebook. Cells are run one after the other, so the only way
// to change a running workload is to start it in the background; the change goes to the running
// runtime (stop the world, procresize) and to the config of the next runs.
using GoSched.Interactive.Workbench;
using GoSched.Observability;

namespace GoSched.Interactive.Tests;

public class BackgroundRunTests : KernelTestBase
{
    [Fact]
    public async Task Config_gomaxprocs_applies_to_the_background_run_and_status_wait_keeps_it()
    {
        Backend.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await SucceedsAsync("#!gosched config --gomaxprocs 2");
        var started = await SucceedsAsync("#!gosched run fanout --arg workers=4 --background --name bg");
        Assert.Contains("runs in the background as `bg`", Assert.Single(Displayed(started, Markdown)));

        var config = await SucceedsAsync("#!gosched config --gomaxprocs 3");
        Assert.Contains("GOMAXPROCS of the background run `bg` (fanout): 2 → 3", Displayed(config, Markdown)[0]);
        Assert.Equal([3], Backend.GomaxprocsChanges);

        // One run at a time; status says what is going on.
        Assert.Contains("`bg` (fanout) is going on in the background", await FailsAsync("#!gosched run pingpong"));
        Assert.Contains("**in the background** `bg` (fanout)", Displayed(await SucceedsAsync("#!gosched status"), Markdown)[0]);

        Backend.Hold.SetResult();
        var waited = await SucceedsAsync("#!gosched status --wait");
        Assert.Contains(Displayed(waited, Html), h => h.Contains("bg") && h.Contains("workers=4"));
        Assert.Same(await ValueAsync<Recording>("bg"), await ValueAsync<Recording>("lastRun"));
        // Knobs other than GOMAXPROCS, and GOMAXPROCS with no background run, touch no running run.
        await SucceedsAsync("#!gosched config --steal-tries 0\n#!gosched config --gomaxprocs 1");
        Assert.Equal([3], Backend.GomaxprocsChanges);
        await SucceedsAsync("#!gosched run pingpong");
    }

    [Fact]
    public async Task A_background_run_with_bad_arguments_fails_at_once_and_leaves_nothing_running()
    {
        Assert.Contains("fanout: workers=0: must be at least 1", await FailsAsync("#!gosched run fanout --arg workers=0 --background"));
        await SucceedsAsync("#!gosched run fanout");
    }

    [Fact]
    public async Task A_background_run_that_ended_is_kept_by_the_next_command()
    {
        await SucceedsAsync("#!gosched run pingpong --background --name early");
        var plot = await SucceedsAsync("#!gosched plot runq --runs early");
        Assert.NotEmpty(Displayed(plot, Html));
        Assert.NotNull(await ValueAsync<Recording>("early"));
    }
}

/// <summary>The same on the real runtime: a stw run in the background resized to 1 P.</summary>
public sealed class BackgroundRunOnTheRuntimeTests : KernelTestBase
{
    private protected override IGoSchedBackend UseBackend() => new RuntimeBackend();

    [Fact]
    public async Task Gomaxprocs_changes_the_running_workload()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2 --sample-period-us 0");
        await SucceedsAsync("#!gosched run stw --background --arg duration=1s,sleepers=10");
        string said = Displayed(await SucceedsAsync("#!gosched config --gomaxprocs 1"), Markdown)[0];
        await SucceedsAsync("#!gosched status --wait");

        var rec = await ValueAsync<Recording>("lastRun");
        if (said.Contains("has ended")) return; // the machine was too slow for the 1 s run: nothing to check
        Assert.Contains("2 → 1", said);
        var resize = Assert.Single(rec.Pauses, p => p.Reason == "GOMAXPROCS");
        Assert.Equal((2, 1), (resize.ProcsBefore, resize.ProcsAfter));
    }
}
