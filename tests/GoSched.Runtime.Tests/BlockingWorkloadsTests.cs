// The issue-4 workloads of Workloads/BlockingPrograms.cs, run small: each checks its own
// conservation (and throws, ending the run with an error, if anything was lost), so a run without
// error plus its reported figures is the assertion.
using GoSched.Workloads;

namespace GoSched.Tests;

public class BlockingWorkloadsTests
{
    internal static RunResult Run(string name, string knobs, params (string, string)[] args)
    {
        var r = WorkloadCatalog.Get(name).Run(GoConfig.Parse(knobs), args.ToDictionary(a => a.Item1, a => a.Item2), TimeSpan.FromSeconds(60));
        Assert.True(r.Error == null, $"{name}: {r.Error}");
        return r;
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    public void SyscallBlockHandsPsOffWhileOthersCompute(string handoff)
    {
        // Calls of 30 ms: sysmon retakes a P seen in the same syscall on two of its ticks, and its
        // sleep backs off to 10 ms after ~1 ms without retakes (a cold JIT start is enough), so a
        // 2 ms call may be seen once or not at all, in Go as here; 30 ms is seen twice at any back-off.
        var r = Run("syscall-block", "gomaxprocs=2,sampleperiodus=0", ("blockers", "2"), ("calls", "2"), ("block", "30ms"), ("work", "2ms"), ("handoff", handoff));
        Assert.Equal(120, r.Metrics["blocked_ms"]);
        if (handoff == "0") Assert.True(r.Metrics["sysmon_retakes"] >= 1, "a 30 ms blocking call was never retaken by sysmon");
        else Assert.Equal(4, r.Metrics["handoffs"]);
        Assert.InRange(r.Metrics["cpu_wall_ms"], 0.001, r.Metrics["wall_ms"]);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("0")]
    public void LockedPingPongKeepsTheLockedSideOnItsThread(string locked)
    {
        var r = Run("locked", "gomaxprocs=2,sampleperiodus=0", ("rounds", "300"), ("locked", locked));
        Assert.Equal(locked == "1" ? 1 : 0, r.Metrics["locked"]);
        Assert.True(r.Metrics["ns_per_roundtrip"] > 0);
    }

    [Fact]
    public void ResizeChangesGomaxprocsAndLosesNothing()
    {
        var r = Run("resize", "gomaxprocs=2,sampleperiodus=500", ("goroutines", "16"), ("changes", "10"), ("interval", "1ms"), ("maxprocs", "4"), ("seed", "3"));
        Assert.Equal(10, r.Metrics["changes"]); // each of the 10 asks for a value other than the current one
        Assert.Equal(r.Metrics["changes"], r.Recording.Pauses.Count(p => p.Reason == "GOMAXPROCS"));
        Assert.True(r.Metrics["values"] > 0);
        Assert.Contains(r.Recording.Samples, s => s.Gomaxprocs != 2);
        // The workload counts its workers' sleeps; the runtime every timer it fired, main's sleep after each change as well.
        Assert.True(r.Metrics["worker_sleeps_woken"] > 0);
        Assert.Equal(r.Metrics["worker_sleeps_woken"] + 10, r.Recording.TimerLateness!.TotalCount);
    }

    /// <summary>
    /// resize with maxprocs=1 ran 0 or 1 GOMAXPROCS changes (there is no other value in 1..1 to
    /// change to) and echoed changes=20: it is refused before the run, as any value out of range.
    /// </summary>
    [Fact]
    public void ResizeWorkloadRefusesMaxprocsBelowTwo()
    {
        var resize = WorkloadCatalog.Get("resize");
        var e = Assert.Throws<WorkloadException>(() => resize.Bind(new Dictionary<string, string> { ["maxprocs"] = "1" }));
        Assert.Equal($"maxprocs=1: must be between 2 and {GoConfig.MaxGomaxprocs}", e.Message);
        Assert.Equal(2, resize.Bind(new Dictionary<string, string> { ["maxprocs"] = "2" })["maxprocs"]);
    }

    [Fact]
    public void StwWorkloadPausesAsItsArgumentsSay()
    {
        var r = Run("stw", "gomaxprocs=2,sampleperiodus=0", ("duration", "60ms"), ("sleepers", "20"), ("period", "10ms"), ("pause", "300us"));
        Assert.Contains("stwperiodms=10", r.Config.ToString());
        // The pauser asks for the k-th pause at start + k·period, never earlier, one after the
        // other, and never runs ahead of its schedule: at most one pause per period of the run's
        // wall time (+1 for one in flight at the end). It may run behind: under load its thread
        // or the Ms it waits for are descheduled, and the slots still owed when the run stops are
        // not made up (seen on a loaded 2-core machine: 8, 9 and 10 pauses where the wall time
        // gave 10, 11 and 12, in 3 of 9 runs). So the lower bound is only that pauses happened;
        // their times are checked against their slots.
        long period = 10_000_000, expected = r.Recording.WallNs / period;
        var pauses = r.Recording.Pauses.Where(p => p.Reason == "pause").ToArray();
        for (int i = 0; i < pauses.Length; i++)
        {
            Assert.True(pauses[i].TimeNs >= (i + 1) * period, $"pause {i + 1} asked for at {pauses[i].TimeNs} ns, before its slot");
            if (i > 0) Assert.True(pauses[i].TimeNs >= pauses[i - 1].TimeNs + pauses[i - 1].DurationNs, $"pause {i + 1} overlaps pause {i}");
        }
        Assert.InRange(pauses.Length, 1, expected + 1);
        Assert.InRange(r.Metrics["pauses"], 1, pauses.Length); // counted by main before the run's last pauses
        Assert.True(r.Metrics["pause_total_ms"] >= r.Metrics["pauses"] * 0.3);
        // The workload counts its sleepers' sleeps; the runtime every timer it fired, main's one sleep of `duration` as well.
        Assert.True(r.Metrics["sleeper_sleeps_woken"] > 0);
        Assert.Equal(r.Metrics["sleeper_sleeps_woken"] + 1, r.Recording.TimerLateness!.TotalCount);
    }

    [Fact]
    public void StwWorkloadLeavesKnobsFromTheConfigAlone()
    {
        var r = Run("stw", "gomaxprocs=2,sampleperiodus=0,stwperiodms=20,stwpauseus=100", ("duration", "50ms"), ("sleepers", "5"));
        Assert.Equal(20_000_000, r.Config.StwPeriodNs);
        Assert.Equal(100_000, r.Config.StwPauseNs);
    }
}
