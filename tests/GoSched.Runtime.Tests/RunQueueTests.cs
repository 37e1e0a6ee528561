// The local and global run queues (RunQueue.cs), driven directly on the Ps of a runtime that is
// constructed but never started: no M runs, so the test thread plays the owner M and other test
// threads play thieves. The first three tests are Go's (proc_test.go TestSchedLocalQueue,
// TestSchedLocalQueueSteal, TestSchedLocalQueueEmpty, whose bodies are export_test.go's
// RunSchedLocalQueue*Test); the rest pin down the rules those tests leave implicit: the runnext
// kick-out, runqputslow's batch of half plus one, runqsteal's half, when runnext may be stolen,
// globrunqget's batch size, and conservation under concurrent stealing.
namespace GoSched.Tests;

public class RunQueueTests
{
    private static GoRuntime NewRuntime(int procs = 2, int runqSize = 256, string extra = "") =>
        new(GoConfig.Parse($"gomaxprocs={procs},runqsize={runqSize},sampleperiodus=0" + (extra.Length > 0 ? "," + extra : "")));

    private static G[] NewGs(GoRuntime rt, int n, long firstGoid = 1)
    {
        var gs = new G[n];
        for (int i = 0; i < n; i++) gs[i] = new G(rt) { Goid = firstGoid + i };
        return gs;
    }

    private static G? Get(GoRuntime rt, P pp) => rt.RunqGet(pp, out _);

    /// <summary>Everything on the global queue, head first, without taking it off.</summary>
    private static List<G> GlobalQueue(GoRuntime rt)
    {
        using (rt.SchedState.Lock.EnterScope()) return [.. rt.SchedState.Runq.ToArray()];
    }

    /// <summary>Everything pp's owner would run, in order (runnext first), taking it off.</summary>
    private static List<G> Drain(GoRuntime rt, P pp)
    {
        var list = new List<G>();
        while (Get(rt, pp) is { } g) list.Add(g);
        return list;
    }

    // --- Go's tests ---

    /// <summary>
    /// Go's TestSchedLocalQueue: for every fill level below the ring size, put i times and get i
    /// times; nothing before, nothing after, and nothing spills to the global queue.
    /// </summary>
    [Theory]
    [InlineData(4)]
    [InlineData(256)]
    public void TestSchedLocalQueue(int runqSize)
    {
        using var rt = NewRuntime(runqSize: runqSize);
        P pp = rt.AllP[0];
        var gs = NewGs(rt, runqSize);
        for (int i = 0; i < runqSize; i++)
        {
            Assert.Null(Get(rt, pp)); // runq is not empty initially
            for (int j = 0; j < i; j++) rt.RunqPut(pp, gs[i], next: false);
            for (int j = 0; j < i; j++)
            {
                var g = rt.RunqGet(pp, out bool inheritTime);
                Assert.Same(gs[i], g); // bad element at iter i/j
                Assert.False(inheritTime);
            }
            Assert.Null(Get(rt, pp)); // runq is not empty afterwards
        }
        Assert.Equal(0, rt.SchedState.RunqSize);
    }

    /// <summary>
    /// Go's TestSchedLocalQueueSteal: with i Gs on p1, runqsteal(p2, p1, true) takes i/2 or i/2+1
    /// of them, and draining both queues sees every G exactly once.
    /// </summary>
    [Theory]
    [InlineData(4)]
    [InlineData(256)]
    public void TestSchedLocalQueueSteal(int runqSize)
    {
        using var rt = NewRuntime(runqSize: runqSize);
        P p1 = rt.AllP[0], p2 = rt.AllP[1];
        var gs = NewGs(rt, runqSize);
        for (int i = 0; i < runqSize; i++)
        {
            var sig = new Dictionary<G, int>();
            for (int j = 0; j < i; j++) { sig[gs[j]] = 0; rt.RunqPut(p1, gs[j], next: false); }
            int s = 0;
            if (rt.RunqSteal(p2, p1, stealRunNextG: true) is { } gp) { s++; sig[gp]++; }
            foreach (var g in Drain(rt, p2)) { s++; sig[g]++; }
            foreach (var g in Drain(rt, p1)) sig[g]++;
            for (int j = 0; j < i; j++) Assert.Equal(1, sig[gs[j]]); // bad element j at iter i
            Assert.True(s == i / 2 || s == i / 2 + 1, $"bad steal {s}, want {i / 2} or {i / 2 + 1}, iter {i}");
        }
    }

