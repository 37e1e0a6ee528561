// Sleep, timers, tickers and AfterFunc for goroutines (Go's time/sleep.go and time/tick.go on the
// runtime timers of Timers.cs).
//
// Values sent on timer channels are Go.Nanotime() at firing (Go sends a time.Time). Timer
// channels have a buffer of one and are sent to without blocking (sendTime), as in Go 1.19, so a
// Ticker whose reader is slow drops ticks instead of piling them up.
using GoSched.Internal;

namespace GoSched;

/// <summary>Resets a sleeping goroutine's timer once its park is published (resetForSleep).</summary>
internal sealed class SleepPark(G gp) : IParkUnlock
{
    public long NextWhen;
    public void ParkUnlock() => gp.Runtime.ResetTimer(gp.Timer!, NextWhen);
}

/// <summary>A single event: fires once on C after a duration (time.Timer). Create with Go.NewTimer or Go.AfterFunc.</summary>
public sealed class GoTimer
{
    internal readonly RTimer R;
    private readonly GoRuntime _rt;

    internal GoTimer(GoRuntime rt, RTimer r, Chan<long>? c)
    {
        _rt = rt;
        R = r;
        C = c;
    }

    /// <summary>The channel the time is sent on (null for AfterFunc timers). Receive-only, as Go's `&lt;-chan Time`: Send and Close on it throw.</summary>
    public Chan<long>? C { get; }

    /// <summary>Stops the timer. True if the call stopped it; false if it had already fired or been stopped. Callable from anywhere.</summary>
    public bool Stop() => _rt.DelTimer(R);

    /// <summary>
    /// Changes the timer to fire after d. True if it had been active. Call after Stop or once fired
    /// (as in Go), inside a goroutine: a fired or stopped timer goes onto the goroutine's P, so
    /// outside one that is a GoUsageException, and the timer stays as it was.
    /// </summary>
    public bool Reset(TimeSpan d) => _rt.ModTimer(R, Go.When(Go.DurationNs(d)), R.Period, R.F, R.Arg, R.Seq);
}

/// <summary>Delivers ticks on C every period (time.Ticker). Create with Go.NewTicker.</summary>
public sealed class GoTicker
{
    internal readonly RTimer R;
    private readonly GoRuntime _rt;

    internal GoTicker(GoRuntime rt, RTimer r, Chan<long> c)
    {
        _rt = rt;
        R = r;
        C = c;
    }

    /// <summary>The channel the ticks are sent on (buffer of one). Receive-only, as Go's `&lt;-chan Time`: Send and Close on it throw.</summary>
    public Chan<long> C { get; }

    /// <summary>Turns the ticker off; no more ticks are sent. Callable from anywhere.</summary>
    public void Stop() => _rt.DelTimer(R);

    /// <summary>Stops the ticker and resets its period to d; the next tick arrives after d. Call inside a goroutine.</summary>
    public void Reset(TimeSpan d)
    {
        long ns = Go.DurationNs(d);
        if (ns <= 0) throw new ArgumentOutOfRangeException(nameof(d), "non-positive interval for Ticker.Reset");
        _rt.ModTimer(R, Go.When(ns), ns, R.F, R.Arg, R.Seq);
    }
}

public static partial class Go
{
    /// <summary>The runtime's monotonic clock in nanoseconds (what timer channels send).</summary>
    public static long Nanotime() => Clock.Nanotime();

    /// <summary>
    /// A TimeSpan as Go's time.Duration (int64 nanoseconds), saturating: TimeSpan reaches 100 times
    /// further (its unit is 100 ns), and Ticks * 100 of TimeSpan.MaxValue wrapped to a negative
    /// duration, so NewTimer(TimeSpan.MaxValue) fired at once. Go's durations end at about 292
    /// years, and a timer that far out never fires (when saturates to maxWhen).
    /// </summary>
    internal static long DurationNs(TimeSpan d) =>
        d.Ticks > long.MaxValue / 100 ? long.MaxValue : d.Ticks < long.MinValue / 100 ? long.MinValue : d.Ticks * 100;

    /// <summary>The absolute time d from now, saturating (Go's when()).</summary>
    internal static long When(long d)
    {
        long t = Clock.Nanotime();
        if (d <= 0) return t;
        t += d;
        return t < 0 ? GoRuntime.MaxWhen : t; // check for overflow
    }

