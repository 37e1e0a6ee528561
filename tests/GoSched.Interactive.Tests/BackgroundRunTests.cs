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
        // Other knobs go to the next run only, and the cell says so (the table alone showed them as set).
        var later = await SucceedsAsync("#!gosched config --steal-tries 0 --runnext 0");
        Assert.Contains("`stealtries=0`, `runnext=0` apply to the next run: the background run `bg` (fanout) keeps the knobs it started with", Displayed(later, Markdown)[0]);
        Assert.Equal([3], Backend.GomaxprocsChanges);
        await SucceedsAsync("#!gosched config --steal-tries 4 --runnext 1");

        // It cannot be plotted yet (one error, no notice beside it), and a plot of other runs says it is left out.
        var named = await SubmitAsync("#!gosched plot runq --runs bg");
        Assert.Contains("`bg` is still running in the background", Assert.Single(named.Events.OfType<Microsoft.DotNet.Interactive.Events.CommandFailed>()).Message);
        Assert.Empty(Displayed(named, Markdown));
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
[Collection(AloneCollection.Name)]
public sealed class BackgroundRunOnTheRuntimeTests : KernelTestBase
{
    private protected override IGoSchedBackend UseBackend() => new RuntimeBackend();

    [Fact]
    public async Task Gomaxprocs_changes_the_running_workload()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2 --sample-period-us 0");
        await SucceedsAsync("#!gosched run stw --background --arg duration=1s,sleepers=10");
        string said = Displayed(await SucceedsAsync("#!gosched config --gomaxprocs 1"), Markdown)[0];
        var waited = await SucceedsAsync("#!gosched status --wait");

        var rec = await ValueAsync<Recording>("lastRun");
        if (said.Contains("has ended")) return; // the machine was too slow for the 1 s run: nothing to check
        Assert.Contains("2 → 1", said);
        // The summary says GOMAXPROCS changed, not only the setting the run started with.
        Assert.Contains(Displayed(waited, Html), h => h.Contains("GOMAXPROCS changed while it ran: 2→1"));
        var resize = Assert.Single(rec.Pauses, p => p.Reason == "GOMAXPROCS");
        Assert.Equal((2, 1), (resize.ProcsBefore, resize.ProcsAfter));
    }

    /// <summary>
    /// An interrupted cell stops its run: the runtime's threads end (nothing keeps running unseen
    /// and skews the next run), the cell fails saying so, and the run is kept up to that point.
    /// </summary>
    [Fact]
    public async Task Interrupting_a_run_stops_it_and_keeps_what_it_recorded()
    {
        var submit = SubmitAsync("#!gosched run fanout --arg rounds=100000 --name longrun");
        // Interrupt once the run has started: on a cold process (a fresh clone) a fixed 1.5 s could
        // end before the directive ran at all, and the cancel then stopped no run (nothing to keep).
        var started = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (GoSched.Interactive.Workbench.GoSchedSession.For(Kernel)?.Running == null && !submit.IsCompleted && DateTime.UtcNow < started)
            await Task.Delay(20);
        await Task.Delay(300);
        Assert.False(submit.IsCompleted, "the long run ended before the interrupt");
        Assert.Equal("fanout", GoSched.Interactive.Workbench.GoSchedSession.For(Kernel)?.Running);
        Assert.True(GoschedThreads() > 0, "no gosched thread while the run goes on");
        await Kernel.SendAsync(new Microsoft.DotNet.Interactive.Commands.Cancel());
        var result = await submit.WaitAsync(TimeSpan.FromSeconds(30));
        var failed = Assert.Single(result.Events.OfType<Microsoft.DotNet.Interactive.Events.CommandFailed>());
        Assert.Contains("cancelled", failed.Message);
        // Every M, the sampler and sysmon have ended.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (GoschedThreads() > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, GoschedThreads());
        // The handler ran on after the host failed the cell; once it has returned, a C# cell (no
        // #!gosched line between) sees the interrupted run: its variables were set by a command
        // the handler queued, in the kernel's order, not by the handler racing the next command.
        var session = GoSched.Interactive.Workbench.GoSchedSession.For(Kernel)!;
        await session.HandlerDone.WaitAsync(TimeSpan.FromSeconds(30));
        var seen = await Kernel.SendAsync(new Microsoft.DotNet.Interactive.Commands.SubmitCode("longrun.WallNs > 0 && object.ReferenceEquals(lastRun, longrun)"));
        Assert.Empty(seen.Events.OfType<Microsoft.DotNet.Interactive.Events.CommandFailed>());
        Assert.Equal(true, Assert.Single(seen.Events.OfType<Microsoft.DotNet.Interactive.Events.ReturnValueProduced>()).Value);
        var longrun = await ValueAsync<Recording>("longrun");
        // The next run starts on a quiet machine, and the interrupted one stays kept.
        await SucceedsAsync("#!gosched run pingpong --arg rounds=1000");
        Assert.Same(longrun, await ValueAsync<Recording>("longrun"));
        Assert.NotSame(longrun, await ValueAsync<Recording>("lastRun"));
    }

    /// <summary>
    /// A run with the schedtrace knob shows Go's SCHED lines under its summary (the first ones, and
    /// where the rest are), and the knob table lists knobs set only through --godebug.
    /// </summary>
    [Fact]
    public async Task Schedtrace_lines_are_shown_and_godebug_only_knobs_are_listed()
    {
        var config = await SucceedsAsync("#!gosched config --gomaxprocs 2 --godebug \"schedtrace=1,forcepreemptns=20000000\"");
        string table = Assert.Single(Displayed(config, Html));
        Assert.Contains("--godebug schedtrace=", table);
        Assert.Contains("20000000", table);
        Assert.DoesNotContain("--godebug stwperiodms=", table); // left at its default: not listed
        var run = await SucceedsAsync("#!gosched run fanout --arg rounds=2 --name st");
        string trace = Assert.Single(Displayed(run, "text/plain"), t => t.StartsWith("SCHED ", StringComparison.Ordinal));
        Assert.Contains("gomaxprocs=2 idleprocs=", trace);
        var rec = await ValueAsync<Recording>("st");
        if (rec.SchedTrace.Count > 60)
            Assert.Contains($"all {rec.SchedTrace.Count} are in st.SchedTrace", trace);
    }

    /// <summary>Threads of any gosched runtime in this process (their names start with gosched-).</summary>
    private static int GoschedThreads() =>
        Directory.GetDirectories("/proc/self/task").Count(t =>
        {
            try { return File.ReadAllText(Path.Combine(t, "comm")).StartsWith("gosched-", StringComparison.Ordinal); }
            catch (IOException) { return false; } // the thread ended meanwhile
        });
}
