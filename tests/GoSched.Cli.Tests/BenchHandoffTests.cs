namespace GoSched.Cli.Tests;

/// <summary>`gosched bench handoff`: every trial's runnable goroutine ran, percentiles in order, no .NET side; never its speed.</summary>
public class BenchHandoffTests
{
    [Fact]
    public void QuickJsonReportsHandoffPercentilesForEveryTrialAndNoDotnet()
    {
        var root = BenchQuick.Run("handoff", "handoff_p50_us", hasDotnet: false);
        double p50 = BenchQuick.Figure(root, "gosched", "handoff_p50_us");
        Assert.True(p50 > 0, $"handoff_p50_us {p50}");
        BenchQuick.AssertOrdered("handoff", p50, BenchQuick.Figure(root, "gosched", "handoff_p99_us"), BenchQuick.Figure(root, "gosched", "handoff_max_us"));
        Assert.Equal(p50, root.GetProperty("gosched").GetProperty("median").GetDouble());
        Assert.Equal(BenchQuick.Parameter(root, "trials"), BenchQuick.Figure(root, "gosched", "trials_done"));
        Assert.InRange(BenchQuick.Figure(root, "gosched", "during_syscall_pct"), 0, 100);
        Assert.Contains(BenchQuick.Notes(root), n => n.Contains("no .NET side"));

        // Go's sysmon bounds, with gosched's own figures (a quick run checks none: BenchQuick.Run).
        var targets = BenchQuick.Targets(root);
        Assert.Equal(20, targets["handoff p50 >= 20 us (one sysmon round)"].GetProperty("limit").GetDouble());
        var max = targets["handoff max <= 10 ms (sysmon's longest sleep)"];
        Assert.Equal(BenchQuick.Figure(root, "gosched", "handoff_max_us"), max.GetProperty("value").GetDouble());
        Assert.Equal(10_000, max.GetProperty("limit").GetDouble());
        var during = targets["handoff during the call in >= 90% of trials"];
        Assert.Equal(BenchQuick.Figure(root, "gosched", "during_syscall_pct"), during.GetProperty("value").GetDouble());
        Assert.Equal(90, during.GetProperty("limit").GetDouble());
        Assert.Equal(3, targets.Count);
    }

    [Fact]
    public void UnknownBenchmarkListsTheNewOnes()
    {
        var (code, _, stderr) = CliTests.Invoke("bench", "echo", "--quick");
        Assert.Equal(1, code);
        Assert.Contains("netecho, locked, handoff", stderr);
    }
}
