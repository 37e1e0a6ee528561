// Integrated network poller (netpoll.go, netpoll_epoll.go): epoll, an eventfd to break it, and
// pollDescs that park goroutines until their socket is ready.
//
// The goal: a goroutine that reads from a socket with no data must not hold an M, and a thousand
// such goroutines must not need a thousand threads. Go's answer, kept here: every socket is
// non-blocking and registered once, edge-triggered, for read, write and hang-up, with one epoll
// instance per runtime. A goroutine tries the system call; on EAGAIN it parks on the socket's
// pollDesc. The scheduler, not a dedicated thread, collects readiness: findRunnable polls without
// blocking before it steals, sysmon polls if nobody has for 10 ms, and an M with nothing to do
// blocks in epoll until the earliest timer (exactly one at a time: sched.lastpoll is 0 while it
// does). That blocking wait is also the runtime's timer sleep, so one wake-up source covers both.
// The goroutines a poll makes ready are handed to the scheduler as Go's injectglist does.
//
// Breaking the wait (netpollBreak): an eventfd, registered level-triggered, that another thread
// writes to. netpollWakeSig makes sure at most one break is pending: Break sets it 0->1 before
// writing, and only a *blocking* poll that reads the eventfd clears it. A non-blocking poll sees
// the break event and leaves it for the blocked poller, which would otherwise sleep through it.
//
// pollDesc (Go's comment, the protocol this file keeps): rg and wg are two binary semaphores that
// park the reader and the writer goroutine. Each is in one of these states:
//   PdReady  - I/O readiness notification is pending; a goroutine consumes it by changing the
//              state to null.
//   PdWait   - a goroutine prepares to park on the semaphore but has not parked yet; it commits
//              to park by changing the state to its G (the park's unlock step, after the frames
//              have unwound), or a concurrent notification changes it to PdReady, or a concurrent
//              timeout/close changes it to null.
//   a G      - the goroutine is parked; a notification or a timeout/close changes the state to
//              PdReady or null and readies the G.
//   null     - none of the above.
// The race it must survive: readiness arriving between the failed system call and the park. The
// notifier then finds PdWait (not a G) and sets PdReady; the commit CAS PdWait->G fails and the
// goroutine readies itself (Go's gopark returning at once when unlockf says no), then consumes
// PdReady and retries the call. Every state change is one CAS, so no notification is lost.
//
// Deadlines run on the runtime's own timers (Timers.cs): a timer per direction whose function
// marks the deadline expired (rd = -1), publishes it, and unblocks the waiter with a timeout. A
// sequence number per direction makes a stale timer (deadline changed, descriptor reused) a no-op.
//
// Differs from Go: (1) netpollWaiters is decremented for goroutines that netpoll itself readies,
// as Go 1.22 does (netpollAdjustWaiters); Go 1.19 only decrements it for timeouts and closes, so
// after the first network wait its count never returns to 0, the poller never stops blocking and
// checkdead can no longer see a deadlock. (2) The blocking wait uses epoll_pwait2's nanosecond
// timeout where the kernel has it (Linux 5.11+); Go 1.19 uses epoll_wait, whose timeout is in
// milliseconds: it rounds a wait below 1 ms up to 1 ms and truncates longer ones, so a timer can
// fire up to 1 ms late. The millisecond path, with Go's rounding, is the fallback. (3) pollDescs
// live in a per-runtime table, and epoll's 64-bit user data is (generation << 32 | index) rather
// than a pointer; an event for a descriptor that was closed and reused is recognised by its
// generation and dropped (Go delivers it to the new user as a spurious wake-up). (4) Where epoll
// is not available, the poller is a futex wait with the same break rule and sockets are refused.
using GoSched.Internal;

namespace GoSched;

/// <summary>A list of goroutines linked through G.SchedLink (Go's gList).</summary>
internal struct GList
{
    public G? Head;
    public int Count;

    public readonly bool Empty => Head == null;

    public void Push(G gp)
    {
        gp.SchedLink = Head;
        Head = gp;
        Count++;
    }

    public G? Pop()
    {
        G? gp = Head;
        if (gp != null)
        {
            Head = gp.SchedLink;
            gp.SchedLink = null;
            Count--;
        }
        return gp;
    }
}

/// <summary>
/// One descriptor's poll state. Mirrors runtime.pollDesc. Objects are type-stable: a closed
/// descriptor goes back to its poller's free list (pollcache) and is reused with a new generation.
/// </summary>
internal sealed class PollDesc
{
    /// <summary>The states of rg/wg besides null and a parked G: see the protocol in Netpoll.cs.</summary>
    internal static readonly object PdReady = new(), PdWait = new();

    // pollInfo bits (Go's pollClosing, pollEventErr, pollExpiredReadDeadline, pollExpiredWriteDeadline).
    internal const int InfoClosing = 1, InfoEventErr = 2, InfoExpiredRead = 4, InfoExpiredWrite = 8;

