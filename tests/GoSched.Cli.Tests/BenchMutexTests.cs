namespace GoSched.Cli.Tests;

/// <summary>`gosched bench mutex`: conservation (the counter ends at the number of pairs) on gosched and .NET, the 0-bytes target; never its speed.</summary>
public class BenchMutexTests
{
    [Fact]
    public void QuickJsonReportsNsPerLockWithEveryIncrementCountedOnGoschedAndDotnet()
    {
        var root = BenchQuick.Run("mutex", "ns_per_lock", hasDotnet: true);
        int goroutines = 2 * root.GetProperty("gomaxprocs").GetInt32();
        Assert.Equal(2, BenchQuick.Parameter(root, "goroutines_per_p"));
        Assert.Equal(20, BenchQuick.Parameter(root, "work_iterations"));
        foreach (var system in new[] { "gosched", "dotnet" })
        {
            Assert.True(root.GetProperty(system).GetProperty("median").GetDouble() > 0, system);
            Assert.Equal(BenchQuick.Parameter(root, "pairs"), BenchQuick.Figure(root, system, "pairs_done"));
            Assert.Equal(goroutines, BenchQuick.Figure(root, system, "goroutines"));
            Assert.True(root.GetProperty(system).GetProperty("alloc_bytes_per_op").GetDouble() >= 0, system);
        }
        Assert.Contains(BenchQuick.Notes(root), n => n.Contains("async-lock analogue") && n.Contains("SemaphoreSlim(1,1)"));

        // Only the 0-bytes target (the issue sets no speed target for the mutex), checked against gosched's own figure.
        var zero = Assert.Single(BenchQuick.Targets(root)).Value;
        Assert.Equal("0 bytes per lock-unlock pair", zero.GetProperty("target").GetString());
        Assert.Equal(root.GetProperty("gosched").GetProperty("alloc_bytes_per_op").GetDouble(), zero.GetProperty("value").GetDouble());
        Assert.Equal(0.01, zero.GetProperty("limit").GetDouble());
    }
}