    /// <summary>
    /// Go's TestSchedLocalQueueEmpty: runqempty must never report a queue empty that always holds at
    /// least one G, while the owner moves Gs between runnext and the ring (runqput's kick-out, then
    /// runqget) concurrently with the check. Every combination of next flags is exercised. Differs
    /// from Go: the two threads meet with SpinWait, which yields now and then, instead of a bare
    /// spin, so that the test cannot starve on a busy two-core machine.
    /// </summary>
    [Fact]
    public void TestSchedLocalQueueEmpty()
    {
        const int iters = 50_000;
        using var rt = NewRuntime(runqSize: 4);
        P pp = rt.AllP[0];
        var gs = NewGs(rt, 2);
        int ready = 0, round = -1, checkedRound = -1, spuriouslyEmpty = 0, abort = 0;
        string? firstFailure = null;
        bool Aborted() => Volatile.Read(ref abort) == 1;

        var checker = new Thread(() =>
        {
            for (int i = 0; i < iters && !Aborted(); i++)
            {
                var spin = new SpinWait();
                while (Volatile.Read(ref round) != i && !Aborted()) spin.SpinOnce(sleep1Threshold: -1);
                Interlocked.Increment(ref ready);
                spin = new SpinWait();
                while (Volatile.Read(ref ready) != 2 && !Aborted()) spin.SpinOnce(sleep1Threshold: -1);
                if (GoRuntime.RunqEmpty(pp) && Interlocked.Increment(ref spuriouslyEmpty) == 1)
                    firstFailure = $"queue is empty at iter {i} (next: {(i & 1) == 0} {(i & 2) == 0})";
                Volatile.Write(ref checkedRound, i);
            }
        }) { IsBackground = true, Name = "runqempty-checker" };
        checker.Start();

        try
        {
            for (int i = 0; i < iters; i++)
            {
                Volatile.Write(ref ready, 0);
                bool next0 = (i & 1) == 0, next1 = (i & 2) == 0;
                rt.RunqPut(pp, gs[0], next0);
                Volatile.Write(ref round, i);
                Interlocked.Increment(ref ready);
                var spin = new SpinWait();
                while (Volatile.Read(ref ready) != 2) spin.SpinOnce(sleep1Threshold: -1);
                rt.RunqPut(pp, gs[1], next1);
                Assert.NotNull(Get(rt, pp));
                spin = new SpinWait();
                while (Volatile.Read(ref checkedRound) != i) spin.SpinOnce(sleep1Threshold: -1);
                Assert.NotNull(Get(rt, pp));
                Assert.True(GoRuntime.RunqEmpty(pp));
            }
        }
        finally { Volatile.Write(ref abort, 1); }
        Assert.True(checker.Join(TimeSpan.FromMinutes(1)));
        Assert.True(spuriouslyEmpty == 0, firstFailure);
    }

    // --- runqput ---

    [Fact]
    public void RunqPutNextKicksTheOldRunnextToTheTailOfTheRing()
    {
        using var rt = NewRuntime();
        P pp = rt.AllP[0];
        var (a, b, c) = (new G(rt) { Goid = 1 }, new G(rt) { Goid = 2 }, new G(rt) { Goid = 3 });

        rt.RunqPut(pp, a, next: false);
        rt.RunqPut(pp, b, next: true);
        Assert.Same(b, pp.RunNext);
        rt.RunqPut(pp, c, next: true); // b is kicked out behind a
        Assert.Same(c, pp.RunNext);

        var g = rt.RunqGet(pp, out bool inheritTime);
        Assert.Same(c, g);
        Assert.True(inheritTime); // runnext inherits the time slice
        g = rt.RunqGet(pp, out inheritTime);
        Assert.Same(a, g);
        Assert.False(inheritTime);
        Assert.Same(b, Get(rt, pp));
        Assert.Null(Get(rt, pp));
        Assert.Equal(1, pp.Counters.RunNextHits);
    }

    [Fact]
    public void RunnextOffPutsNextOnTheRing()
    {
        using var rt = NewRuntime(extra: "runnext=0");
        P pp = rt.AllP[0];
        var gs = NewGs(rt, 2);
        rt.RunqPut(pp, gs[0], next: true);
        rt.RunqPut(pp, gs[1], next: true);
        Assert.Null(pp.RunNext);
        Assert.Equal(gs, Drain(rt, pp));
    }