    public PollDesc(NetPoller poller, int index)
    {
        Poller = poller;
        Index = index;
        ReadCommit = new BlockCommit(this, write: false);
        WriteCommit = new BlockCommit(this, write: true);
    }

    public readonly NetPoller Poller;
    /// <summary>Slot in the poller's table; with Gen, the epoll user data.</summary>
    public readonly int Index;
    /// <summary>Bumped on every reuse, so a stale epoll event is recognised.</summary>
    public uint Gen;
    /// <summary>The file descriptor, constant while in use.</summary>
    public int Fd = -1;
    /// <summary>Link on the free list (pollcache.first), under the poller's cache lock.</summary>
    public PollDesc? Link;

    /// <summary>Summary of closing/rd/wd for CheckErr, which takes no lock, plus the event-error bit (atomicInfo).</summary>
    public int AtomicInfo;

    /// <summary>Reader semaphore: null, PdReady, PdWait or the parked reader's G (CAS only).</summary>
    public object? Rg;
    /// <summary>Writer semaphore, as Rg.</summary>
    public object? Wg;

    /// <summary>pd.lock: protects the fields below.</summary>
    public Internal.RuntimeMutex Lock;
    public bool Closing;
    /// <summary>Read/write deadline: a nanotime in the future, 0 for none, -1 once expired.</summary>
    public long Rd, Wd;
    /// <summary>Protect against stale read/write deadline timers.</summary>
    public long Rseq, Wseq;
    /// <summary>Deadline timers; armed while their F is set (Go's rt.f != nil).</summary>
    public readonly RTimer Rt = new(), Wt = new();

    /// <summary>The park's unlock steps, one per direction (one waiter each at a time).</summary>
    public readonly BlockCommit ReadCommit, WriteCommit;

    public int Info => Volatile.Read(ref AtomicInfo);

    /// <summary>Recomputes AtomicInfo from closing/rd/wd, keeping the event-error bit. pd.lock must be held. Mirrors pollDesc.publishInfo.</summary>
    public void PublishInfo()
    {
        int info = 0;
        if (Closing) info |= InfoClosing;
        if (Rd < 0) info |= InfoExpiredRead;
        if (Wd < 0) info |= InfoExpiredWrite;
        int x = Volatile.Read(ref AtomicInfo);
        while (Interlocked.CompareExchange(ref AtomicInfo, (x & InfoEventErr) | info, x) != x) x = Volatile.Read(ref AtomicInfo);
    }

    /// <summary>Sets or clears the event-error bit. Mirrors pollDesc.setEventErr.</summary>
    public void SetEventErr(bool b)
    {
        int x = Volatile.Read(ref AtomicInfo);
        while (((x & InfoEventErr) != 0) != b && Interlocked.CompareExchange(ref AtomicInfo, x ^ InfoEventErr, x) != x)
            x = Volatile.Read(ref AtomicInfo);
    }

    /// <summary>The error a wait in this mode would end with now (PollError). Mirrors runtime.netpollcheckerr.</summary>
    public PollError CheckErr(bool write)
    {
        int info = Info;
        if ((info & InfoClosing) != 0) return PollError.Closing;
        if ((!write && (info & InfoExpiredRead) != 0) || (write && (info & InfoExpiredWrite) != 0)) return PollError.Timeout;
        // Report an event scanning error only on a read event. An error on a write event will be
        // captured in a subsequent write call that is able to report a more specific error.
        if (!write && (info & InfoEventErr) != 0) return PollError.NotPollable;
        return PollError.None;
    }

    /// <summary>Prepares for a read or write: checks for errors and clears a stale notification. Mirrors runtime.poll_runtime_pollReset.</summary>
    public PollError Reset(bool write)
    {
        var err = CheckErr(write);
        if (err != PollError.None) return err;
        Volatile.Write(ref write ? ref Wg : ref Rg, null);
        return PollError.None;
    }

    /// <summary>Waits (parks the goroutine) until the descriptor is ready for reading or writing, or an error. Mirrors runtime.poll_runtime_pollWait.</summary>
    public BlockAwaitable Wait(bool write) => new(this, write);

    /// <summary>
    /// Moves rg or wg on from a waiting state and returns the G to ready, if one was parked.
    /// ioready: readiness (state becomes PdReady) rather than timeout/close (state becomes null).
    /// Mirrors runtime.netpollunblock.
    /// </summary>
    public G? Unblock(bool write, bool ioready)
    {
        ref object? gpp = ref write ? ref Wg : ref Rg;
        while (true)
        {
            object? old = Volatile.Read(ref gpp);
            if (old == PdReady) return null;
            // Only set PdReady for ioready. Wait checks for timeout/cancel before waiting.
            if (old == null && !ioready) return null;
            object? next = ioready ? PdReady : null;
            if (Interlocked.CompareExchange(ref gpp, next, old) == old)
                return old == PdWait ? null : (G?)old;
        }
    }

