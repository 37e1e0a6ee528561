namespace GoSched.Tests;

/// <summary>
/// One P's timer heap driven directly, on virtual time, with no M thread running: the runtime is
/// never started, the P and M are made here, and every operation names the P it works on (the
/// test seam of AddTimer/ModTimer). Single-threaded, so every status seen between operations is a
/// resting one (no Running/Moving/Modifying/Removing).
/// </summary>
internal sealed class StandaloneTimers : IDisposable
{
    public readonly GoRuntime Rt;
    public readonly P P;
    public readonly M M;
    /// <summary>Arg of every timer that fired, in firing order.</summary>
    public readonly List<int> Fired = new();

    public StandaloneTimers(string knobs = "")
    {
        Rt = new GoRuntime(GoConfig.Parse("gomaxprocs=1,verifytimers=1" + (knobs.Length > 0 ? "," + knobs : "")));
        P = new P(0, 256);
        M = new M(Rt, 1, 1) { P = P };
    }

    public Action<object?, long> Record => (arg, _) => Fired.Add((int)arg!);

    public RTimer New(long when, int arg, long period = 0) => new() { When = when, Period = period, F = Record, Arg = arg };

    public RTimer Add(long when, int arg, long period = 0)
    {
        var t = New(when, arg, period);
        Rt.AddTimer(t, P);
        return t;
    }

    public bool Mod(RTimer t, long when) => Rt.ModTimer(t, when, t.Period, t.F, t.Arg, t.Seq, P);

    public void Locked(Action<P> a)
    {
        using (P.TimersLock.EnterScope()) a(P);
    }

    public T Locked<T>(Func<P, T> f)
    {
        using (P.TimersLock.EnterScope()) return f(P);
    }

    public void Dispose() => Rt.Dispose();
}

/// <summary>
/// The 4-ary heap and the P's cached timer fields after every operation: random operation sequences
/// (add, stop, modify earlier/later, reset, run due timers, run one timer, cleantimers,
/// adjusttimers, clearDeletedTimers) checked against a model of which timers are pending and when
/// they are due, with many seeds.
/// </summary>
public class TimerHeapTests
{
    private sealed class Model
    {
        public required RTimer T;
        public bool Active;
        public long Due;
    }

