// sync.Once as Go 1.19's sync/once.go: a done flag read without a lock on the fast path, and a
// Mutex so that callers arriving while f runs wait until it has returned (a plain compare-and-swap
// would let them return before f had finished its work).
//
// Differs from Go: a Do called from inside its own f (the same goroutine, while f runs) is a
// GoUsageException at the call. In Go it deadlocks, the inner Do waiting for the mutex the outer
// one holds; here an f given as an Action cannot await, so the inner Do's frame would be dropped
// unawaited with the goroutine's park recorded and the semaphore's lock held, and the outer Do's
// Unlock would spin on that lock for ever: a hang, not Go's deadlock.
namespace GoSched;

/// <summary>
/// sync.Once for goroutines: `await once.Do(() => ...)` runs the function the first time only; every
/// other call waits until that first call has returned. As in Go, an f that throws counts as done.
/// </summary>
public sealed class Once
{
    private int _done;
    private readonly Mutex _m = new();
    private G? _running; // the goroutine running f, while it runs (set and cleared with _m held)

    /// <summary>Whether f has run (and returned or thrown).</summary>
    public bool Done => Volatile.Read(ref _done) != 0;

    /// <summary>Runs f if no call of Do has run one yet. Mirrors sync.Once.Do.</summary>
    public GoFrame Do(Action f) => Volatile.Read(ref _done) != 0 ? default : DoSlow(f, null, NotReentrant());

    /// <summary><see cref="Do(Action)"/> for a function that may block (an async GoFrame helper).</summary>
    public GoFrame Do(Func<GoFrame> f) => Volatile.Read(ref _done) != 0 ? default : DoSlow(null, f, NotReentrant());

    /// <summary>The calling goroutine, after checking that it is not inside this Once's f.</summary>
    private G NotReentrant()
    {
        var gp = GoRuntime.CurrentG("Once.Do");
        if (Volatile.Read(ref _running) == gp)
            throw new GoUsageException("Once.Do called from inside its own f: it would wait for itself (in Go this call deadlocks)");
        return gp;
    }

    /// <summary>Mirrors sync.Once.doSlow: done is set once f has returned or thrown, with the lock held.</summary>
    private async GoFrame DoSlow(Action? f, Func<GoFrame>? blocking, G gp)
    {
        await _m.Lock();
        try
        {
            if (_done == 0)
            {
                Volatile.Write(ref _running, gp);
                try
                {
                    if (f != null) f();
                    else await blocking!();
                }
                finally
                {
                    Volatile.Write(ref _running, null);
                    Volatile.Write(ref _done, 1);
                }
            }
        }
        finally
        {
            _m.Unlock();
        }
    }
}
