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

    /// <summary>The channel the time is sent on (null for AfterFunc timers).</summary>
    public Chan<long>? C { get; }

    /// <summary>Stops the timer. True if the call stopped it; false if it had already fired or been stopped. Callable from anywhere.</summary>
    public bool Stop() => _rt.DelTimer(R);

    /// <summary>Changes the timer to fire after d. True if it had been active. Call inside a goroutine, after Stop or once fired (as in Go).</summary>
    public bool Reset(TimeSpan d) => _rt.ModTimer(R, Go.When(d.Ticks * 100), R.Period, R.F, R.Arg, R.Seq);
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

    /// <summary>The channel the ticks are sent on (buffer of one).</summary>
    public Chan<long> C { get; }

    /// <summary>Turns the ticker off; no more ticks are sent. Callable from anywhere.</summary>
    public void Stop() => _rt.DelTimer(R);

    /// <summary>Stops the ticker and resets its period to d; the next tick arrives after d. Call inside a goroutine.</summary>
    public void Reset(TimeSpan d)
    {
        long ns = d.Ticks * 100;
        if (ns <= 0) throw new ArgumentOutOfRangeException(nameof(d), "non-positive interval for Ticker.Reset");
        _rt.ModTimer(R, Go.When(ns), ns, R.F, R.Arg, R.Seq);
    }
}

public static partial class Go
{
    /// <summary>The runtime's monotonic clock in nanoseconds (what timer channels send).</summary>
    public static long Nanotime() => Clock.Nanotime();

    /// <summary>The absolute time d from now, saturating (Go's when()).</summary>
    internal static long When(long d)
    {
        long t = Clock.Nanotime();
        if (d <= 0) return t;
        t += d;
        return t < 0 ? GoRuntime.MaxWhen : t; // check for overflow
    }

    /// <summary>time.Sleep: parks the goroutine for at least d. Mirrors runtime.timeSleep.</summary>
    public static SleepAwaitable Sleep(TimeSpan d) => new(d.Ticks * 100);

    /// <summary>time.Sleep in nanoseconds.</summary>
    public static SleepAwaitable SleepNs(long ns) => new(ns);

    /// <summary>time.NewTimer: sends the time on C after d.</summary>
    public static GoTimer NewTimer(TimeSpan d)
    {
        var rt = GoRuntime.Current;
        var c = new Chan<long>(1);
        var r = new RTimer { When = When(d.Ticks * 100), F = s_sendTime, Arg = c };
        rt.AddTimer(r);
        return new GoTimer(rt, r, c);
    }

    /// <summary>time.After: the channel of a new timer.</summary>
    public static Chan<long> After(TimeSpan d) => NewTimer(d).C!;

    /// <summary>time.AfterFunc: after d, starts <paramref name="f"/> in its own goroutine.</summary>
    public static GoTimer AfterFunc(TimeSpan d, Func<GoTask> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var rt = GoRuntime.Current;
        var r = new RTimer { When = When(d.Ticks * 100), F = s_goFunc, Arg = f };
        rt.AddTimer(r);
        return new GoTimer(rt, r, null);
    }

    /// <summary>time.NewTicker: sends the time on C every d.</summary>
    public static GoTicker NewTicker(TimeSpan d)
    {
        long ns = d.Ticks * 100;
        if (ns <= 0) throw new ArgumentOutOfRangeException(nameof(d), "non-positive interval for NewTicker");
        var rt = GoRuntime.Current;
        var c = new Chan<long>(1);
        var r = new RTimer { When = When(ns), Period = ns, F = s_sendTime, Arg = c };
        rt.AddTimer(r);
        return new GoTicker(rt, r, c);
    }

    /// <summary>sendTime: a non-blocking send of the current time (runs on the M running timers).</summary>
    private static readonly Action<object?, long> s_sendTime = static (arg, _) => ((Chan<long>)arg!).TrySend(Clock.Nanotime());

    /// <summary>goFunc: `go f()` from the M running timers.</summary>
    private static readonly Action<object?, long> s_goFunc = static (arg, _) =>
    {
        if (GoRuntime.Current.Stopping) return; // no user code runs once the runtime stops
        ((Func<GoTask>)arg!)();
    };

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