    /// <summary>The unlock step of a network park: commits PdWait to the parked G. Mirrors runtime.netpollblockcommit.</summary>
    internal sealed class BlockCommit(PollDesc pd, bool write) : IParkUnlock
    {
        public G? G;

        public void ParkUnlock()
        {
            var gp = G!;
            G = null;
            ref object? gpp = ref write ? ref pd.Wg : ref pd.Rg;
            if (Interlocked.CompareExchange(ref gpp, gp, PdWait) == PdWait)
            {
                // Bump the count of goroutines waiting for the poller. The scheduler uses this to
                // decide whether to block waiting for the poller if there is nothing else to do.
                Interlocked.Increment(ref pd.Poller.Waiters);
                return;
            }
            // A notification (PdReady) or a timeout/close (null) came first: the park is called
            // off. gp is already Waiting (park_m published it), so it readies itself.
            gp.Runtime.Ready(gp);
        }
    }

    public readonly struct BlockAwaitable(PollDesc pd, bool write)
    {
        public BlockAwaiter GetAwaiter() => new(pd, write);
    }

    /// <summary>
    /// netpollblock as an awaiter: IsCompleted consumes a pending notification or moves the
    /// semaphore to PdWait and records the park; GetResult takes the outcome. The result is
    /// PollError.None when the descriptor is (probably) ready, else the error to report; after a
    /// wake-up that was neither (a deadline was reset meanwhile), None: the caller's system call
    /// gets EAGAIN again and it waits again, as Go's pollWait loop does.
    /// </summary>
    public struct BlockAwaiter(PollDesc pd, bool write) : IGoAwaiter
    {
        private PollError _result;
        private bool _parked;

        public bool IsCompleted
        {
            get
            {
                var gp = GoRuntime.CurrentG("a network wait");
                _result = pd.CheckErr(write);
                if (_result != PollError.None) return true;
                ref object? gpp = ref write ? ref pd.Wg : ref pd.Rg;
                // Set the gpp semaphore to PdWait.
                while (true)
                {
                    // Consume notification if already ready.
                    if (Interlocked.CompareExchange(ref gpp, null, PdReady) == PdReady) return !gp.YieldIfPreempted();
                    if (Interlocked.CompareExchange(ref gpp, PdWait, null) == null) break;
                    // Double check that this isn't corrupt; otherwise we'd loop forever.
                    object? v = Volatile.Read(ref gpp);
                    if (v != PdReady && v != null) GoRuntime.Throw("runtime: double wait");
                }
                // Re-check the error states after setting PdWait: close/SetDeadline/the deadline
                // timer do the opposite (store closing/rd/wd, publish, then load rg/wg).
                if (pd.CheckErr(write) == PollError.None)
                {
                    var commit = write ? pd.WriteCommit : pd.ReadCommit;
                    commit.G = gp;
                    gp.Park(commit, WaitReason.IOWait);
                    _parked = true;
                    return false;
                }
                _result = Take(ref gpp, pd, write);
                return true;
            }
        }

        public PollError GetResult() => _parked ? Take(ref write ? ref pd.Wg : ref pd.Rg, pd, write) : _result;

        /// <summary>Be careful to not lose a concurrent PdReady notification.</summary>
        private static PollError Take(ref object? gpp, PollDesc pd, bool write)
        {
            object? old = Interlocked.Exchange(ref gpp, null);
            if (old != null && old != PdReady && old != PdWait) GoRuntime.Throw("runtime: corrupted polldesc");
            return old == PdReady ? PollError.None : pd.CheckErr(write);
        }

        public void OnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
        public void UnsafeOnCompleted(Action continuation) => throw GoRuntime.DirectOnCompleted();
    }
}

/// <summary>Why a network wait ended without readiness (runtime's pollErrClosing, pollErrTimeout, pollErrNotPollable).</summary>
internal enum PollError
{
    None = 0,
    Closing = 1,
    Timeout = 2,
    NotPollable = 3,
}

/// <summary>
/// One runtime's network poller: the epoll instance, the break eventfd, the pollDesc table and
/// the count of goroutines parked on it. See the essay at the top of Netpoll.cs.
/// </summary>
internal sealed unsafe class NetPoller : IDisposable
{
    private const ulong BreakData = ulong.MaxValue;
    private const int MaxEvents = 128;

    private readonly GoRuntime _rt;
    private readonly Lock _initLock = new();
    private volatile bool _inited;
    private int _epfd = -1;
    private int _breakFd = -1;
    private bool _closed;
    /// <summary>netpollWakeSig: 1 while a break is pending; cleared by the blocking poll that reads it.</summary>
    private int _wakeSig;
    /// <summary>Falls back to epoll_wait (ms) once epoll_pwait2 says ENOSYS.</summary>
    private volatile bool _noPwait2;
    /// <summary>Stand-in where epoll is missing (not Linux): a futex/monitor wait with the same break rule.</summary>
    private readonly Note? _note = Sys.Supported ? null : new Note();

