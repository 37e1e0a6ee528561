// The runtime's own mutex (runtime2.go's mutex, lock_futex.go's lock2/unlock2).
//
// Why not System.Threading.Lock. Channel, sema, timer-heap and poll-descriptor locks are taken
// and released on every goroutine hand-off, always for a few dozen instructions. Lock records its
// owner's thread id (a thread-local read on both enter and exit, and a check on exit) so that it
// can be re-entered and can answer IsHeldByCurrentThread; in the ring benchmark at GOMAXPROCS=1
// that bookkeeping was about a third of the M's time. The runtime needs neither: its locks are
// never re-entered (Go's are not re-entrant either) and never held across a park.
//
// The protocol is Go's. The key is 0 (unlocked), 1 (locked) or 2 (locked, and a thread may be
// sleeping on it):
//   lock:   one CAS 0->1 on the fast path. Otherwise swap in 2 (a waiter says it may sleep),
//           spin a little re-trying the swap, then sleep until woken and swap 2 again.
//   unlock: swap in 0; only if the old key was 2 wake one sleeper.
// A sleeper always re-swaps 2 after waking, so with several sleepers the next unlock wakes the
// next one: no wake-up is lost and none is needed on the uncontended path.
//
// It is a struct, embedded in what it guards (a channel's lock is a field of the channel, as in
// Go's hchan), so taking it touches no other object: in the ring benchmark every hop locks a
// channel last touched thousands of hops ago, and a separate lock object was one more cache miss.
// Declare it as a mutable field (not readonly) and never copy it.
//
// Differs from Go: the sleep is a Monitor wait instead of a futex on the key (a managed field can
// move, and a futex keyed by its address would then miss its wake-up). A struct has no object of
// its own to wait on, so sleepers wait on one of a fixed table of monitor objects, picked by a
// stripe number the mutex draws the first time anyone sleeps on it (by CAS, so waiter and waker
// agree); mutexes that share a stripe share its monitor, which is why the unlocker pulses all its
// sleepers and each re-checks its own key. The race between a waiter deciding to sleep and the
// unlocker is closed by the monitor: the waiter swaps 2 and waits while holding it, and the
// unlocker takes it to pulse, so the pulse cannot fall between the waiter's swap and its wait.
namespace GoSched.Internal;

internal struct RuntimeMutex
{
    private const int Unlocked = 0, Locked = 1, Sleeping = 2;
    private const int ActiveSpin = 4, ActiveSpinCount = 30, PassiveSpin = 1;
    private const int Stripes = 64;

    private static readonly object[] s_stripes = MakeStripes();
    private static int s_nextStripe;

    private int _key;
    /// <summary>1 + the index of this mutex's sleep monitor in s_stripes; 0 until someone sleeps.</summary>
    private int _stripe;

    private static object[] MakeStripes()
    {
        var stripes = new object[Stripes];
        for (int i = 0; i < stripes.Length; i++) stripes[i] = new object();
        return stripes;
    }

    /// <summary>The monitor sleepers on this mutex wait on; drawn once, the same for every thread.</summary>
    private object SleepMonitor()
    {
        int s = Volatile.Read(ref _stripe);
        if (s == 0)
        {
            int mine = (int)((uint)Interlocked.Increment(ref s_nextStripe) % Stripes) + 1;
            s = Interlocked.CompareExchange(ref _stripe, mine, 0);
            if (s == 0) s = mine;
        }
        return s_stripes[s - 1];
    }

    /// <summary>True while some thread holds the lock (which one is not recorded).</summary>
    public bool IsHeld => Volatile.Read(ref _key) != Unlocked;

    /// <summary>Mirrors runtime.lock2 (lock_futex.go).</summary>
    public void Enter()
    {
        // Speculative grab for the lock.
        if (Interlocked.CompareExchange(ref _key, Locked, Unlocked) == Unlocked) return;
        EnterSlow();
    }

    private void EnterSlow()
    {
        // wait is either Locked or Sleeping: what to set the key to once we hold it, so that a
        // sleeper we replaced is not forgotten.
        int v = Interlocked.Exchange(ref _key, Locked);
        if (v == Unlocked) return;
        int wait = v;
        while (true)
        {
            // Try for the lock, spinning (the holder is running on another CPU, for a few instructions).
            for (int i = 0; i < ActiveSpin; i++)
            {
                while (Volatile.Read(ref _key) == Unlocked)
                {
                    if (Interlocked.CompareExchange(ref _key, wait, Unlocked) == Unlocked) return;
                }
                Thread.SpinWait(ActiveSpinCount);
            }
            // Try for the lock, rescheduling.
            for (int i = 0; i < PassiveSpin; i++)
            {
                while (Volatile.Read(ref _key) == Unlocked)
                {
                    if (Interlocked.CompareExchange(ref _key, wait, Unlocked) == Unlocked) return;
                }
                Thread.Yield();
            }
            // Sleep. Swapping in Sleeping tells the holder to wake us; if the key was Unlocked the
            // lock is ours (held as Sleeping, which only costs one spare wake-up later).
            var monitor = SleepMonitor();
            lock (monitor)
            {
                v = Interlocked.Exchange(ref _key, Sleeping);
                if (v == Unlocked) return;
                wait = Sleeping;
                Monitor.Wait(monitor);
            }
        }
    }

    /// <summary>Mirrors runtime.unlock2 (lock_futex.go).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Exit()
    {
        int v = Interlocked.Exchange(ref _key, Unlocked);
        if (v != Locked) ExitSlow(v); // the throw and the wake-up out of line, so that Exit inlines
    }

    private void ExitSlow(int v)
    {
        if (v == Unlocked) throw new RuntimeInvariantException("unlock of unlocked lock");
        var monitor = SleepMonitor();
        lock (monitor) Monitor.PulseAll(monitor);
    }

    /// <summary>`using (mu.EnterScope())`: held until the scope ends, as C#'s lock statement does for Lock.</summary>
    [System.Diagnostics.CodeAnalysis.UnscopedRef]
    public Scope EnterScope()
    {
        Enter();
        return new Scope(ref this);
    }

    public readonly ref struct Scope(ref RuntimeMutex mutex)
    {
        private readonly ref RuntimeMutex _mutex = ref mutex;
        public void Dispose() => _mutex.Exit();
    }
}
