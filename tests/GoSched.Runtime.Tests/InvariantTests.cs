// Invariant checks: each of the runtime's throw() sites that internal state can reach directly
// throws RuntimeInvariantException with Go's wording, and does so before it changes anything.
// The state is built by hand on a runtime that is constructed but not started (no M runs), with
// the test thread standing in for the M. Methods the runtime keeps private are reached by
// reflection (Private.cs), by their Go-mirroring names; if one is renamed, the test says which.
//
// The last test checks the way out: an invariant broken while a goroutine runs ends the run with
// that exception as RunResult.Error, which is what the randomised conservation tests look for.
using GoSched.Internal;

namespace GoSched.Tests;

public class InvariantTests
{
    private static GoRuntime NewRuntime(int procs = 2, int runqSize = 4) =>
        new(GoConfig.Parse($"gomaxprocs={procs},runqsize={runqSize},sampleperiodus=0"));

    private static void AssertThrows(string message, Action action)
    {
        var e = Assert.Throws<RuntimeInvariantException>(action);
        Assert.Equal(message, e.Message);
    }

    /// <summary>A G as newproc leaves it: Idle -> Dead -> Runnable, through the legal moves.</summary>
    private static G RunnableG(GoRuntime rt, long goid)
    {
        var g = new G(rt) { Goid = goid };
        GoRuntime.CasGStatus(g, GStatus.Idle, GStatus.Dead);
        GoRuntime.CasGStatus(g, GStatus.Dead, GStatus.Runnable);
        return g;
    }

    // --- G status ---

    [Fact]
    public void CasGStatusFromAWrongStatusThrowsAndLeavesTheStatus()
    {
        using var rt = NewRuntime();
        var g = new G(rt) { Goid = 7 };
        AssertThrows("casgstatus: goroutine 7 from Running to Waiting, but status is Idle",
            () => GoRuntime.CasGStatus(g, GStatus.Running, GStatus.Waiting));
        Assert.Equal(GStatus.Idle, g.Status);

        GoRuntime.CasGStatus(g, GStatus.Idle, GStatus.Dead); // a legal move passes
        Assert.Equal(GStatus.Dead, g.Status);
    }

    [Fact]
    public void ReadyWithAChannelLockHeldThrowsAndLeavesTheStatus()
    {
        Assert.True(ChanLockCheck.Enabled, "the test project's runtimeconfig sets GoSched.CheckChanLocks");
        using var rt = NewRuntime();
        var g = RunnableG(rt, 5);
        GoRuntime.CasGStatus(g, GStatus.Runnable, GStatus.Running);
        GoRuntime.CasGStatus(g, GStatus.Running, GStatus.Waiting);
        var c = new Chan<int>();
        c.LockChan();
        try
        {
            Assert.Equal(1, ChanLockCheck.Held);
            AssertThrows("ready: called with a channel lock held", () => rt.Ready(g));
            Assert.Equal(GStatus.Waiting, g.Status);
        }
        finally { c.UnlockChan(); }
        Assert.Equal(0, ChanLockCheck.Held);
    }

    [Fact]
    public void GfputOfALiveGThrows()
    {
        using var rt = NewRuntime();
        var g = RunnableG(rt, 3);
        AssertThrows("gfput: bad status (not Gdead)", () => Private.Call(rt, "GFPut", rt.AllP[0], g));
        Assert.Equal(0, rt.AllP[0].GFreeCount);
        Assert.Null(rt.AllP[0].GFree.Peek(0));
    }

    [Fact]
    public void ReleaseSudogStillQueuedThrows()
    {
        using var rt = NewRuntime();
        var g = new G(rt);
        var s = g.AcquireSudog<int>();
        s.InQueue = true;
        AssertThrows("releaseSudog: sudog still on a wait queue", () => g.ReleaseSudog(s));
    }

    // --- run queues ---

    [Fact]
    public void RunqPutSlowOnANonFullQueueThrows()
    {
        using var rt = NewRuntime(runqSize: 4);
        P pp = rt.AllP[0];
        var g = new G(rt) { Goid = 1 };
        rt.RunqPut(pp, g, next: false);
        AssertThrows("runqputslow: queue is not full",
            () => Private.Call(rt, "RunqPutSlow", pp, new G(rt) { Goid = 2 }, pp.RunqHead, pp.RunqTail));
        Assert.Equal(0, rt.SchedState.RunqSize); // nothing moved
        Assert.Same(g, rt.RunqGet(pp, out _));
    }