    /// <summary>netpollWaiters: goroutines parked on a pollDesc (read by findRunnable without a lock).</summary>
    internal int Waiters;

    // pollcache: the descriptor table, its free list and the descriptors in use, under _cacheLock.
    private readonly Lock _cacheLock = new();
    private PollDesc[] _pds = new PollDesc[16]; // read without the lock by netpoll (Volatile)
    private int _npds;
    private PollDesc? _free;
    private readonly HashSet<NetFD> _open = new();

    private long _blockingPolls, _polls, _breaks, _readied;

    public NetPoller(GoRuntime rt) { _rt = rt; }

    /// <summary>Blocking polls so far (an M slept in the poller).</summary>
    public long BlockingPolls => Interlocked.Read(ref _blockingPolls);
    /// <summary>All polls, blocking or not.</summary>
    public long Polls => Interlocked.Read(ref _polls);
    /// <summary>Breaks actually signalled (at most one pending at a time).</summary>
    public long Breaks => Interlocked.Read(ref _breaks);
    /// <summary>Goroutines made ready by polls.</summary>
    public long Readied => Interlocked.Read(ref _readied);
    /// <summary>The counters above as one reading (racy, as the sampler's).</summary>
    public Observability.NetpollCounters Counters() => new(Polls, BlockingPolls, Breaks, Readied);
    /// <summary>Descriptors open on this poller.</summary>
    public int OpenCount { get { lock (_cacheLock) return _open.Count; } }

    /// <summary>True once the epoll instance exists. Mirrors runtime.netpollinited.</summary>
    public bool Inited => _inited;

    /// <summary>Creates the poller unless it exists. Mirrors runtime.netpollGenericInit.</summary>
    public void EnsureInit()
    {
        if (!_inited) Init();
    }

