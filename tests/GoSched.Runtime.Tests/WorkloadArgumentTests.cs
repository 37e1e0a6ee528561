// Workload arguments as text: --arg values as `gosched run` and `#!gosched run` read them, and
// durations as printed and read back.
using GoSched.Workloads;

namespace GoSched.Tests;

public class WorkloadArgumentTests
{
    /// <summary>
    /// Durations are printed as Go's time.Duration.String() prints them (with "us" for "µs"):
    /// `--arg unit=1.5ms` was echoed as unit=1500us, and an hour as 1h where Go writes 1h0m0s.
    /// </summary>
    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "1ns")]
    [InlineData(750L, "750ns")]
    [InlineData(1_000L, "1us")]
    [InlineData(1_001L, "1.001us")]
    [InlineData(50_000L, "50us")]
    [InlineData(50_500L, "50.5us")]
    [InlineData(999_999L, "999.999us")]
    [InlineData(1_000_000L, "1ms")]
    [InlineData(1_500_000L, "1.5ms")]
    [InlineData(1_234_567L, "1.234567ms")]
    [InlineData(999_999_999L, "999.999999ms")]
    [InlineData(1_000_000_000L, "1s")]
    [InlineData(1_500_000_000L, "1.5s")]
    [InlineData(1_000_000_001L, "1.000000001s")]
    [InlineData(2_000_000_000L, "2s")]
    [InlineData(60_000_000_000L, "1m0s")]
    [InlineData(90_000_000_000L, "1m30s")]
    [InlineData(90_500_000_000L, "1m30.5s")]
    [InlineData(3_600_000_000_000L, "1h0m0s")]
    [InlineData(9_900_000_000_000L, "2h45m0s")]
    [InlineData(86_400_000_000_000L, "24h0m0s")]
    [InlineData(-1_500_000L, "-1.5ms")]
    [InlineData(long.MaxValue, "2562047h47m16.854775807s")]
    [InlineData(long.MinValue, "-2562047h47m16.854775808s")]
    public void DurationsPrintAsGosDurationString(long ns, string expected) =>
        Assert.Equal(expected, WorkloadParam.FormatDuration(ns));

    /// <summary>What is printed is read back to the nanosecond, so a summary line can be pasted back as --arg values.</summary>
    [Fact]
    public void PrintedDurationsReadBackToTheSameNanoseconds()
    {
        var values = new List<long> { 0, 1, 999, 1_000, 1_001, 1_500, 999_999, 1_000_001, 1_500_000, 999_999_999, 1_000_000_000, 59_999_999_999,
            60_000_000_000, 61_000_000_001, 3_599_999_999_999, 3_600_000_000_000, 3_600_000_000_001, 86_400_000_000_000 };
        // Every parameter's and timeout's range lies below 10^15 ns (11.6 days).
        var rng = new Random(7);
        for (int i = 0; i < 2000; i++) values.Add(rng.NextInt64(1, (long)Math.Pow(10, rng.Next(1, 16))));
        foreach (long ns in values)
        {
            string text = WorkloadParam.FormatDuration(ns);
            Assert.True(WorkloadParam.ParseDuration(text) == ns, $"{ns} ns printed as {text}, read back as {WorkloadParam.ParseDuration(text)}");
        }
    }

    /// <summary>
    /// Durations are read with Go's time.ParseDuration arithmetic (checked against Go 1.19):
    /// fractions truncate to the ns (1.5ns is 1ns; a sum of doubles rounded it to 2ns, and
    /// 1.0000005ms to 1.000001ms), a leading '+' is taken, and 2^63 ns or more is too large.
    /// </summary>
    [Theory]
    [InlineData("1.5ns", 1L)]
    [InlineData("2.5ns", 2L)]
    [InlineData("1.0000005ms", 1_000_000L)]
    [InlineData("+1ms", 1_000_000L)]
    [InlineData(".5ms", 500_000L)]
    [InlineData("5.ms", 5_000_000L)]
    [InlineData("1h30m", 5_400_000_000_000L)]
    [InlineData("1.5h", 5_400_000_000_000L)]
    [InlineData("0.1h", 360_000_000_000L)]
    [InlineData("2562047h47m16.854775807s", long.MaxValue)]
    public void DurationsReadAsGoReadsThem(string text, long ns) => Assert.Equal(ns, WorkloadParam.ParseDuration(text));

    [Theory]
    [InlineData("2562047h47m16.854775808s")]
    [InlineData("99999999999999999999h")]
    [InlineData("9223372036854775808ns")]
    public void DurationsOfTwoToTheSixtyThreeNsOrMoreAreTooLarge(string text)
    {
        Assert.Null(WorkloadParam.ParseDuration(text));
        var e = Assert.Throws<WorkloadException>(() => new WorkloadParam("unit", ParamKind.Duration, "1ms", "work", 0, 1_000_000_000).Parse(text));
        Assert.EndsWith("(too large for a duration)", e.Message);
    }

    private static readonly string[] s_fanout = ["rounds", "workers", "unit"];

    /// <summary>`gosched run --arg rounds=1,workers=2` said "rounds=1,workers=2: not an integer"; the notebook took it.</summary>
    [Fact]
    public void ArgumentsMayBeRepeatedOrSeparatedWithCommas()
    {
        var args = WorkloadArgText.Parse("fanout", s_fanout, ["rounds=1, workers=2", "unit=1ms"]);
        Assert.Equal(new Dictionary<string, string> { ["rounds"] = "1", ["workers"] = "2", ["unit"] = "1ms" }, args);
        // Names as the parameter spells them, as Workload.Bind matches them.
        Assert.Equal(new Dictionary<string, string> { ["workers"] = "3" }, WorkloadArgText.Parse("fanout", s_fanout, ["Workers = 3"]));
    }

    /// <summary>A name given twice took the last value without a word in `gosched run`.</summary>
    [Theory]
    [InlineData(new[] { "rounds=1", "rounds=2" }, "--arg rounds=2: rounds given twice (rounds=1 before it); give each parameter once")]
    [InlineData(new[] { "rounds=1,rounds=2" }, "--arg rounds=2: rounds given twice (rounds=1 before it); give each parameter once")]
    [InlineData(new[] { "rounds=1,workers=2", "ROUNDS=3" }, "--arg ROUNDS=3: rounds given twice (rounds=1 before it); give each parameter once")]
    [InlineData(new[] { "rounds" }, "--arg rounds: expected name=value (fanout parameters: rounds, workers, unit)")]
    [InlineData(new[] { "rounds=" }, "--arg rounds=: expected name=value (fanout parameters: rounds, workers, unit)")]
    [InlineData(new[] { "rounds=1,=2" }, "--arg =2: expected name=value (fanout parameters: rounds, workers, unit)")]
    [InlineData(new[] { "" }, "--arg '': empty; expected name=value (fanout parameters: rounds, workers, unit)")]
    [InlineData(new[] { "rounds=1", " , " }, "--arg ,: item 1 of 2 is empty; separate name=value items with single commas")]
    [InlineData(new[] { "rounds=1,,workers=2" }, "--arg rounds=1,,workers=2: item 2 of 3 is empty; separate name=value items with single commas")]
    [InlineData(new[] { "rounds=1,workers=2," }, "--arg rounds=1,workers=2,: item 3 of 3 is empty; separate name=value items with single commas")]
    [InlineData(new[] { "wrokers=3" }, "--arg wrokers=3: fanout has no parameter 'wrokers' (parameters: rounds, workers, unit)")]
    public void BadArgumentsSayWhatIsWrong(string[] values, string expected) =>
        Assert.Equal(expected, Assert.Throws<WorkloadException>(() => WorkloadArgText.Parse("fanout", s_fanout, values)).Message);
}
