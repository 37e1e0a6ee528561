namespace GoSched.Cli.Tests;

/// <summary>`gosched bench locked`: every round trip counted, the locked goroutine on one thread, no .NET side; never its speed.</summary>
public class BenchLockedTests
{
    [Fact]
    public void QuickJsonReportsUnlockedAndLockedRoundTripsOnGoschedAndNoDotnet()
    {
        var root = BenchQuick.Run("locked", "locked_ns_per_roundtrip", hasDotnet: false);
        double unlocked = BenchQuick.Figure(root, "gosched", "unlocked_ns_per_roundtrip"), locked = BenchQuick.Figure(root, "gosched", "locked_ns_per_roundtrip");
        Assert.True(unlocked > 0 && locked > 0, $"unlocked {unlocked}, locked {locked}");
        Assert.Equal(locked / unlocked, BenchQuick.Figure(root, "gosched", "locked_over_unlocked"), 9);
        Assert.Equal(locked, root.GetProperty("gosched").GetProperty("median").GetDouble());
        Assert.Equal(BenchQuick.Parameter(root, "unlocked_round_trips") + BenchQuick.Parameter(root, "locked_round_trips"),
            BenchQuick.Figure(root, "gosched", "round_trips_done"));
        Assert.Equal(1, BenchQuick.Figure(root, "gosched", "locked_threads"));
        Assert.Contains(BenchQuick.Notes(root), n => n.Contains("no .NET side") && n.Contains("LockOSThread"));
        Assert.Empty(root.GetProperty("targets").EnumerateArray());
    }
}