    /// <summary>Creates the epoll instance and the break eventfd, once. Mirrors runtime.netpollGenericInit + netpollinit.</summary>
    private void Init()
    {
        lock (_initLock)
        {
            if (_inited || _closed) return;
            if (Sys.Supported)
            {
                int epfd = Sys.EpollCreate1(Sys.EPOLL_CLOEXEC);
                if (epfd < 0) throw new RuntimeInvariantException($"runtime: netpollinit failed: epoll_create1 errno {Sys.Errno()}");
                int bfd = Sys.EventFd(0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
                if (bfd < 0) { Sys.Close(epfd); throw new RuntimeInvariantException($"runtime: netpollinit failed: eventfd errno {Sys.Errno()}"); }
                // Level-triggered: a pending break stays visible until a blocking poll reads it.
                int errno = Sys.EpollCtl(epfd, Sys.EPOLL_CTL_ADD, bfd, Sys.EPOLLIN, BreakData);
                if (errno != 0) { Sys.Close(bfd); Sys.Close(epfd); throw new RuntimeInvariantException($"runtime: epollctl failed with {errno}"); }
                _epfd = epfd;
                _breakFd = bfd;
            }
            _inited = true;
        }
        // A break that came before the eventfd existed (the flag is set, nothing was written):
        // signal it now so that the poller does not sleep through it.
        if (Volatile.Read(ref _wakeSig) != 0) WriteBreak();
    }

    /// <summary>Wakes the poller if it is blocked in netpoll; a no-op while a break is pending. Mirrors runtime.netpollBreak.</summary>
    public void Break()
    {
        if (Interlocked.CompareExchange(ref _wakeSig, 1, 0) != 0) return;
        if (_inited) WriteBreak(); // else Init writes it
    }

    private void WriteBreak()
    {
        Interlocked.Increment(ref _breaks);
        if (_note != null) { _note.Signal(); return; }
        ulong one = 1;
        while (true)
        {
            int fd = Volatile.Read(ref _breakFd);
            if (fd < 0) return; // closed: the runtime has stopped
            nint n = Sys.Write(fd, (byte*)&one, sizeof(ulong));
            if (n == sizeof(ulong)) return;
            int errno = Sys.Errno();
            if (errno == Sys.EINTR) continue;
            if (errno == Sys.EAGAIN) return; // the counter is full: a wake-up is pending anyway
            throw new RuntimeInvariantException($"runtime: netpollBreak write failed with {errno}");
        }
    }

    /// <summary>
    /// Polls for ready descriptors: delay &lt; 0 blocks until readiness or a break, 0 does not
    /// block, &gt; 0 blocks for up to delay ns. Returns the goroutines made ready (still Waiting:
    /// the caller makes them runnable). Mirrors runtime.netpoll.
    /// </summary>
    public GList Netpoll(long delay)
    {
        var toRun = new GList();
        if (!_inited)
        {
            if (delay == 0) return toRun; // nothing registered yet
            Init(); // a blocking poll with no timer added and no descriptor open: a sleep on the poller
        }
        Interlocked.Increment(ref _polls);
        if (delay != 0) Interlocked.Increment(ref _blockingPolls);
        if (_note != null)
        {
            if (delay != 0) _note.TSleep(delay);
            if (_note.Consume()) Volatile.Write(ref _wakeSig, 0);
            return toRun;
        }
        int epfd = Volatile.Read(ref _epfd);
        if (epfd < 0) return toRun;

        long deadline = delay > 0 ? Clock.Nanotime() + delay : 0;
        byte* events = stackalloc byte[MaxEvents * 16];
        int n;
    retry:
        if (!_noPwait2)
        {
            if (delay < 0) n = Sys.EpollPwait2(epfd, events, MaxEvents, null);
            else
            {
                long left = delay == 0 ? 0 : Math.Max(0, deadline - Clock.Nanotime());
                var ts = new Sys.Timespec { Sec = left / 1_000_000_000, Nsec = left % 1_000_000_000 };
                n = Sys.EpollPwait2(epfd, events, MaxEvents, &ts);
            }
            if (n < 0 && Sys.Errno() == Sys.ENOSYS)
            {
                _noPwait2 = true;
                goto retry;
            }
        }
        else
        {
            // Go's rounding for epoll_wait's millisecond timeout.
            int waitms;
            if (delay < 0) waitms = -1;
            else if (delay == 0) waitms = 0;
            else if (delay < 1_000_000) waitms = 1;
            else if (delay < 1_000_000_000_000_000) waitms = (int)(delay / 1_000_000);
            else waitms = 1_000_000_000; // an arbitrary cap on how long to wait for a timer: ~11.5 days
            n = Sys.EpollWait(epfd, events, MaxEvents, waitms);
        }
        if (n < 0)
        {
            int errno = Sys.Errno();
            if (errno == Sys.EBADF && _closed) return toRun;
            if (errno != Sys.EINTR) throw new RuntimeInvariantException($"runtime: epollwait on fd {epfd} failed with {errno}");
            // If a timed sleep was interrupted, just return to recalculate how long we should sleep now.
            if (delay > 0) return toRun;
            goto retry;
        }
        for (int i = 0; i < n; i++)
        {
            byte* ev = events + i * Sys.EventSize;
            uint mask = *(uint*)ev;
            ulong data = *(ulong*)(ev + Sys.DataOffset);
            if (mask == 0) continue;
            if (data == BreakData)
            {
                if (mask != Sys.EPOLLIN) throw new RuntimeInvariantException($"runtime: netpoll: break fd ready for {mask}");
                if (delay != 0)
                {
                    // netpollBreak could be picked up by a non-blocking poll. Only read the
                    // counter if blocking.
                    ulong counter;
                    Sys.Read(_breakFd, (byte*)&counter, sizeof(ulong));
                    Volatile.Write(ref _wakeSig, 0);
                }
                continue;
            }
            bool read = (mask & (Sys.EPOLLIN | Sys.EPOLLRDHUP | Sys.EPOLLHUP | Sys.EPOLLERR)) != 0;
            bool write = (mask & (Sys.EPOLLOUT | Sys.EPOLLHUP | Sys.EPOLLERR)) != 0;
            if (!read && !write) continue;
            var pd = Lookup(data);
            if (pd == null) continue; // the descriptor was closed (and maybe reused) since
            pd.SetEventErr(mask == Sys.EPOLLERR);
            NetpollReady(ref toRun, pd, read, write);
        }
        if (toRun.Count > 0)
        {
            // Differs from Go 1.19, as Go 1.22 (netpollAdjustWaiters): these goroutines no longer wait.
            Interlocked.Add(ref Waiters, -toRun.Count);
            Interlocked.Add(ref _readied, toRun.Count);
            // Start of each one's netpoll wake latency; execute reads it (GoRuntime.RecordNetpollWake).
            long now = Clock.Nanotime();
            for (G? gp = toRun.Head; gp != null; gp = gp.SchedLink) gp.NetpollReadyNs = now;
        }
        return toRun;
    }

    /// <summary>The descriptor an epoll event is for, or null if it has been closed since.</summary>
    private PollDesc? Lookup(ulong data)
    {
        int index = (int)(data & 0xFFFF_FFFF);
        uint gen = (uint)(data >> 32);
        var pds = Volatile.Read(ref _pds);
        if ((uint)index >= (uint)pds.Length) return null;
        var pd = pds[index];
        return pd != null && Volatile.Read(ref pd.Gen) == gen && Volatile.Read(ref pd.Fd) >= 0 ? pd : null;
    }

    /// <summary>Declares pd ready for reading and/or writing: collects the goroutines to run. Mirrors runtime.netpollready.</summary>
    private static void NetpollReady(ref GList toRun, PollDesc pd, bool read, bool write)
    {
        G? rg = read ? pd.Unblock(write: false, ioready: true) : null;
        G? wg = write ? pd.Unblock(write: true, ioready: true) : null;
        if (rg != null) toRun.Push(rg);
        if (wg != null) toRun.Push(wg);
    }

    /// <summary>Readies a goroutine woken by a timeout or a close. Mirrors runtime.netpollgoready.</summary>
    private void GoReady(G gp)
    {
        Interlocked.Decrement(ref Waiters);
        _rt.Ready(gp);
    }

    /// <summary>
    /// Registers fd (edge-triggered read, write and hang-up) with a fresh pollDesc; owner is the
    /// descriptor's holder, closed by <see cref="Dispose"/> if still open when the runtime stops.
    /// Returns the errno on failure. Mirrors runtime.poll_runtime_pollOpen.
    /// </summary>
    public int Open(NetFD owner, int fd, out PollDesc? pdOut)
    {
        pdOut = null;
        if (!Sys.Supported) return Sys.ENOSYS;
        EnsureInit();
        PollDesc pd;
        lock (_cacheLock)
        {
            if (_closed) return Sys.EBADF;
            pd = Alloc();
            _open.Add(owner);
        }
        using (pd.Lock.EnterScope())
        {
            object? wg = Volatile.Read(ref pd.Wg), rg = Volatile.Read(ref pd.Rg);
            if (wg != null && wg != PollDesc.PdReady) GoRuntime.Throw("runtime: blocked write on free polldesc");
            if (rg != null && rg != PollDesc.PdReady) GoRuntime.Throw("runtime: blocked read on free polldesc");
            pd.Closing = false;
            pd.SetEventErr(false);
            pd.Rseq++;
            Volatile.Write(ref pd.Rg, null);
            pd.Rd = 0;
            pd.Wseq++;
            Volatile.Write(ref pd.Wg, null);
            pd.Wd = 0;
            pd.PublishInfo();
            Volatile.Write(ref pd.Gen, pd.Gen + 1);
            Volatile.Write(ref pd.Fd, fd);
        }
        int errno = Sys.EpollCtl(_epfd, Sys.EPOLL_CTL_ADD, fd,
            Sys.EPOLLIN | Sys.EPOLLOUT | Sys.EPOLLRDHUP | Sys.EPOLLET, ((ulong)pd.Gen << 32) | (uint)pd.Index);
        if (errno != 0)
        {
            Volatile.Write(ref pd.Fd, -1);
            lock (_cacheLock) { _open.Remove(owner); Free(pd); }
            return errno;
        }
        pdOut = pd;
        return 0;
    }

    /// <summary>
    /// Unregisters pd's descriptor and closes it. pd must have been unblocked (no waiter).
    /// Returns false if the runtime's stop closed it already. Mirrors runtime.poll_runtime_pollClose + close(fd).
    /// </summary>
    public bool Close(NetFD owner, PollDesc pd)
    {
        if (!pd.Closing) GoRuntime.Throw("runtime: close polldesc w/o unblock");
        object? wg = Volatile.Read(ref pd.Wg), rg = Volatile.Read(ref pd.Rg);
        if (wg != null && wg != PollDesc.PdReady) GoRuntime.Throw("runtime: blocked write on closing polldesc");
        if (rg != null && rg != PollDesc.PdReady) GoRuntime.Throw("runtime: blocked read on closing polldesc");
        lock (_cacheLock)
        {
            if (!_open.Remove(owner)) return false;
            int fd = pd.Fd;
            Sys.EpollCtl(_epfd, Sys.EPOLL_CTL_DEL, fd, 0, 0);
            Volatile.Write(ref pd.Fd, -1);
            Sys.Close(fd);
            Free(pd);
        }
        return true;
    }

    /// <summary>Takes a pollDesc from the free list, growing the table. _cacheLock must be held. Mirrors pollCache.alloc.</summary>
    private PollDesc Alloc()
    {
        if (_free == null)
        {
            if (_npds == _pds.Length)
            {
                var bigger = new PollDesc[_pds.Length * 2];
                _pds.AsSpan().CopyTo(bigger);
                Volatile.Write(ref _pds, bigger);
            }
            var fresh = new PollDesc(this, _npds);
            _pds[_npds++] = fresh;
            return fresh;
        }
        var pd = _free;
        _free = pd.Link;
        pd.Link = null;
        return pd;
    }

    /// <summary>Puts pd back on the free list. _cacheLock must be held. Mirrors pollCache.free.</summary>
    private void Free(PollDesc pd)
    {
        pd.Link = _free;
        _free = pd;
    }

    /// <summary>
    /// Marks pd closing and wakes its waiters (they see PollError.Closing); stops its deadline
    /// timers. Mirrors runtime.poll_runtime_pollUnblock.
    /// </summary>
    public void Unblock(PollDesc pd)
    {
        G? rg, wg;
        using (pd.Lock.EnterScope())
        {
            if (pd.Closing) GoRuntime.Throw("runtime: unblock on closing polldesc");
            pd.Closing = true;
            pd.Rseq++;
            pd.Wseq++;
            pd.PublishInfo();
            rg = pd.Unblock(write: false, ioready: false);
            wg = pd.Unblock(write: true, ioready: false);
            if (pd.Rt.F != null) { _rt.DelTimer(pd.Rt); pd.Rt.F = null; }
            if (pd.Wt.F != null) { _rt.DelTimer(pd.Wt); pd.Wt.F = null; }
        }
        if (rg != null) GoReady(rg);
        if (wg != null) GoReady(wg);
    }

    /// <summary>
    /// Sets the read, write or both deadlines to d ns from now (0: none; &lt; 0: already expired),
    /// arming the deadline timers; a deadline in the past unblocks the waiter at once. Call inside
    /// a goroutine (timers live on its P). Mirrors runtime.poll_runtime_pollSetDeadline.
    /// </summary>
    public void SetDeadline(PollDesc pd, long d, bool read, bool write)
    {
        G? rg = null, wg = null;
        using (pd.Lock.EnterScope())
        {
            if (pd.Closing) return;
            long rd0 = pd.Rd, wd0 = pd.Wd;
            bool combo0 = rd0 > 0 && rd0 == wd0;
            if (d > 0)
            {
                d += Clock.Nanotime();
                // If the user has a deadline in the future, but the delay calculation overflows,
                // then set the deadline to the maximum possible value.
                if (d <= 0) d = long.MaxValue;
            }
            if (read) pd.Rd = d;
            if (write) pd.Wd = d;
            pd.PublishInfo();
            bool combo = pd.Rd > 0 && pd.Rd == pd.Wd;
            var rtf = combo ? s_netpollDeadline : s_netpollReadDeadline;
            if (pd.Rt.F == null)
            {
                if (pd.Rd > 0)
                {
                    // The current seq goes into the timer: if it differs when the timer fires,
                    // the descriptor was reused or the deadline was reset.
                    _rt.ModTimer(pd.Rt, pd.Rd, 0, rtf, pd, pd.Rseq);
                }
            }
            else if (pd.Rd != rd0 || combo != combo0)
            {
                pd.Rseq++; // invalidate current timers
                if (pd.Rd > 0) _rt.ModTimer(pd.Rt, pd.Rd, 0, rtf, pd, pd.Rseq);
                else { _rt.DelTimer(pd.Rt); pd.Rt.F = null; }
            }
            if (pd.Wt.F == null)
            {
                if (pd.Wd > 0 && !combo) _rt.ModTimer(pd.Wt, pd.Wd, 0, s_netpollWriteDeadline, pd, pd.Wseq);
            }
            else if (pd.Wd != wd0 || combo != combo0)
            {
                pd.Wseq++; // invalidate current timers
                if (pd.Wd > 0 && !combo) _rt.ModTimer(pd.Wt, pd.Wd, 0, s_netpollWriteDeadline, pd, pd.Wseq);
                else { _rt.DelTimer(pd.Wt); pd.Wt.F = null; }
            }
            // If we set the new deadline in the past, unblock currently pending I/O if any
            // (PublishInfo has already run, above).
            if (pd.Rd < 0) rg = pd.Unblock(write: false, ioready: false);
            if (pd.Wd < 0) wg = pd.Unblock(write: true, ioready: false);
        }
        if (rg != null) GoReady(rg);
        if (wg != null) GoReady(wg);
    }

    private static readonly Action<object?, long> s_netpollDeadline = static (arg, seq) => DeadlineImpl((PollDesc)arg!, seq, true, true);
    private static readonly Action<object?, long> s_netpollReadDeadline = static (arg, seq) => DeadlineImpl((PollDesc)arg!, seq, true, false);
    private static readonly Action<object?, long> s_netpollWriteDeadline = static (arg, seq) => DeadlineImpl((PollDesc)arg!, seq, false, true);

    /// <summary>A deadline timer fired: expire the deadline and unblock the waiter. Mirrors runtime.netpolldeadlineimpl.</summary>
    private static void DeadlineImpl(PollDesc pd, long seq, bool read, bool write)
    {
        G? rg = null, wg = null;
        using (pd.Lock.EnterScope())
        {
            // Seq arg is seq when the timer was set. If it's stale, ignore the timer event.
            long currentSeq = read ? pd.Rseq : pd.Wseq;
            if (seq != currentSeq) return; // the descriptor was reused or timers were reset
            if (read)
            {
                if (pd.Rd <= 0 || pd.Rt.F == null) GoRuntime.Throw("runtime: inconsistent read deadline");
                pd.Rd = -1;
                pd.PublishInfo();
                rg = pd.Unblock(write: false, ioready: false);
            }
            if (write)
            {
                if (pd.Wd <= 0 || (pd.Wt.F == null && !read)) GoRuntime.Throw("runtime: inconsistent write deadline");
                pd.Wd = -1;
                pd.PublishInfo();
                wg = pd.Unblock(write: true, ioready: false);
            }
        }
        if (rg != null) pd.Poller.GoReady(rg);
        if (wg != null) pd.Poller.GoReady(wg);
    }

    /// <summary>
    /// Closes every descriptor still open and the poller itself. Called when the runtime has
    /// stopped (every M has exited), so no goroutine is in a system call on them.
    /// </summary>
    public void Dispose()
    {
        NetFD[] open;
        lock (_cacheLock)
        {
            if (_closed) return;
            _closed = true;
            open = _open.ToArray();
            _open.Clear();
        }
        foreach (var fd in open) fd.CloseOnStop();
        lock (_initLock)
        {
            int bfd = Interlocked.Exchange(ref _breakFd, -1), epfd = Interlocked.Exchange(ref _epfd, -1);
            if (bfd >= 0) Sys.Close(bfd);
            if (epfd >= 0) Sys.Close(epfd);
            _note?.Dispose();
        }
    }
}

public sealed partial class GoRuntime
{
    /// <summary>This runtime's network poller (tests and observability).</summary>
    internal NetPoller Poller => _poller;

