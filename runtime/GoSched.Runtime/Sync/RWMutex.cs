// sync.RWMutex as Go 1.19's sync/rwmutex.go: a Mutex that orders the writers, two semaphores, and
// a reader count that a writer drives negative to announce itself.
//
// readerCount counts readers holding or waiting for the lock; a writer subtracts
// rwmutexMaxReaders from it, so that arriving readers see a negative count and wait on readerSem,
// and remembers in readerWait how many readers were inside: each of them, leaving, counts it down,
// and the last one releases writerSem. Unlock adds rwmutexMaxReaders back and releases readerSem
// once for each reader that arrived meanwhile. A blocked writer thus keeps new readers out (no
// writer starvation), and the readers that queued behind it all get in before the next writer.
//
// The locks and unlocks are Go's line for line. Lock is a GoFrame because it waits twice (for the
// other writers, then for the readers); RLock waits at most once, so it is a plain awaitable.
namespace GoSched;

/// <summary>Go's sync.Locker: what a <see cref="Cond"/> locks and unlocks around its waits.</summary>
public interface ILocker
{
    /// <summary>Locks, waiting if needed: await it inside a goroutine.</summary>
    GoFrame Lock();

    void Unlock();
}

/// <summary>
/// sync.RWMutex for goroutines: any number of readers (`await rw.RLock()`, `rw.RUnlock()`) or one
/// writer (`await rw.Lock()`, `rw.Unlock()`). A writer waiting keeps new readers out. Go 1.19's.
/// </summary>
public sealed class RWMutex : ILocker
{
    private const int RWMutexMaxReaders = 1 << 30;

    private readonly Mutex _w = new();          // held if there are pending writers
    private readonly SemaRoot _writerSem = new(); // writers wait here for the readers inside to leave
    private readonly SemaRoot _readerSem = new(); // readers wait here for the writer to leave
    private int _readerCount;                   // readers holding or waiting; negative while a writer is pending
    private int _readerWait;                    // readers still to leave before the pending writer enters

    /// <summary>Readers holding or waiting for the lock, as Go's readerCount (negative while a writer is pending).</summary>
    internal int ReaderCount => Volatile.Read(ref _readerCount);

    /// <summary>Locks for reading. Mirrors sync.RWMutex.RLock.</summary>
    public RLockAwaitable RLock() => new(this);

    /// <summary>Tries to lock for reading without waiting. Mirrors sync.RWMutex.TryRLock.</summary>
    public bool TryRLock()
    {
        while (true)
        {
            int c = Volatile.Read(ref _readerCount);
            if (c < 0) return false;
            if (Interlocked.CompareExchange(ref _readerCount, c + 1, c) == c) return true;
        }
    }

    /// <summary>Undoes one RLock; the last reader out lets a pending writer in. Mirrors sync.RWMutex.RUnlock.</summary>
    public void RUnlock()
    {
        int r = Interlocked.Decrement(ref _readerCount);
        if (r < 0) RUnlockSlow(r);
    }

    private void RUnlockSlow(int r)
    {
        if (r + 1 == 0 || r + 1 == -RWMutexMaxReaders)
        {
            Interlocked.Increment(ref _readerCount); // as it was
            throw SyncFatal.Error("sync: RUnlock of unlocked RWMutex");
        }
        // A writer is pending: the last reader out unblocks it.
        if (Interlocked.Decrement(ref _readerWait) == 0) _writerSem.Release(handoff: false);
    }

    /// <summary>Locks for writing: first against other writers, then waits for the readers inside. Mirrors sync.RWMutex.Lock.</summary>
    public async GoFrame Lock()
    {
        // First, resolve competition with other writers.
        await _w.Lock();
        // Announce to readers there is a pending writer.
        int r = Interlocked.Add(ref _readerCount, -RWMutexMaxReaders) + RWMutexMaxReaders;
        // Wait for active readers.
        if (r != 0 && Interlocked.Add(ref _readerWait, r) != 0)
            await new SemaRoot.Awaitable(_writerSem, WaitReason.Semacquire);
    }

    /// <summary>Tries to lock for writing without waiting. Mirrors sync.RWMutex.TryLock.</summary>
    public bool TryLock()
    {
        if (!_w.TryLock()) return false;
        if (Interlocked.CompareExchange(ref _readerCount, -RWMutexMaxReaders, 0) != 0)
        {
            _w.Unlock();
            return false;
        }
        return true;
    }

    /// <summary>Unlocks for writing: lets in every reader that queued meanwhile, then the next writer. Mirrors sync.RWMutex.Unlock.</summary>
    public void Unlock()
    {
        // Announce to readers there is no active writer.
        int r = Interlocked.Add(ref _readerCount, RWMutexMaxReaders);
        if (r >= RWMutexMaxReaders)
        {
            Interlocked.Add(ref _readerCount, -RWMutexMaxReaders); // as it was
            throw SyncFatal.Error("sync: Unlock of unlocked RWMutex");
        }
        // Unblock blocked readers, if any.
        for (int i = 0; i < r; i++) _readerSem.Release(handoff: false);
        // Allow other writers to proceed.
        _w.Unlock();
    }

    /// <summary>A Locker whose Lock and Unlock are RLock and RUnlock (for a Cond of readers). Mirrors sync.RWMutex.RLocker.</summary>
    public ILocker RLocker() => new ReadLocker(this);

    private sealed class ReadLocker(RWMutex rw) : ILocker
    {
        public async GoFrame Lock() => await rw.RLock();
        public void Unlock() => rw.RUnlock();
    }

    public readonly struct RLockAwaitable(RWMutex rw)
    {
        public RLockAwaiter GetAwaiter() => new(rw);
    }

    public readonly struct RLockAwaiter : IGoAwaiter
    {
        private readonly RWMutex _rw;

        internal RLockAwaiter(RWMutex rw) { _rw = rw; }

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("RWMutex.RLock");
                // A writer is pending: wait for it (runtime_SemacquireMutex(&rw.readerSem, false, 0)).
                if (Interlocked.Increment(ref _rw._readerCount) < 0 &&
                    !_rw._readerSem.Acquire(gp, lifo: false, WaitReason.Semacquire, then: null, out _))
                    return false;
                return !gp.YieldIfPreempted();
            }
        }

        // After a park the M took the semaphore's unit (SemaWaiter.Resume): the read lock is held.
        public void GetResult() { }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}