    /// <summary>A thief whose own ring has no room for half the victim's: Go's "runqsteal: runq overflow".</summary>
    [Fact]
    public void RunqStealIntoANearlyFullQueueThrows()
    {
        using var rt = NewRuntime(runqSize: 4);
        P thief = rt.AllP[0], victim = rt.AllP[1];
        for (int i = 0; i < 3; i++) rt.RunqPut(thief, new G(rt) { Goid = i + 1 }, next: false);
        for (int i = 0; i < 4; i++) rt.RunqPut(victim, new G(rt) { Goid = i + 10 }, next: false);
        AssertThrows("runqsteal: runq overflow", () => rt.RunqSteal(thief, victim, stealRunNextG: false));
    }

    [Fact]
    public void GlobalQueueWithoutSchedLockThrows()
    {
        using var rt = NewRuntime();
        AssertThrows("assertLockHeld: lock not held", () => rt.GlobRunqPut(new G(rt)));
        AssertThrows("assertLockHeld: lock not held", () => rt.GlobRunqGet(rt.AllP[0], 0));
        Assert.Equal(0, rt.SchedState.RunqSize);
    }

    // --- Ps and Ms ---

    [Fact]
    public void ReleasepOfAnIdlePThrows()
    {
        using var rt = NewRuntime();
        var mp = new M(rt, 0, 1);
        AssertThrows("releasep: invalid p state", () => Private.Call(rt, "ReleaseP", mp)); // no P at all
        mp.P = rt.AllP[0]; // wired one way only, and the P is idle
        AssertThrows("releasep: invalid p state", () => Private.Call(rt, "ReleaseP", mp));
    }

    [Fact]
    public void AcquirepOfAnOwnedPThrows()
    {
        using var rt = NewRuntime();
        var m0 = new M(rt, 0, 1);
        var m1 = new M(rt, 1, 2);
        Private.Call(rt, "AcquireP", m0, rt.AllP[0]);
        Assert.Equal((int)PStatus.Running, rt.AllP[0].Status);

        AssertThrows("wirep: already in go", () => Private.Call(rt, "AcquireP", m0, rt.AllP[1]));
        AssertThrows("wirep: invalid p state", () => Private.Call(rt, "AcquireP", m1, rt.AllP[0]));
        Assert.Same(m0, rt.AllP[0].M);
        Assert.Null(m1.P);
        Assert.Same(rt.AllP[0], Private.Call(rt, "ReleaseP", m0)); // the legal way back
    }

    /// <summary>
    /// handoffp: the last running P, handed off while nobody polls the network, goes to a new M
    /// (which will poll) rather than to the idle list; otherwise a goroutine waiting on a socket
    /// sleeps until some M next passes through findRunnable (sysmon sleeps while every P is idle).
    /// </summary>
    [Fact]
    public void HandoffpOfTheLastRunningPStartsAnMWhenNobodyPolls()
    {
        using var rt = NewRuntime();
        rt.Start();
        P pp;
        using (rt.SchedState.Lock.EnterScope()) pp = (P)Private.Call(rt, "PIdleGet")!;
        Assert.Equal(1, rt.SchedState.NPIdle); // pp is the only P not idle
        Assert.NotEqual(0, Interlocked.Read(ref rt.SchedState.LastPoll)); // and nobody is in the poller
        Assert.Equal(0, Interlocked.Read(ref rt.SchedState.MNext));
        Private.Call(rt, "HandoffP", pp);
        Assert.Equal(1, Interlocked.Read(ref rt.SchedState.MNext)); // an M was started for it
    }

    [Fact]
    public void PidleputOfAPWithWorkThrows()
    {
        using var rt = NewRuntime();
        P pp = rt.AllP[0];
        rt.RunqPut(pp, new G(rt), next: true);
        using (rt.SchedState.Lock.EnterScope())
            AssertThrows("pidleput: P has non-empty run queue", () => Private.Call(rt, "PIdlePut", pp));
        Assert.Equal(0, rt.SchedState.NPIdle);
    }

