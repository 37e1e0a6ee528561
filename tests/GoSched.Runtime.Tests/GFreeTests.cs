// The free-G lists (GFree.cs), driven directly on the Ps of a runtime that is constructed but never
// started: the test thread plays the owner M. Go's rules (proc.go gfput, gfget): a P's list that
// reaches 64 moves Gs to the global list, from its top, while it holds 32 or more, so 31 stay and
// 33 move; an empty list takes Gs from the global one until it holds 32 (or the global list is
// empty), Gs with bodies first, and hands out one of them. No G is ever lost or held twice.
namespace GoSched.Tests;

public class GFreeTests
{
    private static GoRuntime NewRuntime() => new(GoConfig.Parse("gomaxprocs=2,sampleperiodus=0"));

    /// <summary>n Gs as goexit leaves them (Dead), optionally with a body, as a finished goroutine's.</summary>
    private static G[] DeadGs(GoRuntime rt, int n, Func<int, bool>? withBody = null)
    {
        var gs = new G[n];
        for (int i = 0; i < n; i++)
        {
            gs[i] = new G(rt) { Goid = i + 1 };
            if (withBody?.Invoke(i) == true) gs[i].Body = new GBody<NoOp>();
            GoRuntime.CasGStatus(gs[i], GStatus.Idle, GStatus.Dead);
        }
        return gs;
    }

    private struct NoOp : System.Runtime.CompilerServices.IAsyncStateMachine
    {
        public void MoveNext() { }
        public void SetStateMachine(System.Runtime.CompilerServices.IAsyncStateMachine stateMachine) { }
    }

    private static void GFPut(GoRuntime rt, P pp, G gp) => Private.Call(rt, "GFPut", pp, gp);
    private static G? GFGet(GoRuntime rt, P pp) => (G?)Private.Call(rt, "GFGet", pp);

    /// <summary>A free list's Gs, top (the next to be taken) first.</summary>
    private static List<G> Items(GStack s)
    {
        var list = new List<G>();
        for (int d = 0; d < s.Count; d++) list.Add(s.Peek(d)!);
        return list;
    }

    /// <summary>Every G on a free list: each P's, then the global ones.</summary>
    private static List<G> AllFree(GoRuntime rt)
    {
        var all = rt.AllP.SelectMany(p => Items(p.GFree)).ToList();
        using (rt.SchedState.GFreeLock.EnterScope())
        {
            all.AddRange(Items(rt.SchedState.GFreeWithBody));
            all.AddRange(Items(rt.SchedState.GFreeNoBody));
            Assert.Equal(rt.SchedState.GFreeWithBody.Count + rt.SchedState.GFreeNoBody.Count, rt.SchedState.GFreeCount);
        }
        return all;
    }

    /// <summary>The free lists hold exactly <paramref name="expected"/>, each G once.</summary>
    private static void AssertFreeAre(GoRuntime rt, IEnumerable<G> expected)
    {
        var all = AllFree(rt);
        Assert.Equal(all.Count, all.Distinct().Count()); // no G on two lists, or twice on one
        Assert.Equal(expected.OrderBy(g => g.Goid), all.OrderBy(g => g.Goid));
    }

    [Fact]
    public void GfputMovesTheTop33ToTheGlobalListWhenTheLocalOneReaches64()
    {
        using var rt = NewRuntime();
        P pp = rt.AllP[0];
        var gs = DeadGs(rt, 64 + 33);
        for (int i = 0; i < 63; i++)
        {
            GFPut(rt, pp, gs[i]);
            Assert.Equal(i + 1, pp.GFreeCount);
            Assert.Equal(0, rt.SchedState.GFreeCount); // below 64 nothing moves
        }

        GFPut(rt, pp, gs[63]);
        Assert.Equal(31, pp.GFreeCount);
        Assert.Equal(33, rt.SchedState.GFreeCount);
        // The P keeps the Gs freed first; the batch is the ones freed last, the 64th included.
        Assert.Equal(gs[..31].Reverse(), Items(pp.GFree));
        Assert.Equal(gs[31..64], Items(rt.SchedState.GFreeNoBody).OrderBy(g => g.Goid));
        AssertFreeAre(rt, gs[..64]);

        // 33 more frees bring the P back to 64, and another batch of 33 moves.
        for (int i = 64; i < gs.Length - 1; i++) GFPut(rt, pp, gs[i]);
        Assert.Equal(63, pp.GFreeCount);
        Assert.Equal(33, rt.SchedState.GFreeCount);
        GFPut(rt, pp, gs[^1]);
        Assert.Equal(31, pp.GFreeCount);
        Assert.Equal(66, rt.SchedState.GFreeCount);
        AssertFreeAre(rt, gs);
        Assert.Equal(0, rt.AllP[1].GFreeCount); // another P's list is not touched
    }