    /// <summary>
    /// Makes every G on the list runnable and queues them: with no P, all to the global queue and
    /// an M started for each idle P; with a P, as many to the global queue as there are idle Ps
    /// (with Ms started for them) and the rest to the local queue. Mirrors runtime.injectglist.
    /// </summary>
    internal void InjectGList(ref GList glist)
    {
        if (glist.Empty) return;
        // Mark all the goroutines as runnable before we put them on the run queues.
        G head = glist.Head!;
        int qsize = 0;
        for (G? gp = head; gp != null; gp = gp.SchedLink)
        {
            qsize++;
            CasGStatus(gp, GStatus.Waiting, GStatus.Runnable);
        }
        glist = default;

        M? mp = M.t_current;
        P? pp = mp != null && mp.Runtime == this ? mp.P : null;
        if (pp == null)
        {
            using (_sched.Lock.EnterScope()) GlobRunqPutBatch(head, qsize);
            StartIdle(qsize);
            return;
        }
        int npidle = Volatile.Read(ref _sched.NPIdle);
        int n = 0;
        G? rest = head;
        while (n < npidle && rest != null)
        {
            rest = rest.SchedLink;
            n++;
        }
        if (n > 0)
        {
            using (_sched.Lock.EnterScope()) GlobRunqPutBatch(head, n);
            StartIdle(n);
        }
        // Put the rest on the local run queue.
        if (rest != null) RunqPutBatch(pp, rest, qsize - n);
    }