    private enum Op { Add, Stop, ModEarlier, ModLater, Reset, CheckTimers, RunOne, Clean, Adjust, ClearDeleted }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void HeapOrderAndCachedFieldsHoldAfterEveryOperation(int seed)
    {
        var rnd = new Random(seed);
        using var h = new StandaloneTimers();
        var timers = new List<Model>();
        long now = 1_000_000;
        var ops = Enum.GetValues<Op>();
        int steps = 400;
        for (int step = 0; step < steps; step++)
        {
            // Adds are weighted so the heap grows to a few dozen timers and several levels.
            Op op = timers.Count < 8 || rnd.Next(4) == 0 ? Op.Add : ops[rnd.Next(ops.Length)];
            var m = timers.Count > 0 ? timers[rnd.Next(timers.Count)] : null;
            string what = $"seed {seed} step {step} {op}";
            switch (op)
            {
                case Op.Add:
                {
                    long period = rnd.Next(6) == 0 ? rnd.Next(1, 300) : 0;
                    long when = now + rnd.Next(-50, 1000);
                    var t = h.Add(when, timers.Count, period);
                    timers.Add(new Model { T = t, Active = true, Due = when });
                    break;
                }
                case Op.Stop:
                    Assert.True(h.Rt.DelTimer(m!.T) == m.Active, $"{what}: deltimer returns whether it stopped a pending timer");
                    m.Active = false;
                    break;
                case Op.ModEarlier:
                case Op.ModLater:
                case Op.Reset:
                {
                    long cur = m!.Active ? m.Due : now + 500;
                    long when = op switch
                    {
                        Op.ModEarlier => Math.Max(1, cur - rnd.Next(1, 600)),
                        Op.ModLater => cur + rnd.Next(1, 600),
                        _ => now + rnd.Next(0, 1000),
                    };
                    bool pending = op == Op.Reset ? h.Rt.ResetTimer(m.T, when, h.P) : h.Mod(m.T, when);
                    Assert.True(pending == m.Active, $"{what}: modtimer returns whether the timer was pending");
                    m.Active = true;
                    m.Due = when;
                    break;
                }
                case Op.CheckTimers:
                {
                    now += rnd.Next(0, 400);
                    var due = timers.Where(x => x.Active && x.Due <= now).Select(x => (int)x.T.Arg!).OrderBy(x => x).ToList();
                    h.Fired.Clear();
                    h.Rt.CheckTimers(h.M, h.P, now, out long pollUntil, out bool ran);
                    Assert.True(due.SequenceEqual(h.Fired.OrderBy(x => x)),
                        $"{what}: fired [{string.Join(",", h.Fired)}], due [{string.Join(",", due)}]");
                    Assert.True(ran == due.Count > 0, $"{what}: ran");
                    if (pollUntil != 0) Assert.True(pollUntil > now, $"{what}: pollUntil {pollUntil} not after now {now}");
                    foreach (int i in due) Fire(timers[i], now);
                    break;
                }
                case Op.RunOne:
                {
                    if (h.P.TimersLen == 0) break;
                    now += rnd.Next(0, 200);
                    h.Fired.Clear();
                    var due = timers.Where(x => x.Active && x.Due <= now).ToDictionary(x => x, x => x.T.State);
                    long tw = h.Locked(p => h.Rt.RunTimer(p, now));
                    if (tw == 0)
                    {
                        Assert.Single(h.Fired);
                        var f = timers[h.Fired[0]];
                        Assert.True(due.ContainsKey(f), $"{what}: runtimer ran a timer that was not due");
                        Fire(f, now);
                    }
                    else if (tw == -1)
                    {
                        Assert.Empty(h.Fired);
                        Assert.Equal(0, h.P.TimersLen);
                        Assert.Empty(due);
                    }
                    else
                    {
                        // The top is a waiting timer due at tw: by heap order no waiting or
                        // modified-later timer is due; only modified-earlier ones deeper down may be
                        // (adjusttimers' business).
                        Assert.Empty(h.Fired);
                        Assert.True(tw > now, $"{what}: runtimer returned {tw} <= now {now}");
                        Assert.True(due.Values.All(s => s == TimerStatus.ModifiedEarlier), $"{what}: runtimer returned {tw} with a waiting timer due");
                    }
                    break;
                }
                case Op.Clean:
                    h.Locked(p => h.Rt.CleanTimers(p));
                    if (h.P.TimersLen > 0) Assert.Equal(TimerStatus.Waiting, h.P.Timers[0]!.State);
                    break;
                case Op.Adjust:
                {
                    now += rnd.Next(0, 100);
                    bool due = h.P.TimerModifiedEarliest != 0 && h.P.TimerModifiedEarliest <= now;
                    h.Locked(p => h.Rt.AdjustTimers(p, now));
                    if (due)
                    {
                        Assert.True(OnHeap(h.P).All(t => t.State == TimerStatus.Waiting), $"{what}: adjusttimers left a modified or deleted timer");
                        Assert.Equal(0, h.P.TimerModifiedEarliest);
                    }
                    break;
                }
                case Op.ClearDeleted:
                    h.Locked(p => h.Rt.ClearDeletedTimers(p));
                    Assert.True(OnHeap(h.P).All(t => t.State == TimerStatus.Waiting), $"{what}: clearDeletedTimers left a modified or deleted timer");
                    Assert.Equal(0, h.P.DeletedTimers);
                    break;
            }
            CheckInvariants(h.P, timers, what);
        }
        // Drain: every pending one-shot timer fires exactly once, and nothing else does.
        now += 10_000;
        h.Fired.Clear();
        var pendingOneShots = timers.Where(x => x.Active && x.T.Period == 0).Select(x => (int)x.T.Arg!).ToHashSet();
        h.Rt.CheckTimers(h.M, h.P, now, out _, out _);
        var firedOneShots = h.Fired.Where(i => timers[i].T.Period == 0).ToList();
        Assert.Equal(firedOneShots.Count, firedOneShots.Distinct().Count());
        Assert.True(pendingOneShots.SetEquals(firedOneShots), $"seed {seed}: drain");
        Assert.Equal(0, h.P.TimersLen - timers.Count(x => x.Active && x.T.Period > 0) - h.P.DeletedTimers);
    }