    /// <summary>time.Sleep: parks the goroutine for at least d. Mirrors runtime.timeSleep.</summary>
    public static SleepAwaitable Sleep(TimeSpan d) => new(DurationNs(d));

    /// <summary>time.Sleep in nanoseconds.</summary>
    public static SleepAwaitable SleepNs(long ns) => new(ns);

    /// <summary>time.NewTimer: sends the time on C after d.</summary>
    public static GoTimer NewTimer(TimeSpan d)
    {
        var rt = GoRuntime.Current;
        var c = new Chan<long>(1, recvOnly: true);
        var r = new RTimer { When = When(DurationNs(d)), F = s_sendTime, Arg = c };
        rt.AddTimer(r);
        return new GoTimer(rt, r, c);
    }

    /// <summary>time.After: the channel of a new timer (receive-only, as Go's `&lt;-chan Time`).</summary>
    public static Chan<long> After(TimeSpan d) => NewTimer(d).C!;

    /// <summary>
    /// time.AfterFunc: after d, calls <paramref name="f"/> in a goroutine of its own, so all of f is
    /// goroutine code (Go.Goid, channel operations; an exception is that goroutine's panic). The
    /// returned timer's Stop keeps f from starting; it does not wait for f.
    /// Differs from Go: f returns a GoTask, so when f is an async lambda or method its body is a
    /// second goroutine, started by the first (calling an async GoTask method is `go`).
    /// </summary>
    public static GoTimer AfterFunc(TimeSpan d, Func<GoTask> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var rt = GoRuntime.Current;
        var r = new RTimer { When = When(DurationNs(d)), F = s_goFunc, Arg = f };
        rt.AddTimer(r);
        return new GoTimer(rt, r, null);
    }

    /// <summary>time.NewTicker: sends the time on C every d.</summary>
    public static GoTicker NewTicker(TimeSpan d)
    {
        long ns = DurationNs(d);
        if (ns <= 0) throw new ArgumentOutOfRangeException(nameof(d), "non-positive interval for NewTicker");
        var rt = GoRuntime.Current;
        var c = new Chan<long>(1, recvOnly: true);
        var r = new RTimer { When = When(ns), Period = ns, F = s_sendTime, Arg = c };
        rt.AddTimer(r);
        return new GoTicker(rt, r, c);
    }

    /// <summary>sendTime: a non-blocking send of the current time (runs on the M running timers).</summary>
    private static readonly Action<object?, long> s_sendTime = static (arg, _) => ((Chan<long>)arg!).SelectNbSend(Clock.Nanotime());

    /// <summary>
    /// goFunc: `go f()` from the M running timers; f itself runs in the new goroutine, never on
    /// that M. Once the runtime stops (a fatal error), nothing is started: no user code runs after it.
    /// </summary>
    private static readonly Action<object?, long> s_goFunc = static (arg, _) =>
    {
        if (GoRuntime.Current.Stopping) return;
        GoFunc((Func<GoTask>)arg!);
    };

#pragma warning disable CS1998 // no await: the goroutine's whole body is the call of f
    /// <summary>The goroutine AfterFunc starts: calls f. Mirrors time.goFunc (`go arg.(func())()`).</summary>
    private static async GoTask GoFunc(Func<GoTask> f) => f();
#pragma warning restore CS1998

    /// <summary>goroutineReady: readies the sleeping goroutine.</summary>
    internal static readonly Action<object?, long> s_goroutineReady = static (arg, _) =>
    {
        var gp = (G)arg!;
        gp.Runtime.Ready(gp);
    };

    public readonly struct SleepAwaitable(long ns)
    {
        public SleepAwaiter GetAwaiter() => new(ns);
    }

    public readonly struct SleepAwaiter(long ns) : IGoAwaiter
    {
        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("Go.Sleep");
                if (ns <= 0) return !gp.YieldIfPreempted();
                var t = gp.Timer ??= new RTimer();
                t.F = s_goroutineReady;
                t.Arg = gp;
                var park = gp.SleepPark ??= new SleepPark(gp);
                park.NextWhen = When(ns);
                // The timer is (re)armed by the park's unlock step: after the goroutine is marked
                // waiting, so its firing can never race ahead of the park.
                gp.Park(park, WaitReason.Sleep);
                return false;
            }
        }
        public void GetResult() { }
        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}