    /// <summary>injectglist's startIdle: an M for each of up to n idle Ps.</summary>
    private void StartIdle(int n)
    {
        for (; n != 0 && Volatile.Read(ref _sched.NPIdle) != 0; n--) StartM(null, false);
    }

    /// <summary>
    /// findRunnable's network poll before stealing: only an optimisation, skipped when nobody waits
    /// on the network or an M is already blocked in the poller. The first ready G is returned, the
    /// rest injected; the G returned is made runnable here.
    /// </summary>
    private G? NetpollNonBlocking()
    {
        if (!_poller.Inited || Volatile.Read(ref _poller.Waiters) <= 0 || Interlocked.Read(ref _sched.LastPoll) == 0) return null;
        var list = _poller.Netpoll(0); // non-blocking
        return TakeFirstInjectRest(ref list);
    }

    /// <summary>Pops the first G of a netpoll list (made runnable) and injects the rest.</summary>
    private G? TakeFirstInjectRest(ref GList list)
    {
        if (list.Empty) return null;
        G gp = list.Pop()!;
        InjectGList(ref list);
        CasGStatus(gp, GStatus.Waiting, GStatus.Runnable);
        return gp;
    }

    private long _sysmonNetpollReadied;

    /// <summary>Goroutines sysmon's own network polls have readied (for tests).</summary>
    internal long SysmonNetpollReadied => Interlocked.Read(ref _sysmonNetpollReadied);

    /// <summary>
    /// sysmon's network poll when nobody has polled for 10 ms: ready goroutines are injected.
    /// While it injects, sysmon counts as a running M for checkdead (Go: incidlelocked(-1)).
    /// </summary>
    private void SysmonNetpoll(long now)
    {
        long lastpoll = Interlocked.Read(ref _sched.LastPoll);
        if (!_poller.Inited || lastpoll == 0 || lastpoll + 10_000_000 >= now) return;
        Interlocked.CompareExchange(ref _sched.LastPoll, now, lastpoll);
        var list = _poller.Netpoll(0); // non-blocking - returns list of goroutines
        if (list.Empty) return;
        Interlocked.Add(ref _sysmonNetpollReadied, list.Count);
        Interlocked.Increment(ref _outsidePending);
        try { InjectGList(ref list); }
        finally { if (Interlocked.Decrement(ref _outsidePending) == 0) RecheckDead(); }
    }
}