    [Fact]
    public void SpinningCountsThatGoNegativeThrow()
    {
        using var rt = NewRuntime();
        var mp = new M(rt, 0, 1);
        AssertThrows("resetspinning: not a spinning m", () => Private.Call(rt, "ResetSpinning", mp));
        mp.Spinning = true; // but never counted in nmspinning
        AssertThrows("findrunnable: negative nmspinning", () => Private.Call(rt, "ResetSpinning", mp));
    }

    [Fact]
    public void StopmWithAPOrSpinningThrows()
    {
        using var rt = NewRuntime();
        var mp = new M(rt, 0, 1) { P = rt.AllP[0] };
        AssertThrows("stopm holding p", () => Private.Call(rt, "StopM", mp));
        mp.P = null;
        mp.Spinning = true;
        AssertThrows("stopm spinning", () => Private.Call(rt, "StopM", mp));
        Assert.Equal(0, rt.SchedState.NmIdle); // never parked
    }

    [Fact]
    public void StartmSpinningWithoutAPThrows()
    {
        using var rt = NewRuntime();
        AssertThrows("startm: P required for spinning=true", () => Private.Call(rt, "StartM", null, true));
        Assert.Equal(0, Interlocked.Read(ref rt.SchedState.MNext)); // no M created
        Assert.False(rt.SchedState.Lock.IsHeld);
    }

    [Fact]
    public void ScheduleSpinningWithLocalWorkThrows()
    {
        using var rt = NewRuntime();
        var mp = new M(rt, 0, 1);
        Private.Call(rt, "AcquireP", mp, rt.AllP[0]);
        rt.RunqPut(rt.AllP[0], new G(rt), next: false);
        mp.Spinning = true;
        AssertThrows("schedule: spinning with local work", () => Private.Call(rt, "Schedule", mp));
    }

    // --- checkdead ---

    [Fact]
    public void CheckdeadWithMoreIdleMsThanMsThrows()
    {
        using var rt = NewRuntime();
        rt.SchedState.NmIdle = 1; // MNext is 0: an idle M that was never created
        using (rt.SchedState.Lock.EnterScope())
            AssertThrows("checkdead: inconsistent counts", () => Private.Call(rt, "CheckDead"));
    }

    [Fact]
    public void CheckdeadWithARunnableGAndNoRunningMThrows()
    {
        using var rt = NewRuntime();
        var g = RunnableG(rt, 5);
        Private.Call(rt, "AllGAdd", g);
        using (rt.SchedState.Lock.EnterScope())
            AssertThrows("checkdead: runnable g (goroutine 5 in status Runnable)", () => Private.Call(rt, "CheckDead"));
    }

    // --- notes and timers ---

    [Fact]
    public void NoteWokenTwiceThrows()
    {
        using var note = new Note();
        note.Wakeup();
        AssertThrows("notewakeup - double wakeup", note.Wakeup);
        Assert.True(note.TSleep(0)); // still woken once
    }

    [Fact]
    public void AddtimerOfABadTimerThrows()
    {
        using var rt = NewRuntime();
        AssertThrows("timer when must be positive", () => rt.AddTimer(new RTimer { When = 0 }));
        AssertThrows("timer period must be non-negative", () => rt.AddTimer(new RTimer { When = 1, Period = -1 }));
        AssertThrows("addtimer called with initialized timer",
            () => rt.AddTimer(new RTimer { When = 1, Status = (int)TimerStatus.Waiting }));
    }

    // --- the way out ---

    /// <summary>An invariant broken on an M ends the run with that exception as the run's error, and the runtime stops.</summary>
    [Fact]
    public void AnInvariantBrokenDuringARunIsTheRunsError()
    {
        using var rt = new GoRuntime(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));
        var r = rt.Run(() => Breaks(rt), TimeSpan.FromSeconds(30));
        var e = Assert.IsType<RuntimeInvariantException>(r.Error);
        Assert.StartsWith("casgstatus: goroutine 99 from Running to Dead", e.Message);
        Assert.False(rt.IsRunning);
        Assert.Equal(0, rt.ThreadsAlive);

        static async GoTask Breaks(GoRuntime rt)
        {
            await Go.Gosched();
            GoRuntime.CasGStatus(new G(rt) { Goid = 99 }, GStatus.Running, GStatus.Dead);
        }
    }
}