    /// <summary>
    /// A full ring of 4: the fifth put moves the older half (2) plus the new G to the global queue
    /// in one batch, in queue order (runqputslow), and leaves the newer half on the ring.
    /// </summary>
    [Fact]
    public void RunqPutOnAFullRingMovesHalfPlusOneToTheGlobalQueueInOrder()
    {
        using var rt = NewRuntime(procs: 1, runqSize: 4);
        P pp = rt.AllP[0];
        var gs = NewGs(rt, 6);
        for (int i = 0; i < 4; i++) rt.RunqPut(pp, gs[i], next: false);
        Assert.Equal(0, rt.SchedState.RunqSize);

        rt.RunqPut(pp, gs[4], next: false);

        Assert.Equal(3, rt.SchedState.RunqSize);
        Assert.Equal(new[] { gs[0], gs[1], gs[4] }, GlobalQueue(rt));
        rt.RunqPut(pp, gs[5], next: false); // room again: stays local
        Assert.Equal(3, rt.SchedState.RunqSize);
        Assert.Equal(new[] { gs[2], gs[3], gs[5] }, Drain(rt, pp));
    }

    /// <summary>
    /// runqputbatch (injectglist's tail): the ring's free slots take the list in order and the rest
    /// goes to the global queue in one batch. Put one by one, each overflow moved half the ring
    /// to the global queue instead (a ring of 4 holding 3, given 4 more: 4 local and 3 global in
    /// order, where runqput ended with 3 local and 4 global, out of order).
    /// </summary>
    [Fact]
    public void RunqPutBatchFillsTheRingInOrderAndOverflowsTheRestAsOneBatch()
    {
        using var rt = NewRuntime(procs: 1, runqSize: 4);
        P pp = rt.AllP[0];
        var gs = NewGs(rt, 7);
        for (int i = 0; i < 3; i++) rt.RunqPut(pp, gs[i], next: false);
        for (int i = 3; i < 6; i++) gs[i].SchedLink = gs[i + 1];
        rt.RunqPutBatch(pp, gs[3], 4);
        Assert.Equal(new[] { gs[4], gs[5], gs[6] }, GlobalQueue(rt));
        Assert.Equal(3, rt.SchedState.RunqSize);
        Assert.Equal(new[] { gs[0], gs[1], gs[2], gs[3] }, Drain(rt, pp));
        Assert.All(gs, g => Assert.Null(g.SchedLink));
    }

    /// <summary>runqput(next) on a full ring with a runnext: the kicked-out runnext is the "+1" of the batch.</summary>
    [Fact]
    public void KickedOutRunnextOverflowsWithTheOlderHalf()
    {
        using var rt = NewRuntime(procs: 1, runqSize: 4);
        P pp = rt.AllP[0];
        var gs = NewGs(rt, 6);
        for (int i = 0; i < 4; i++) rt.RunqPut(pp, gs[i], next: false);
        rt.RunqPut(pp, gs[4], next: true);
        Assert.Equal(0, rt.SchedState.RunqSize);

        rt.RunqPut(pp, gs[5], next: true);

        Assert.Equal(new[] { gs[0], gs[1], gs[4] }, GlobalQueue(rt));
        Assert.Equal(new[] { gs[5], gs[2], gs[3] }, Drain(rt, pp));
    }

    /// <summary>randomizeScheduler shuffles runqputslow's batch: the same Gs reach the global queue, in some order.</summary>
    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    public void RandomizedOverflowMovesTheSameGs(int runqSize)
    {
        using var rt = NewRuntime(procs: 1, runqSize: runqSize, extra: "randomizescheduler=1,seed=7");
        P pp = rt.AllP[0];
        var gs = NewGs(rt, runqSize + 1);
        for (int i = 0; i < runqSize; i++) rt.RunqPut(pp, gs[i], next: false);
        rt.RunqPut(pp, gs[runqSize], next: false);

        var moved = GlobalQueue(rt);
        var expected = gs.Take(runqSize / 2).Append(gs[runqSize]).ToHashSet();
        Assert.Equal(runqSize / 2 + 1, rt.SchedState.RunqSize);
        Assert.Equal(expected.Count, moved.Count);
        Assert.True(expected.SetEquals(moved));
        Assert.Equal(gs.Skip(runqSize / 2).Take(runqSize / 2), Drain(rt, pp));
    }

    // --- runqsteal / runqgrab ---

