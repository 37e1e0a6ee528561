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
    [InlineData("sampleperiodus=50", "at least 100")]
    public void ParseRejectsBadInputWithAClearMessage(string godebug, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => GoConfig.Parse(godebug));
        Assert.Contains(expected, e.Message);
    }
}