    [Fact]
    public void GfgetRefillsAnEmptyListWith32FromTheGlobalOne()
    {
        using var rt = NewRuntime();
        P spiller = rt.AllP[0], pp = rt.AllP[1];
        var gs = DeadGs(rt, 64);
        foreach (var g in gs) GFPut(rt, spiller, g); // 31 stay on spiller, 33 go global
        Assert.Equal(33, rt.SchedState.GFreeCount);

        var taken = new List<G>();
        // The empty list takes a batch of 32 and hands out one of them.
        taken.Add(GFGet(rt, pp)!);
        Assert.Equal(31, pp.GFreeCount);
        Assert.Equal(1, rt.SchedState.GFreeCount);
        AssertFreeAre(rt, gs.Except(taken));

        // While the local list has Gs, the global one is not touched.
        for (int i = 0; i < 31; i++)
        {
            taken.Add(GFGet(rt, pp)!);
            Assert.Equal(30 - i, pp.GFreeCount);
            Assert.Equal(1, rt.SchedState.GFreeCount);
        }

        // Empty again: the batch is whatever the global list has left, here one G.
        taken.Add(GFGet(rt, pp)!);
        Assert.Equal(0, pp.GFreeCount);
        Assert.Equal(0, rt.SchedState.GFreeCount);
        Assert.Null(GFGet(rt, pp)); // nothing anywhere for this P
        Assert.Equal(33, taken.Count);
        Assert.Equal(taken.Count, taken.Distinct().Count()); // no G handed out twice
        AssertFreeAre(rt, gs.Except(taken)); // the spiller's 31 are all that is left
        Assert.Equal(31, spiller.GFreeCount);
    }

    [Fact]
    public void GfgetTakesGsWithBodiesFirst()
    {
        using var rt = NewRuntime();
        P spiller = rt.AllP[0], pp = rt.AllP[1];
        // The 33 that move are gs[31..64]; 16 of them have a body (the odd ones from 33 on).
        var gs = DeadGs(rt, 64, i => i >= 33 && i % 2 == 1);
        foreach (var g in gs) GFPut(rt, spiller, g);
        Assert.Equal(16, rt.SchedState.GFreeWithBody.Count);
        Assert.Equal(17, rt.SchedState.GFreeNoBody.Count);

        var first = GFGet(rt, pp)!;
        // All 16 with a body and 16 without moved; the one left global has no body.
        Assert.Equal(0, rt.SchedState.GFreeWithBody.Count);
        Assert.Equal(1, rt.SchedState.GFreeNoBody.Count);
        Assert.Null(rt.SchedState.GFreeNoBody.Peek(0)!.Body);
        var local = Items(pp.GFree).Prepend(first).ToList();
        Assert.Equal(16, local.Count(g => g.Body != null));
        AssertFreeAre(rt, gs.Except([first]));
    }

    /// <summary>
    /// Random frees and gets on two Ps: after every step the free lists hold exactly the Gs that
    /// are free, each once; a P's list stays below 64; a refill leaves 31 (32 less the G handed
    /// out) whenever the global list had 32 to give.
    /// </summary>
    [Fact]
    public void RandomPutsAndGetsConserveTheGs()
    {
        using var rt = NewRuntime();
        var rand = new Random(12345);
        var free = new HashSet<G>();
        var live = new List<G>(DeadGs(rt, 400)); // dead Gs not on any list: "running" goroutines
        int spills = 0, refills = 0;
        for (int step = 0; step < 5_000; step++)
        {
            P pp = rt.AllP[rand.Next(2)];
            // Runs of frees and of gets, so that lists fill past 64 and drain to empty.
            bool put = live.Count > 0 && (free.Count == 0 || (step / 300) % 2 == 0 ? rand.Next(10) < 8 : rand.Next(10) < 2);
            if (put)
            {
                int i = rand.Next(live.Count);
                G g = live[i];
                live.RemoveAt(i);
                int global = rt.SchedState.GFreeCount;
                GFPut(rt, pp, g);
                free.Add(g);
                if (rt.SchedState.GFreeCount != global)
                {
                    spills++;
                    Assert.Equal(31, pp.GFreeCount);
                    Assert.Equal(global + 33, rt.SchedState.GFreeCount);
                }
            }
            else
            {
                bool refill = pp.GFreeCount == 0;
                int global = rt.SchedState.GFreeCount;
                G? g = GFGet(rt, pp);
                if (g == null)
                {
                    Assert.Equal(0, pp.GFreeCount);
                    Assert.Equal(0, rt.SchedState.GFreeCount);
                    continue;
                }
                Assert.True(free.Remove(g), $"step {step}: gfget handed out G{g.Goid}, which was not free");
                live.Add(g);
                if (refill)
                {
                    refills++;
                    Assert.Equal(Math.Min(global, 32) - 1, pp.GFreeCount);
                    Assert.Equal(global - Math.Min(global, 32), rt.SchedState.GFreeCount);
                }
            }
            Assert.True(pp.GFreeCount < 64, $"step {step}: P{pp.Id} holds {pp.GFreeCount} free Gs");
            AssertFreeAre(rt, free);
        }
        Assert.Equal(400, free.Count + live.Count);
        Assert.True(spills > 5 && refills > 5, $"{spills} spills and {refills} refills: the walk did not exercise the batches");
    }
}
