using GoSched.Observability;

namespace GoSched.Interactive.Tests;

public class RunTests : KernelTestBase
{
    [Fact]
    public async Task Run_shows_a_summary_and_keeps_the_recording_in_lastRun()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2");
        var result = await SucceedsAsync("#!gosched run fanout --arg workers=4");

        string summary = Assert.Single(Displayed(result, Html));
        foreach (string cell in new[] { "lastRun", "fanout", "workers=4", "gomaxprocs=2", "42.5", "<table" })
            Assert.Contains(cell, summary);
        var (workload, config, args) = Assert.Single(Backend.Calls);
        Assert.Equal(("fanout", 2, "4"), (workload, config.Gomaxprocs, args["workers"]));
        Assert.Equal(5, (await ValueAsync<Recording>("lastRun")).Samples.Count);
    }

    [Fact]
    public async Task The_summary_shows_the_figures_the_workload_reported()
    {
        var result = await SucceedsAsync("#!gosched run netecho");

        string summary = Assert.Single(Displayed(result, Html));
        Assert.Contains("Figures", summary);
        Assert.Contains("round_trips=8000, rtt_p50_us=91.25", summary);
        var status = string.Concat(Displayed(await SucceedsAsync("#!gosched status"), Html));
        Assert.Contains("round_trips=8000, rtt_p50_us=91.25", status);
    }

    [Fact]
    public async Task Name_chooses_a_second_variable_and_lastRun_follows_the_latest()
    {
        await SucceedsAsync("#!gosched run fanout --name one");
        await SucceedsAsync("#!gosched config --gomaxprocs 3\n#!gosched run fanout --name three");

        Assert.Equal(2, (await ValueAsync<Recording>("one")).MaxProcs());
        Assert.Equal(3, (await ValueAsync<Recording>("three")).MaxProcs());
        Assert.Same(await ValueAsync<Recording>("three"), await ValueAsync<Recording>("lastRun"));
    }

    [Fact]
    public async Task Args_may_be_repeated_or_comma_separated()
    {
        await SucceedsAsync("#!gosched run fanout --arg workers=3,work=2ms");

        Assert.Equal(new Dictionary<string, string> { ["workers"] = "3", ["work"] = "2ms" }, Backend.Calls.Single().Args);
    }

    [Theory]
    [InlineData("#!gosched run", "which workload? (fanout, pingpong, stuck, timers, netecho, syscall-block)")]
    [InlineData("#!gosched run spin", "unknown workload 'spin'; workloads: fanout, pingpong, stuck, timers")]
    [InlineData("#!gosched run fanout --arg rounds=3", "fanout has no parameter 'rounds' (parameters: workers, work)")]
    [InlineData("#!gosched run fanout --arg workers", "--arg workers: expected name=value")]
    [InlineData("#!gosched run fanout --arg workers=1 --arg workers=2", "--arg workers=2: workers given twice (workers=1 before it); give each parameter once")]
    [InlineData("#!gosched run fanout --arg workers=1,work=2ms,workers=2", "--arg workers=2: workers given twice (workers=1 before it); give each parameter once")]
    [InlineData("#!gosched run fanout --arg workers=0", "fanout: workers=0: must be at least 1")]
    [InlineData("#!gosched run fanout --name 2x", "--name 2x: not a C# variable name")]
    [InlineData("#!gosched run fanout --name class", "--name class: not a C# variable name")]
    [InlineData("#!gosched run fanout --name goConfig", "--name goConfig: that variable holds the configured knobs")]
    public async Task Bad_runs_fail_with_what_is_valid(string code, string message)
    {
        Assert.Contains(message, await FailsAsync(code));
    }

    [Fact]
    public async Task A_run_that_deadlocks_shows_its_summary_and_fails_with_Gos_message()
    {
        var result = await SubmitAsync("#!gosched run stuck");

        var failed = Assert.Single(result.Events.OfType<Microsoft.DotNet.Interactive.Events.CommandFailed>());
        Assert.Equal("stuck: all goroutines are asleep - deadlock!", failed.Message);
        Assert.Contains("all goroutines are asleep - deadlock!", Assert.Single(Displayed(result, Html)));
        Assert.Equal("stuck", (await ValueAsync<Recording>("lastRun")).Workload);
    }
}

/// <summary>A cell's own goroutines on the configured runtime, with the extension's references and goConfig.</summary>
public class CustomGoroutineTests : KernelTestBase
{
    [Fact]
    public async Task A_CSharp_cell_runs_its_own_goroutines_with_goConfig()
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2 --steal-tries 0");
        var result = await SucceedsAsync("""
            using GoSched;
            async GoTask Square(Chan<int> ch, int i) { await ch.Send(i * i); }
            async GoTask Main()
            {
                var ch = new Chan<int>();
                for (int i = 1; i <= 10; i++) Square(ch, i);
                int sum = 0;
                for (int i = 1; i <= 10; i++) { var (v, _) = await ch.RecvOk(); sum += v; }
                Console.WriteLine($"sum {sum}");
            }
            RunResult r;
            using (var rt = new GoRuntime(goConfig)) // (a script's top level takes no using declarations)
                r = await rt.RunAsync(() => Main());
            Console.WriteLine($"{r.Error?.Message ?? "ok"} started={r.GoroutinesStarted} gomaxprocs={r.Config.Gomaxprocs} stealtries={r.Config.StealTries}");
            """);

        string stdout = string.Concat(result.Events.OfType<Microsoft.DotNet.Interactive.Events.StandardOutputValueProduced>()
            .SelectMany(e => e.FormattedValues).Select(v => v.Value));
        Assert.Contains("sum 385", stdout);
        Assert.Contains("ok started=11 gomaxprocs=2 stealtries=0", stdout);
    }
}