    /// <summary>runqsteal takes the older half (rounded up) of the victim's ring and returns the last G it took.</summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 2)]
    public void RunqStealTakesTheOlderHalf(int queued, int stolen)
    {
        using var rt = NewRuntime(runqSize: 4);
        P victim = rt.AllP[0], thief = rt.AllP[1];
        var gs = NewGs(rt, queued);
        foreach (var g in gs) rt.RunqPut(victim, g, next: false);

        var got = rt.RunqSteal(thief, victim, stealRunNextG: false);

        Assert.Same(gs[stolen - 1], got);
        Assert.Equal(gs.Take(stolen - 1), Drain(rt, thief));
        Assert.Equal(gs.Skip(stolen), Drain(rt, victim));
        Assert.Equal(1, thief.Counters.StealOps);
        Assert.Equal(stolen, thief.Counters.StolenGs);
    }

    [Fact]
    public void RunqStealFromAnEmptyQueueTakesNothing()
    {
        using var rt = NewRuntime(runqSize: 4);
        Assert.Null(rt.RunqSteal(rt.AllP[1], rt.AllP[0], stealRunNextG: true));
        Assert.Equal(0, rt.AllP[1].Counters.StealOps);
    }

    /// <summary>runnext is taken only on the last steal try (stealRunNextG), and only when the ring is empty.</summary>
    [Fact]
    public void RunnextIsStolenOnlyWhenStealRunNextG()
    {
        using var rt = NewRuntime(runqSize: 4);
        P victim = rt.AllP[0], thief = rt.AllP[1];
        var gs = NewGs(rt, 2);
        rt.RunqPut(victim, gs[0], next: true);

        Assert.Null(rt.RunqSteal(thief, victim, stealRunNextG: false));
        Assert.Same(gs[0], victim.RunNext);

        Assert.Same(gs[0], rt.RunqSteal(thief, victim, stealRunNextG: true));
        Assert.Null(victim.RunNext);
        Assert.True(GoRuntime.RunqEmpty(victim));

        // With Gs on the ring, even the last try leaves runnext alone.
        rt.RunqPut(victim, gs[0], next: true);
        rt.RunqPut(victim, gs[1], next: false);
        Assert.Same(gs[1], rt.RunqSteal(thief, victim, stealRunNextG: true));
        Assert.Same(gs[0], victim.RunNext);
    }

    /// <summary>A running victim's runnext is still stolen after the short back-off (the victim did not take it meanwhile).</summary>
    [Fact]
    public void RunnextOfARunningVictimIsStolenAfterTheBackOff()
    {
        using var rt = NewRuntime(runqSize: 4);
        P victim = rt.AllP[0], thief = rt.AllP[1];
        var g = new G(rt) { Goid = 1 };
        rt.RunqPut(victim, g, next: true);
        Volatile.Write(ref victim.Status, (int)PStatus.Running);
        try
        {
            Assert.Same(g, rt.RunqSteal(thief, victim, stealRunNextG: true));
            Assert.Null(victim.RunNext);
        }
        finally { Volatile.Write(ref victim.Status, (int)PStatus.Idle); }
    }

    // --- globrunqget ---

    /// <summary>
    /// globrunqget takes size/gomaxprocs+1, at most max (if max &gt; 0), at most half the ring and at
    /// most what is there; returns the head and puts the rest, in order, on the local queue.
    /// </summary>
    [Theory]
    [InlineData(1, 256, 10, 0, 10)]  // all of it: 10/1+1 capped by size
    [InlineData(4, 256, 10, 0, 3)]   // fair share: 10/4+1
    [InlineData(2, 256, 100, 1, 1)]  // max (findRunnable's every-61-ticks check)
    [InlineData(2, 256, 100, 20, 20)]
    [InlineData(1, 4, 10, 0, 2)]     // half the ring
    [InlineData(1, 16, 100, 5, 5)]
    [InlineData(2, 8, 3, 0, 2)]
    [InlineData(3, 256, 1, 0, 1)]
    public void GlobRunqGetTakesItsFairShareCapped(int procs, int runqSize, int queued, int max, int want)
    {
        using var rt = NewRuntime(procs, runqSize);
        P pp = rt.AllP[0];
        var gs = NewGs(rt, queued);
        G? got;
        using (rt.SchedState.Lock.EnterScope())
        {
            foreach (var g in gs) rt.GlobRunqPut(g);
            Assert.Equal(queued, rt.SchedState.RunqSize);
            got = rt.GlobRunqGet(pp, max);
        }
        Assert.Same(gs[0], got);
        Assert.Equal(queued - want, rt.SchedState.RunqSize);
        Assert.Equal(gs.Skip(want), GlobalQueue(rt));
        Assert.Equal(gs.Skip(1).Take(want - 1), Drain(rt, pp));
        Assert.Equal(1, pp.Counters.GlobalRunqTakes);
    }