    public static TheoryData<int> Seeds()
    {
        var d = new TheoryData<int>();
        for (int s = 1; s <= 60; s++) d.Add(s);
        return d;
    }

    private static void Fire(Model m, long now)
    {
        if (m.T.Period == 0) { m.Active = false; return; }
        // A periodic timer skips the periods it missed: the next due time is the first period
        // boundary after now.
        m.Due += m.T.Period * (1 + (now - m.Due) / m.T.Period);
    }

    private static IEnumerable<RTimer> OnHeap(P pp) => pp.Timers.Take(pp.TimersLen).Select(t => t!);

    /// <summary>What must hold between operations: heap order, counts, cached times, and agreement with the model.</summary>
    private static void CheckInvariants(P pp, List<Model> timers, string what)
    {
        int n = pp.TimersLen;
        for (int i = 0; i < pp.Timers.Length; i++)
        {
            if (i < n) Assert.True(pp.Timers[i] != null, $"{what}: hole at {i}");
            else Assert.True(pp.Timers[i] == null, $"{what}: stale entry at {i} past timerslen {n}");
        }
        for (int i = 1; i < n; i++)
        {
            int parent = (i - 1) / 4;
            Assert.True(pp.Timers[parent]!.When <= pp.Timers[i]!.When, $"{what}: heap order broken at {i} (parent {parent})");
        }
        Assert.Equal(n, pp.NumTimers);
        Assert.Equal(n == 0 ? 0 : pp.Timers[0]!.When, pp.Timer0When);
        var heap = OnHeap(pp).ToList();
        Assert.Equal(heap.Count(t => t.State == TimerStatus.Deleted), pp.DeletedTimers);
        foreach (var t in heap)
        {
            Assert.Same(pp, t.PP);
            Assert.True(t.When > 0, $"{what}: when {t.When}");
            Assert.True(t.State is TimerStatus.Waiting or TimerStatus.Deleted or TimerStatus.ModifiedEarlier or TimerStatus.ModifiedLater,
                $"{what}: {t.State} on the heap between operations");
            if (t.State == TimerStatus.ModifiedEarlier)
                Assert.True(pp.TimerModifiedEarliest != 0 && pp.TimerModifiedEarliest <= t.NextWhen,
                    $"{what}: timerModifiedEarliest {pp.TimerModifiedEarliest} later than a modified-earlier timer's {t.NextWhen}");
        }
        long minDue = long.MaxValue;
        foreach (var m in timers)
        {
            var t = m.T;
            bool onHeap = heap.Contains(t);
            if (!onHeap)
            {
                Assert.True(t.State is TimerStatus.NoStatus or TimerStatus.Removed, $"{what}: timer {t.Arg} off the heap in {t.State}");
                Assert.Null(t.PP);
            }
            bool pending = t.State is TimerStatus.Waiting or TimerStatus.ModifiedEarlier or TimerStatus.ModifiedLater;
            Assert.True(pending == m.Active, $"{what}: timer {t.Arg} is {t.State}, model says active={m.Active}");
            if (!pending) continue;
            long effective = t.State == TimerStatus.Waiting ? t.When : t.NextWhen;
            Assert.True(effective == m.Due, $"{what}: timer {t.Arg} due {effective}, model {m.Due}");
            minDue = Math.Min(minDue, effective);
        }
        // The wake time read without the lock is never later than the earliest pending timer:
        // an M sleeping until it cannot miss one.
        if (minDue != long.MaxValue)
        {
            long wake = GoRuntime.NoBarrierWakeTime(pp);
            Assert.True(wake != 0 && wake <= minDue, $"{what}: wake time {wake} later than the earliest pending timer {minDue}");
        }
    }
}
