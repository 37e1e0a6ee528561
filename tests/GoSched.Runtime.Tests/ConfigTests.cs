namespace GoSched.Tests;

public class ConfigTests
{
    [Fact]
    public void ParseAppliesKnobsOverDefaults()
    {
        var c = GoConfig.Parse("gomaxprocs=3, stealtries=0,runnext=0,runqsize=4,seed=7");
        Assert.Equal(3, c.Gomaxprocs);
        Assert.Equal(0, c.StealTries);
        Assert.False(c.RunNext);
        Assert.Equal(4, c.LocalRunqSize);
        Assert.Equal(7UL, c.Seed);
        Assert.Equal(61, c.GlobalRunqCheckInterval);
        Assert.Equal("gomaxprocs=3,stealtries=0,runqsize=4,runnext=0,seed=7", c.ToString());
    }

    [Theory]
    [InlineData("stealtrys=1", "unknown knob 'stealtrys'")]
    [InlineData("runqsize=6", "power of two")]
    [InlineData("runqsize=2", "power of two")]
    [InlineData("gomaxprocs=0", "between 1 and 256")]
    [InlineData("gomaxprocs=two", "not an integer")]
    [InlineData("runnext=maybe", "expected 0 or 1")]
    [InlineData("gomaxprocs", "expected name=value")]
    [InlineData("sampleperiodus=50", "between 100 and 10000000")]
    [InlineData("sampleperiodus=99999999999999999", "sampleperiodus=99999999999999999: must be at most 10000000")]
    [InlineData("sampleperiodus=9223372036854775", "must be at most 10000000")]
    [InlineData("sampleperiodus=10000001", "must be at most 10000000")]
    [InlineData("forcepreemptns=99999999999999999", "between 10000 (10 µs) and 3600000000000 (1 h)")]
    [InlineData("schedtrace=-99999999999999999", "must be at most 3600000")]
    [InlineData("stwperiodms=99999999999999", "must be at most 3600000")]
    [InlineData("globalrunqcheck=2000000", "between 2 and 1048576")]
    [InlineData("runqsize=1048576", "runqsize=1048576: must be a power of two between 4 and 65536")]
    [InlineData("gomaxprocs=99999999999999", "gomaxprocs=99999999999999: out of range")]
    [InlineData("seed=-1", "seed=-1: out of range (a non-negative integer below 2^64)")]
    [InlineData("seed=x", "seed=x: not a non-negative integer")]
    [InlineData("globalrunqcheck=1", "globalrunqcheck=1: must be between 2 and 1048576 (with 1 the global queue starves the local queues)")]
    public void ParseRejectsBadInputWithAClearMessage(string godebug, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => GoConfig.Parse(godebug));
        Assert.Contains(expected, e.Message);
    }
}
