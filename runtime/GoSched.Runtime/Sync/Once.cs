// sync.Once as Go 1.19's sync/once.go: a done flag read without a lock on the fast path, and a
// Mutex so that callers arriving while f runs wait until it has returned (a plain compare-and-swap
// would let them return before f had finished its work).
namespace GoSched;

/// <summary>
/// sync.Once for goroutines: `await once.Do(() => ...)` runs the function the first time only; every
/// other call waits until that first call has returned. As in Go, an f that throws counts as done.
/// </summary>
public sealed class Once
{
    private int _done;
    private readonly Mutex _m = new();

    /// <summary>Whether f has run (and returned or thrown).</summary>
    public bool Done => Volatile.Read(ref _done) != 0;

    /// <summary>Runs f if no call of Do has run one yet. Mirrors sync.Once.Do.</summary>
    public GoFrame Do(Action f) => Volatile.Read(ref _done) != 0 ? default : DoSlow(f, null);

    /// <summary><see cref="Do(Action)"/> for a function that may block (an async GoFrame helper).</summary>
    public GoFrame Do(Func<GoFrame> f) => Volatile.Read(ref _done) != 0 ? default : DoSlow(null, f);

    /// <summary>Mirrors sync.Once.doSlow: done is set once f has returned or thrown, with the lock held.</summary>
    private async GoFrame DoSlow(Action? f, Func<GoFrame>? blocking)
    {
        await _m.Lock();
        try
        {
            if (_done == 0)
            {
                try
                {
                    if (f != null) f();
                    else await blocking!();
                }
                finally
                {
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