    [Fact]
    public void GlobRunqGetOnAnEmptyQueueReturnsNull()
    {
        using var rt = NewRuntime();
        using (rt.SchedState.Lock.EnterScope()) Assert.Null(rt.GlobRunqGet(rt.AllP[0], 0));
        Assert.Equal(0, rt.AllP[0].Counters.GlobalRunqTakes);
    }

    [Fact]
    public void GlobRunqPutBatchAppendsInOrder()
    {
        using var rt = NewRuntime();
        var gs = NewGs(rt, 5);
        for (int i = 2; i < 4; i++) gs[i].SchedLink = gs[i + 1];
        using (rt.SchedState.Lock.EnterScope())
        {
            rt.GlobRunqPut(gs[0]);
            rt.GlobRunqPut(gs[1]);
            rt.GlobRunqPutBatch(gs[2], 3);
        }
        Assert.Equal(5, rt.SchedState.RunqSize);
        Assert.Equal(gs, GlobalQueue(rt));
        Assert.All(gs, g => Assert.Null(g.SchedLink)); // netpoll's list links are dropped
    }

    /// <summary>
    /// The global queue is a ring that grows: FIFO order survives growth with the head anywhere in
    /// the ring, puts at the head (globrunqputhead) and batches, and the count stays in step.
    /// </summary>
    [Fact]
    public void GlobalQueueKeepsOrderAcrossGrowthAndHeadPuts()
    {
        using var rt = NewRuntime();
        var gs = NewGs(rt, 1000);
        var expected = new List<G>();
        int next = 0;
        using (rt.SchedState.Lock.EnterScope())
        {
            // Move the head around the ring before it grows several times (256 -> 512 -> 1024).
            for (int i = 0; i < 200; i++) rt.GlobRunqPut(gs[next++]);
            for (int i = 0; i < 150; i++) Assert.Same(gs[i], rt.SchedState.Runq.PopFront());
            rt.SchedState.RunqSize -= 150;
            expected.AddRange(gs[150..200]);
            rt.GlobRunqPutBatch(gs[next..(next + 129)], 129);
            expected.AddRange(gs[next..(next + 129)]);
            next += 129;
            while (next < 999) { rt.GlobRunqPut(gs[next]); expected.Add(gs[next]); next++; }
            rt.SchedState.Runq.PushFront(gs[999]);
            rt.SchedState.RunqSize++;
            expected.Insert(0, gs[999]);
        }
        Assert.Equal(expected.Count, rt.SchedState.RunqSize);
        Assert.Equal(expected, GlobalQueue(rt));
        var taken = new List<G>();
        using (rt.SchedState.Lock.EnterScope())
            while (rt.SchedState.Runq.PopFront() is { } g) taken.Add(g);
        Assert.Equal(expected, taken);
        Assert.Equal(0, rt.SchedState.Runq.Count);
    }

    // --- concurrency ---

