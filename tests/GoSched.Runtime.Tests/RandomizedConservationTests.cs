// Conservation under a randomised schedule: run queues shrunk to 4 slots (so runqputslow, the
// global queue and stealing run all the time) and Go's race-mode randomizeScheduler with a seed,
// over GOMAXPROCS 1..4. Each run mixes the ways goroutines meet: a tree of spawns with nested
// WaitGroups, channel pipelines (buffered and unbuffered, with a select-driven queue stage),
// selects over several channels (fan-in receiving, fan-out sending, polling with default) and
// goroutines contending for a Mutex.
//
// What must hold, whatever the schedule: every goroutine spawned ran exactly once and reached its
// end exactly once; every value sent on a channel was received exactly once; the mutex admitted
// one goroutine at a time; the run ended without an error (a broken invariant would end it with a
// RuntimeInvariantException, a lost goroutine with a deadlock or "checkdead: runnable g").
// Goroutine ids and values are handed out by the spawner/sender, not by the goroutine itself, so a
// goroutine that never ran still shows up as a zero in the ledger.
namespace GoSched.Tests;

public class RandomizedConservationTests
{
    public static IEnumerable<object[]> Seeds()
    {
        for (int seed = 1; seed <= 30; seed++)
            for (int procs = 1; procs <= 4; procs++)
                yield return new object[] { seed, procs };
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void EveryGoroutineAndEveryValueIsConserved(int seed, int procs)
    {
        // Some seeds also preempt Go.Work after 20 µs and check the global queue every other tick,
        // so the preemption and fairness paths take their share of the randomised schedule. (Not
        // every tick: with globalrunqcheck=1, which the config refuses, the global queue would always
        // go first, so at GOMAXPROCS=1 a goroutine polling with select-default and Gosched would
        // starve the local queue for good, in Go's algorithm as in ours.)
        string knobs = $"gomaxprocs={procs},runqsize=4,randomizescheduler=1,seed={seed},sampleperiodus=0"
            + (seed % 2 == 0 ? ",forcepreemptns=20000" : "")
            + (seed % 3 == 0 ? ",globalrunqcheck=2" : "");
        var shape = Shape.From(seed);
        var ledger = new Ledger();

        using var rt = new GoRuntime(GoConfig.Parse(knobs));
        var r = rt.Run(() => Workload(shape, ledger), TimeSpan.FromSeconds(60));

        if (r.Error is RuntimeInvariantException inv) Assert.Fail($"[{knobs}] invariant check fired: {inv.Message}");
        Assert.True(r.Error == null, $"[{knobs}] run failed: {r.Error}");
        ledger.AssertConserved(knobs);
        Assert.Equal(ledger.Spawned + 1, r.GoroutinesStarted); // + main
    }

    /// <summary>What one seed runs: sizes drawn once, on the test thread.</summary>
    private sealed record Shape(
        int TreeDepth, int TreeFanout,
        int[][] PipelineCaps, int[] PipelineWorkers, int PipelineValues, bool QueueStage,
        int[] FanInCaps, int FanInPerProducer, bool FanInPolls,
        int[] FanOutCaps, int FanOutValues,
        int Lockers, int LockRounds)
    {
        public static Shape From(int seed)
        {
            var r = new Random(seed);
            int[] Caps(int n) => Enumerable.Range(0, n).Select(_ => r.Next(4) switch { 0 or 1 => 0, 2 => 1, _ => 3 }).ToArray();
            int stages = r.Next(1, 4);
            return new Shape(
                TreeDepth: r.Next(3, 6), TreeFanout: r.Next(3, 6),
                PipelineCaps: Enumerable.Range(0, r.Next(1, 3)).Select(_ => Caps(stages + 1)).ToArray(),
                PipelineWorkers: Enumerable.Range(0, stages).Select(_ => r.Next(1, 4)).ToArray(),
                PipelineValues: r.Next(500, 2000), QueueStage: r.Next(2) == 0,
                FanInCaps: Caps(r.Next(2, 6)), FanInPerProducer: r.Next(100, 500), FanInPolls: r.Next(3) == 0,
                FanOutCaps: Caps(r.Next(2, 5)), FanOutValues: r.Next(300, 1000),
                Lockers: r.Next(2, 9), LockRounds: r.Next(100, 400));
        }
    }

    /// <summary>Counts per goroutine id and per channel value, written from any M.</summary>
    private sealed class Ledger
    {
        private const int Capacity = 1 << 16;
        private readonly int[] _ran = new int[Capacity], _finished = new int[Capacity], _delivered = new int[Capacity];
        private int _nextG, _nextValue;
        public long MutexValue;
        public int MutexInside, MutexViolations, MutexExpected;

        public int Spawned => Volatile.Read(ref _nextG);

        /// <summary>The id of a goroutine about to be spawned (called by its spawner).</summary>
        public int Spawn() => Interlocked.Increment(ref _nextG) - 1;

        public void Ran(int id) => Interlocked.Increment(ref _ran[id]);
        public void Finished(int id) => Interlocked.Increment(ref _finished[id]);

        /// <summary>n fresh channel values: [first, first + n).</summary>
        public int NewValues(int n) => Interlocked.Add(ref _nextValue, n) - n;

        public void Delivered(int v) => Interlocked.Increment(ref _delivered[v]);

        public void AssertConserved(string knobs)
        {
            Assert.True(_nextG < Capacity && _nextValue < Capacity, "ledger too small");
            for (int id = 0; id < _nextG; id++)
            {
                if (_ran[id] != 1) Assert.Fail($"[{knobs}] goroutine #{id} ran {_ran[id]} times");
                if (_finished[id] != 1) Assert.Fail($"[{knobs}] goroutine #{id} finished {_finished[id]} times");
            }
            for (int v = 0; v < _nextValue; v++)
                if (_delivered[v] != 1) Assert.Fail($"[{knobs}] value {v} delivered {_delivered[v]} times");
            Assert.True(MutexViolations == 0, $"[{knobs}] {MutexViolations} times two goroutines held the mutex");
            Assert.Equal(MutexExpected, MutexValue);
        }
    }

    private static async GoTask Workload(Shape s, Ledger l)
    {
        var done = new WaitGroup();
        done.Add(4 + s.PipelineCaps.Length);
        Tree(l, l.Spawn(), s, done);
        foreach (var caps in s.PipelineCaps) Pipeline(l, l.Spawn(), s, caps, done);
        FanIn(l, l.Spawn(), s, done);
        FanOut(l, l.Spawn(), s, done);
        Lockers(l, l.Spawn(), s, done);
        await done.Wait();
    }

    // --- a tree of spawns ---

    private static async GoTask Tree(Ledger l, int id, Shape s, WaitGroup done)
    {
        l.Ran(id);
        var all = new WaitGroup();
        all.Add(1);
        Node(l, l.Spawn(), s.TreeDepth, s.TreeFanout, all);
        // A second waiter on the same WaitGroup: both must be released.
        var watcherDone = new WaitGroup();
        watcherDone.Add(1);
        Watcher(l, l.Spawn(), all, watcherDone);
        await all.Wait();
        await watcherDone.Wait();
        l.Finished(id);
        done.Done();
    }

    private static async GoTask Watcher(Ledger l, int id, WaitGroup all, WaitGroup watcherDone)
    {
        l.Ran(id);
        await all.Wait();
        l.Finished(id);
        watcherDone.Done();
    }

    /// <summary>
    /// A node spawns its children; every third waits for them on a WaitGroup of its own (nested
    /// waits), and some yield or do CPU work before they end.
    /// </summary>
    private static async GoTask Node(Ledger l, int id, int depth, int fanout, WaitGroup all, WaitGroup? parent = null)
    {
        l.Ran(id);
        if (depth > 0)
        {
            var kids = id % 3 == 0 ? new WaitGroup() : null;
            kids?.Add(fanout);
            all.Add(fanout); // before our own Done: the tree's count never touches zero early
            for (int k = 0; k < fanout; k++) Node(l, l.Spawn(), depth - 1, fanout, all, kids);
            if (kids != null) await kids.Wait();
        }
        if (id % 4 == 1) await Go.Gosched();
        if (id % 5 == 2) await Go.WorkNs(30_000);
        l.Finished(id);
        parent?.Done();
        all.Done();
    }

    // --- pipelines ---

    /// <summary>producer -> stages of workers (-> a select-driven queue) -> this goroutine, which collects.</summary>
    private static async GoTask Pipeline(Ledger l, int id, Shape s, int[] caps, WaitGroup done)
    {
        l.Ran(id);
        int stages = s.PipelineWorkers.Length;
        var chans = caps.Select(c => new Chan<int>(c)).ToArray();
        Producer(l, l.Spawn(), chans[0], l.NewValues(s.PipelineValues), s.PipelineValues);
        for (int k = 0; k < stages; k++)
        {
            var stageDone = new WaitGroup();
            stageDone.Add(s.PipelineWorkers[k]);
            for (int w = 0; w < s.PipelineWorkers[k]; w++) Stage(l, l.Spawn(), chans[k], chans[k + 1], stageDone);
            Closer(l, l.Spawn(), stageDone, chans[k + 1]);
        }
        var last = chans[stages];
        if (s.QueueStage)
        {
            var q = new Chan<int>(caps[0]);
            Queue(l, l.Spawn(), last, q);
            last = q;
        }
        while (true)
        {
            var (v, ok) = await last.RecvOk();
            if (!ok) break;
            l.Delivered(v);
        }
        l.Finished(id);
        done.Done();
    }

    private static async GoTask Producer(Ledger l, int id, Chan<int> c, int first, int n)
    {
        l.Ran(id);
        for (int i = 0; i < n; i++) await c.Send(first + i);
        c.Close();
        l.Finished(id);
    }

    private static async GoTask Stage(Ledger l, int id, Chan<int> inp, Chan<int> outp, WaitGroup stageDone)
    {
        l.Ran(id);
        while (true)
        {
            var (v, ok) = await inp.RecvOk();
            if (!ok) break;
            await outp.Send(v);
        }
        l.Finished(id);
        stageDone.Done();
    }

    private static async GoTask Closer(Ledger l, int id, WaitGroup stageDone, Chan<int> c)
    {
        l.Ran(id);
        await stageDone.Wait();
        c.Close();
        l.Finished(id);
    }

    /// <summary>
    /// An unbounded queue between two channels: select { case v := &lt;-in: push; case out &lt;- front: pop },
    /// the send case present only when the queue holds something (Go's nil-channel idiom).
    /// </summary>
    private static async GoTask Queue(Ledger l, int id, Chan<int> inp, Chan<int> outp)
    {
        l.Ran(id);
        var q = new Queue<int>();
        bool inOpen = true;
        while (inOpen || q.Count > 0)
        {
            var sel = Go.Select();
            var recv = inOpen ? sel.Recv(inp) : default;
            int send = q.Count > 0 ? sel.Send(outp, q.Peek()) : -2;
            int chosen = await sel;
            if (chosen == send) q.Dequeue();
            else if (inOpen && chosen == recv.Index)
            {
                if (recv.Ok) q.Enqueue(recv.Value); else inOpen = false;
            }
        }
        outp.Close();
        l.Finished(id);
    }

    // --- selects over several channels ---

    /// <summary>Producers on their own channels; this goroutine selects over all that are still open.</summary>
    private static async GoTask FanIn(Ledger l, int id, Shape s, WaitGroup done)
    {
        l.Ran(id);
        var open = s.FanInCaps.Select(c => new Chan<int>(c)).ToList();
        foreach (var c in open) Producer(l, l.Spawn(), c, l.NewValues(s.FanInPerProducer), s.FanInPerProducer);
        var cases = new RecvCase<int>[open.Count];
        while (open.Count > 0)
        {
            var sel = Go.Select();
            for (int k = 0; k < open.Count; k++) cases[k] = sel.Recv(open[k]);
            if (s.FanInPolls) sel.Default();
            int chosen = await sel;
            if (chosen == -1) { await Go.Gosched(); continue; }
            int hit = Array.FindIndex(cases, 0, open.Count, c => c.Index == chosen);
            if (cases[hit].Ok) l.Delivered(cases[hit].Value);
            else open.RemoveAt(hit);
        }
        l.Finished(id);
        done.Done();
    }

    /// <summary>Each value is offered on every channel at once; exactly one consumer must get it.</summary>
    private static async GoTask FanOut(Ledger l, int id, Shape s, WaitGroup done)
    {
        l.Ran(id);
        var chans = s.FanOutCaps.Select(c => new Chan<int>(c)).ToArray();
        var consumers = new WaitGroup();
        consumers.Add(chans.Length);
        foreach (var c in chans) Consumer(l, l.Spawn(), c, consumers);
        int first = l.NewValues(s.FanOutValues);
        for (int i = 0; i < s.FanOutValues; i++)
        {
            var sel = Go.Select();
            foreach (var c in chans) sel.Send(c, first + i);
            await sel;
        }
        foreach (var c in chans) c.Close();
        await consumers.Wait();
        l.Finished(id);
        done.Done();
    }

    private static async GoTask Consumer(Ledger l, int id, Chan<int> c, WaitGroup consumers)
    {
        l.Ran(id);
        while (true)
        {
            var (v, ok) = await c.RecvOk();
            if (!ok) break;
            l.Delivered(v);
        }
        l.Finished(id);
        consumers.Done();
    }

    // --- a mutex ---

    private static async GoTask Lockers(Ledger l, int id, Shape s, WaitGroup done)
    {
        l.Ran(id);
        var mu = new Mutex();
        var wg = new WaitGroup();
        wg.Add(s.Lockers);
        l.MutexExpected = s.Lockers * s.LockRounds;
        for (int k = 0; k < s.Lockers; k++) Locker(l, l.Spawn(), mu, s.LockRounds, wg);
        await wg.Wait();
        l.Finished(id);
        done.Done();
    }

    private static async GoTask Locker(Ledger l, int id, Mutex mu, int rounds, WaitGroup wg)
    {
        l.Ran(id);
        for (int i = 0; i < rounds; i++)
        {
            await mu.Lock();
            if (Interlocked.Increment(ref l.MutexInside) != 1) Interlocked.Increment(ref l.MutexViolations);
            l.MutexValue++;
            if ((i + id) % 7 == 0) await Go.Gosched(); // yield while holding it: others must queue
            Interlocked.Decrement(ref l.MutexInside);
            mu.Unlock();
        }
        l.Finished(id);
        wg.Done();
    }
}
