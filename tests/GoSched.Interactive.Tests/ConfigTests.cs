namespace GoSched.Interactive.Tests;

public class ConfigTests : KernelTestBase
{
    [Fact]
    public async Task Options_set_knobs_shown_in_a_table_and_in_the_goConfig_variable()
    {
        var result = await SucceedsAsync(
            "#!gosched config --gomaxprocs 3 --steal-tries 0 --runq-size 8 --global-runq-check 7 --runnext 0 --randomize 1 --seed 42 --sample-period-us 250");

        string table = Assert.Single(Displayed(result, Html));
        Assert.Contains("<table", table);
        foreach (string cell in new[] { "stealtries", "--steal-tries", "runqsize", "256", "globalrunqcheck", "61", "sampleperiodus", "250", "42" })
            Assert.Contains(cell, table);
        var config = await ValueAsync<GoConfig>("goConfig");
        Assert.Equal(new GoConfig
        {
            Gomaxprocs = 3, StealTries = 0, LocalRunqSize = 8, GlobalRunqCheckInterval = 7, RunNext = false,
            RandomizeScheduler = true, Seed = 42, SamplePeriodNs = 250_000,
        }, config);
    }

    [Fact]
    public async Task Timer_knobs_turn_the_quarter_rule_off_or_change_its_ratio()
    {
        var result = await SucceedsAsync("#!gosched config --timer-clear 0 --timer-clear-ratio 8");

        string table = Assert.Single(Displayed(result, Html));
        foreach (string cell in new[] { "timerclear", "--timer-clear", "timerclearratio", "--timer-clear-ratio" })
            Assert.Contains(cell, table);
        var config = await ValueAsync<GoConfig>("goConfig");
        Assert.Equal((false, 8), (config.TimerClearDeleted, config.TimerClearDeletedRatio));
        Assert.Equal("gomaxprocs=" + config.Gomaxprocs + ",timerclear=0,timerclearratio=8", config.ToString());

        await SucceedsAsync("#!gosched config --godebug timerclear=1");
        Assert.True((await ValueAsync<GoConfig>("goConfig")).TimerClearDeleted);
    }

    [Fact]
    public async Task Godebug_sets_several_knobs_and_reset_goes_back_to_Go()
    {
        await SucceedsAsync("#!gosched config --godebug \"gomaxprocs=1,stealtries=0,runnext=0\"");
        Assert.Equal("gomaxprocs=1,stealtries=0,runnext=0", (await ValueAsync<GoConfig>("goConfig")).ToString());

        await SucceedsAsync("#!gosched config --seed 9");
        Assert.Equal("gomaxprocs=1,stealtries=0,runnext=0,seed=9", (await ValueAsync<GoConfig>("goConfig")).ToString());

        await SucceedsAsync("#!gosched config --reset --gomaxprocs 2");
        Assert.Equal(new GoConfig { Gomaxprocs = 2 }, await ValueAsync<GoConfig>("goConfig"));
    }

    [Fact]
    public async Task Config_alone_shows_the_knobs_and_changes_nothing()
    {
        var result = await SucceedsAsync("#!gosched config");

        Assert.Contains("gomaxprocs", Assert.Single(Displayed(result, Html)));
        Assert.Equal(new GoConfig(), await ValueAsync<GoConfig>("goConfig"));
    }

    [Theory]
    [InlineData("--gomaxprocs 0", "gomaxprocs=0: must be between 1 and 256")]
    [InlineData("--gomaxprocs two", "gomaxprocs=two: not an integer")]
    [InlineData("--runq-size 100", "runqsize=100: must be a power of two between 4 and 65536")]
    [InlineData("--steal-tries -1", "stealtries=-1: must be between 0 and 64")]
    [InlineData("--runnext maybe", "runnext=maybe: expected 0 or 1")]
    [InlineData("--sample-period-us 10", "sampleperiodus=10: must be 0 (off) or between 100 and 10000000 (10 s)")]
    [InlineData("--sample-period-us 99999999999999999", "sampleperiodus=99999999999999999: must be at most 10000000")]
    [InlineData("--timer-clear 2", "timerclear=2: expected 0 or 1")]
    [InlineData("--timer-clear-ratio 0", "timerclearratio=0: must be between 1 and 1024")]
    [InlineData("--godebug \"gomaxprocs=2,bogus=1\"", "unknown knob 'bogus' (knobs: gomaxprocs, stealtries")]
    [InlineData("--godebug gomaxprocs", "'gomaxprocs': expected name=value")]
    public async Task A_bad_value_fails_with_the_knobs_own_message_and_keeps_the_old_config(string options, string message)
    {
        await SucceedsAsync("#!gosched config --gomaxprocs 2");

        Assert.Contains(message, await FailsAsync("#!gosched config " + options));
        Assert.Equal(new GoConfig { Gomaxprocs = 2 }, await ValueAsync<GoConfig>("goConfig"));
    }
}