    /// <summary>
    /// One owner puts (sometimes into runnext) and gets on its P, overflowing into the global queue,
    /// while thieves steal into their own Ps (sometimes runnext too) and run what they took. After
    /// every round, each G was taken exactly once: by the owner, a thief, or from the global queue.
    /// </summary>
    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 3)]
    [InlineData(8, 2)]
    [InlineData(256, 2)]
    public void ConcurrentStealSeesEveryGExactlyOnce(int runqSize, int thieves)
    {
        const int rounds = 200, perRound = 2_000;
        using var rt = NewRuntime(procs: thieves + 1, runqSize: runqSize);
        P owner = rt.AllP[0];
        Volatile.Write(ref owner.Status, (int)PStatus.Running); // thieves back off before taking its runnext
        var gs = NewGs(rt, perRound);
        var seen = new int[perRound];
        void Take(G g) => Interlocked.Increment(ref seen[g.Goid - 1]);

        for (int round = 0; round < rounds; round++)
        {
            Array.Clear(seen);
            int ownerDone = 0;
            var failures = new List<Exception>();
            var threads = new Thread[thieves];
            for (int t = 0; t < thieves; t++)
            {
                P mine = rt.AllP[t + 1];
                int seed = round * 31 + t;
                threads[t] = new Thread(() =>
                {
                    try
                    {
                        var rand = new Random(seed);
                        var idle = new SpinWait();
                        while (true)
                        {
                            bool last = Volatile.Read(ref ownerDone) == 1;
                            if (rt.RunqSteal(mine, owner, stealRunNextG: rand.Next(4) == 0) is { } g)
                            {
                                Take(g);
                                while (Get(rt, mine) is { } h) Take(h);
                            }
                            else idle.SpinOnce(sleep1Threshold: -1);
                            if (last) break;
                        }
                    }
                    catch (Exception e) { lock (failures) failures.Add(e); }
                }) { IsBackground = true, Name = $"thief-{t}" };
                threads[t].Start();
            }

            var ownerRand = new Random(round);
            for (int i = 0; i < perRound; i++)
            {
                rt.RunqPut(owner, gs[i], next: ownerRand.Next(3) == 0);
                if (ownerRand.Next(3) == 0 && Get(rt, owner) is { } g) Take(g);
            }
            Volatile.Write(ref ownerDone, 1);
            while (Get(rt, owner) is { } g) Take(g);
            foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(1)));
            Assert.Empty(failures);

            // What overflowed: the global queue, as findRunnable would take it.
            while (true)
            {
                G? g;
                using (rt.SchedState.Lock.EnterScope()) g = rt.GlobRunqGet(owner, 0);
                if (g == null) break;
                Take(g);
                while (Get(rt, owner) is { } h) Take(h);
            }

            for (int i = 0; i < perRound; i++)
                Assert.True(seen[i] == 1, $"round {round}: G {i + 1} taken {seen[i]} times");
            Assert.All(rt.AllP, p => Assert.True(GoRuntime.RunqEmpty(p)));
            Assert.Equal(0, rt.SchedState.RunqSize);
        }
        // Not vacuous: the thieves did take work while the owner was putting and getting.
        Assert.True(rt.AllP.Skip(1).Sum(p => p.Counters.StolenGs) > 0, "no thief ever stole");
    }

    /// <summary>
    /// The fields thieves write (runqhead, runnext) and read on every steal (runqtail) share no
    /// 64-byte cache line with the owner's hot fields, wherever the P is placed (objects are only
    /// 8-byte aligned): every such field is at least 64 bytes away from the shared block. The runtime
    /// lays a class's fields out itself and put them side by side before RunqShared.
    /// </summary>
    [Fact]
    public void FieldsThievesWriteHaveACacheLineToThemselves()
    {
        var pp = new P(0, 256);
        long Offset<T>(ref T field) => FieldOffset(pp, ref field);
        long head = 0, tail = Offset(ref pp.RunqTail), next = Offset(ref pp.RunNext);
        long lo = Math.Min(head, Math.Min(tail, next)), hi = Math.Max(head + 4, Math.Max(tail + 4, next + 8));
        Assert.True(hi - lo <= 16, $"runqhead, runqtail and runnext are spread over {hi - lo} bytes");
        var owners = new (string Name, long Offset, int Size)[]
        {
            ("Status", Offset(ref pp.Status), 4), ("SchedTick", Offset(ref pp.SchedTick), 8),
            ("GoidCache", Offset(ref pp.GoidCache), 8), ("GoidCacheEnd", Offset(ref pp.GoidCacheEnd), 8),
            ("GStarted", Offset(ref pp.GStarted), 8), ("GFinished", Offset(ref pp.GFinished), 8),
            ("GFree", Offset(ref pp.GFree), 16), ("Counters", Offset(ref pp.Counters), 72),
            ("NumTimers", Offset(ref pp.NumTimers), 4), ("Timer0When", Offset(ref pp.Timer0When), 8),
        };
        foreach (var (name, off, size) in owners)
        {
            long gap = off >= hi ? off - hi : lo - (off + size);
            Assert.True(gap >= 64, $"{name} is {gap} bytes from the fields thieves write (needs 64 so that no cache line holds both)");
        }
    }

    /// <summary>Where field lies relative to pp's runqhead, in bytes.</summary>
    private static long FieldOffset<T>(P pp, ref T field) =>
        System.Runtime.CompilerServices.Unsafe.ByteOffset(
            ref System.Runtime.CompilerServices.Unsafe.As<uint, byte>(ref pp.RunqHead),
            ref System.Runtime.CompilerServices.Unsafe.As<T, byte>(ref field));
}
