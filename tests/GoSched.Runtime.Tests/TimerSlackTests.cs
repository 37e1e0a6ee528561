using System.Collections.Concurrent;
using GoSched.Internal;

namespace GoSched.Runtime.Tests;

/// <summary>Every M asks Linux for a 1 ns timer slack (Internal/TimerSlack.cs): its timed waits are not batched 50 µs late.</summary>
public class TimerSlackTests
{
    [Fact]
    public void EveryMThatRunsGoroutinesHasTheSmallestTimerSlack()
    {
        if (!OperatingSystem.IsLinux()) return; // the slack is Linux's (prctl PR_SET_TIMERSLACK)
        Assert.NotEqual(1, TimerSlack.Current()); // the test thread keeps the default: the slack is per thread
        var slacks = new ConcurrentDictionary<int, long>();
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => Readers(16, slacks), TimeSpan.FromSeconds(60));
        Assert.True(r.Succeeded, r.Error?.ToString());
        Assert.NotEmpty(slacks);
        Assert.All(slacks, kv => Assert.Equal(1, kv.Value));
    }

    /// <summary>n goroutines, each sleeping once and reading its M's timer slack before and after.</summary>
    private static async GoTask Readers(int n, ConcurrentDictionary<int, long> slacks)
    {
        var wg = new WaitGroup();
        wg.Add(n);
        for (int i = 0; i < n; i++) Reader(slacks, wg);
        await wg.Wait();
    }

    private static async GoTask Reader(ConcurrentDictionary<int, long> slacks, WaitGroup wg)
    {
        Read(slacks);
        await Go.SleepNs(100_000);
        Read(slacks);
        wg.Done();
    }

    private static void Read(ConcurrentDictionary<int, long> slacks) =>
        slacks[Environment.CurrentManagedThreadId] = TimerSlack.Current();
}
