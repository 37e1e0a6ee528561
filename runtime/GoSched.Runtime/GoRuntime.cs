// GoRuntime: one scheduler instance, its lifecycle and its public API.
//
// A runtime is an object, not a process-wide global: a notebook starts, stops and restarts many
// in one kernel, and may run two side by side. Start creates the Ps; Ms (threads) are created on
// demand by startm, as in Go. Stop ends every thread the runtime started and drops every
// goroutine: nothing leaks into the host process (a test runs 200 start/stop cycles).
//
// A run ends in one of three ways: the main goroutine returns (Go's exit(0): goroutines still
// alive are dropped), a goroutine panics (an exception escapes its body), or checkdead finds
// every goroutine blocked with nothing that can wake it. The last two are reported as errors with
// Go's wording, and the host keeps running.
using System.Globalization;
using GoSched.Internal;
using GoSched.Observability;

namespace GoSched;

/// <summary>A Go-style scheduler: Gs on Ms on Ps. Thread-safe; see the class essay in GoRuntime.cs.</summary>
public sealed partial class GoRuntime : IDisposable
{
    private static int s_nextId;
    [ThreadStatic] private static GoRuntime? t_spawnTarget;

    private readonly int _id = Interlocked.Increment(ref s_nextId);
    private readonly GoConfig _config;
    private int _gomaxprocs;   // changes at run time: procresize (Procresize.cs)
    private P[] _allp;         // replaced by procresize; readers without sched.lock take the array once
    private readonly PMask _idlepMask;
    private readonly PMask _timerpMask;
    private readonly NetPoller _poller; // epoll + eventfd break (Netpoll.cs)
    private RandomOrder _stealOrder;
    private readonly Sched _sched = new();
    private readonly List<M> _allm = new(); // under sched.lock
    private readonly object _allgsLock = new();
    private readonly List<G> _allgs = new(); // under _allgsLock
    private G[] _allgsArr = new G[64];       // lock-free view for the sampler: written under _allgsLock
    private int _allgsLen;
    private FastRand _hostRand;

    private volatile bool _started;
    private volatile bool _stopping;
    private volatile bool _stopped;
    private Exception? _fatal;
    private int _threadsAlive;
    private readonly ManualResetEventSlim _runEnded = new(false);
    private int _outsidePending;
    private int _externalWaits;
    private bool _mainPending; // the next host spawn is Run's main goroutine
    private long _hostGStarted;
    private long _startNs;
    private long _endNs;
    private Sampler? _sampler;

    /// <summary>Creates a runtime with the given knobs (validated here).</summary>
    public GoRuntime(GoConfig? config = null)
    {
        _config = (config ?? new GoConfig()).Validate();
        _gomaxprocs = _config.Gomaxprocs;
        _allp = new P[_gomaxprocs];
        for (int i = 0; i < _gomaxprocs; i++) _allp[i] = new P(i, _config.LocalRunqSize);
        _pcache = (P[])_allp.Clone();
        _idlepMask = new PMask(GoConfig.MaxGomaxprocs);
        _timerpMask = new PMask(GoConfig.MaxGomaxprocs);
        _stealOrder = new RandomOrder((uint)_gomaxprocs);
        _hostRand = new FastRand(SeedFor(-1));
        _poller = new NetPoller(this);
        Recording = new Recording("gosched", "custom", _config.ToString());
    }

    /// <summary>The knobs this runtime runs with.</summary>
    public GoConfig Config => _config;

    /// <summary>A number unique in this process, for thread names and labels.</summary>
    public int Id => _id;

    /// <summary>What the sampler and schedtrace have recorded so far.</summary>
    public Recording Recording { get; private set; }

    /// <summary>Where schedtrace lines go as well as into the recording (e.g. Console.Out); null: recording only.</summary>
    public TextWriter? SchedTraceOut { get; set; }

    /// <summary>True between Start and Stop.</summary>
    public bool IsRunning => _started && !_stopped;

    /// <summary>The error that stopped the runtime (panic, deadlock, invariant), if any.</summary>
    public Exception? Error => Volatile.Read(ref _fatal);

    /// <summary>Names the recording's workload (before Start).</summary>
    public GoRuntime WithWorkloadName(string workload)
    {
        if (_started) throw new InvalidOperationException("the workload name is set before Start");
        Recording = new Recording("gosched", workload, _config.ToString());
        return this;
    }

    /// <summary>Creates the Ps (all idle) and starts the sampler. Ms start on demand.</summary>
    public GoRuntime Start()
    {
        using (_sched.Lock.EnterScope())
        {
            if (_started) throw new InvalidOperationException("runtime already started");
            _started = true;
            _startNs = Clock.Nanotime();
            _sched.LastPoll = _startNs; // nobody is blocked in the poller
            _sched.ProcResizeTime = _startNs;
            for (int i = _gomaxprocs - 1; i >= 0; i--) PIdlePut(_allp[i]);
        }
        StartSysmon();
        StartPauser();
        if (_config.SamplePeriodNs > 0 || _config.SchedTraceNs > 0)
        {
            _sampler = new Sampler(this, _startNs);
            _sampler.Start();
        }
        return this;
    }

    /// <summary>
    /// Starts a goroutine from outside the runtime (a notebook cell, a test, a goroutine of another
    /// runtime): `go body()`. It goes to the global queue and an idle P is woken. Inside one of
    /// this runtime's goroutines it is the go statement (runnext). Returns its goroutine id.
    /// </summary>
    public long Go(Func<GoTask> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (!_started) Start();
        if (_stopping) throw new InvalidOperationException("the runtime is stopping" + (_fatal != null ? $": {_fatal.Message}" : ""));
        if (M.t_current is { } mp)
        {
            // Called inside a goroutine: of this runtime, it is `go body()`; of another one, the
            // body must still start here, not on the caller's runtime.
            if (mp.Runtime == this) return body().Goid;
            var previousTarget = mp.SpawnTarget;
            mp.SpawnTarget = this;
            try { return body().Goid; }
            finally { mp.SpawnTarget = previousTarget; }
        }
        var previous = t_spawnTarget;
        t_spawnTarget = this;
        try { return body().Goid; }
        finally { t_spawnTarget = previous; }
    }

    /// <summary>
    /// How long Run waits, once the run has ended, for its threads to leave. Every M leaves at its
    /// goroutine's next runtime await, within microseconds; only code that never awaits keeps one
    /// (it cannot be preempted here), and Run then returns without it and says so.
    /// </summary>
    public static readonly TimeSpan RunStopWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The least time a timed-out Run's stop waits for its threads before it names one as left
    /// running, whatever is left of the timeout. A goroutine between two awaits holds its M for
    /// microseconds, but the M still needs a CPU to get there and leave, which on a busy machine
    /// takes milliseconds: with the timeout's tenth as the only wait (0.1 ms for a 1 ms timeout),
    /// fanout's main goroutine, in the middle of its go statements, was reported as code that
    /// never awaits.
    /// </summary>
    private static readonly TimeSpan s_stopWaitFloor = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Runs <paramref name="main"/> as the main goroutine until it returns (or panics, or the
    /// program deadlocks, or <paramref name="timeout"/> passes), then stops the runtime and returns
    /// what happened. Never throws for the goroutines' errors: they are in the result.
    /// </summary>
    /// <remarks>
    /// Main returning is success, as Go's exit(0), whatever other goroutines are doing. In Go the
    /// process exit ends them; here a thread cannot be killed, so a goroutine that never awaits
    /// keeps its M's thread running. Run waits for it at most <see cref="RunStopWait"/>, then
    /// returns with the result's <see cref="RunResult.Warnings"/> naming the M and goroutine left
    /// running; that thread exits by itself at the goroutine's next runtime await or return, and
    /// touches nothing of another runtime.
    /// The timeout counts the stop too: the run is stopped a tenth of the timeout (at most
    /// RunStopWait) before the timeout ends, and the stop waits for the threads until the timeout
    /// ends, but at least 0.1 s (s_stopWaitFloor) and at most RunStopWait. So a call outlasts its
    /// timeout only when threads take longer than that tenth to leave and the tenth is under
    /// 0.1 s (a timeout under 1 s), and then by less than 0.1 s, plus the time to collect the
    /// run's figures.
    /// Run blocks its thread: it cannot be called from a goroutine (GoUsageException).
    /// </remarks>
    public RunResult Run(Func<GoTask> main, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(main);
        if (M.t_current is { } mp) throw NestedRun(mp);
        if (timeout == Timeout.InfiniteTimeSpan) timeout = null;
        if (timeout is { } t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), t, "the timeout must be positive");
        if (_stopped) throw new InvalidOperationException("this runtime has run and stopped; a runtime runs once: make a new GoRuntime for the next run");
        if (_started) throw new InvalidOperationException("Run starts the runtime itself; use Go() on a started runtime");
        long begin = Clock.Nanotime();
        // Keep the end of the timeout for the stop: the whole call returns within the timeout.
        TimeSpan? stopReserve = timeout is { } tt ? TimeSpan.FromTicks(Math.Min(RunStopWait.Ticks, tt.Ticks / 10)) : null;
        Start();
        var previous = t_spawnTarget;
        t_spawnTarget = this;
        _mainPending = true;
        try { main(); }
        finally { t_spawnTarget = previous; _mainPending = false; }

        // Cancelling (a notebook's interrupt) ends the run like an error: goroutines stop at their next await.
        using var cancel = cancellationToken.Register(() => Fatal(new OperationCanceledException("run cancelled", cancellationToken)));
        bool timedOut = !_runEnded.Wait(timeout is { } limit ? Remaining(limit - stopReserve!.Value) : Timeout.InfiniteTimeSpan);
        // The goroutines stop at their next await; one that never awaits cannot be stopped (no
        // asynchronous preemption), so the stop waits briefly and says so.
        var stopWait = timeout is { } total ? Max(s_stopWaitFloor, Min(RunStopWait, Remaining(total))) : RunStopWait;
        string? stuck = StopCore(stopWait);
        var warnings = stuck == null ? Array.Empty<string>() : new[] { LeftRunningWarning(stuck, stopWait, timedOut) };
        // The error says that the run timed out; what was left running is the warning's to say,
        // once (the summaries print both: the error held the whole warning as well).
        // Durations in Go's form, exact at any size: seconds to three places said "less the 0 s
        // kept to stop its threads" for a 1 ms timeout.
        Exception? timeoutError = timedOut
            ? new TimeoutException(
                $"timed out: the run did not finish within {Durations.Format((timeout!.Value - stopReserve!.Value).Ticks * 100)} " +
                $"(its {Durations.Format(timeout.Value.Ticks * 100)} timeout, less {Durations.Format(stopReserve.Value.Ticks * 100)} kept to stop its threads)" +
                $"{(stuck == null ? "" : "; a goroutine that never awaits kept its thread running (see the warning)")}")
            : null;
        return BuildResult(timeoutError ?? Error) with { Warnings = warnings };

        TimeSpan Remaining(TimeSpan budget) => TimeSpan.FromTicks(Math.Max(0, budget.Ticks - (Clock.Nanotime() - begin) / 100));
        static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
        static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
    }

    /// <summary>
    /// Run called on an M's thread (from a goroutine, of this runtime or another): it would block
    /// that M, and its P, until the inner run ends, and the inner main would be spawned on the
    /// outer runtime (a goroutine's spawns go to its own runtime), so neither run could end.
    /// </summary>
    private static GoUsageException NestedRun(M mp) => new(
        $"GoRuntime.Run blocks its thread until the run ends, so it cannot be called from a goroutine " +
        $"(goroutine {mp.CurG?.Goid.ToString() ?? "none"} on M{mp.Id} of runtime {mp.Runtime.Id}): start goroutines directly " +
        "(call the async GoTask method: Go's go statement), or run the other runtime from a thread of its own " +
        "(GoRuntime.RunAsync, or a new Thread)");

    /// <summary>What a run left behind: the Ms still running goroutine code after the stop's wait, and why.</summary>
    private static string LeftRunningWarning(string stuck, TimeSpan waited, bool timedOut) => string.Create(CultureInfo.InvariantCulture,
        $"{(timedOut ? "after the timeout" : "the run ended, but")} {stuck} still ran goroutine code " +
        $"{waited.TotalSeconds:0.###} s later: a goroutine that never awaits the runtime cannot be preempted here (no asynchronous " +
        $"preemption: Go <= 1.13 semantics), and in Go the process exit would have ended it. Its thread was left running; " +
        $"it exits at the goroutine's next runtime await or return.");

    /// <summary><see cref="Run"/> on a dedicated thread (no thread-pool thread runs scheduler code).</summary>
    public Task<RunResult> RunAsync(Func<GoTask> main, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var tcs = new TaskCompletionSource<RunResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var t = new Thread(() =>
        {
            try { tcs.SetResult(Run(main, timeout, cancellationToken)); }
            catch (Exception e) { tcs.SetException(e); }
        }) { IsBackground = true, Name = $"gosched-{_id}-run" };
        t.Start();
        return tcs.Task;
    }

    /// <summary>Stops every M and the sampler; drops all goroutines. Safe to call twice.</summary>
    public void Stop()
    {
        var timeout = TimeSpan.FromSeconds(10);
        if (StopCore(timeout) is { } stuck)
            throw new TimeoutException(
                $"runtime stop: threads still running after {timeout.TotalSeconds:0} s: {stuck}; " +
                "a goroutine is running code that never awaits the runtime, which cannot be preempted here (no asynchronous " +
                "preemption: Go <= 1.13 semantics), and its thread goes on running it until it returns or awaits");
    }

    /// <summary>Stops the runtime as Stop does, without throwing if a thread could not be stopped.</summary>
    public void Dispose() => StopCore(TimeSpan.FromSeconds(10));

    /// <summary>Counters and gauges right now (racy reads, like schedtrace).</summary>
    public RuntimeStats Stats()
    {
        long started = Interlocked.Read(ref _hostGStarted), finished = 0, steals = 0, stolen = 0;
        foreach (var p in AllPEver) { started += p.GStarted; finished += p.GFinished; steals += p.Counters.StealOps; stolen += p.Counters.StolenGs; }
        return new RuntimeStats(_gomaxprocs, started, finished, steals, stolen,
            Volatile.Read(ref _sched.RunqSize), Volatile.Read(ref _sched.NPIdle), Volatile.Read(ref _sched.NmSpinning),
            (int)Interlocked.Read(ref _sched.MNext), Volatile.Read(ref _threadsAlive));
    }

    /// <summary>
    /// P-nanoseconds the runtime has had since it started: GOMAXPROCS integrated over time, so that
    /// a figure per P (a workload's efficiency) stays right when GOMAXPROCS changes mid-run.
    /// Go keeps the same sum (sched.totaltime, updated by procresize).
    /// </summary>
    public long ProcTimeNs()
    {
        using (_sched.Lock.EnterScope())
            return _sched.TotalTime + (long)_gomaxprocs * (Clock.Nanotime() - _sched.ProcResizeTime);
    }

    internal P[] AllP => _allp;
    internal Sched SchedState => _sched;
    internal long StartNs => _startNs;
    internal int ThreadsAlive => Volatile.Read(ref _threadsAlive);
    internal bool Stopping => _stopping;

    /// <summary>All Gs ever allocated (lock-free view; length read after the array).</summary>
    internal ReadOnlySpan<G> AllGs()
    {
        var arr = Volatile.Read(ref _allgsArr);
        int n = Math.Min(Volatile.Read(ref _allgsLen), arr.Length);
        return arr.AsSpan(0, n);
    }

    internal IReadOnlyList<M> AllMSnapshot() { using (_sched.Lock.EnterScope()) return _allm.ToArray(); }

    /// <summary>
    /// The threads schedtrace reports: Ms created and not freed, plus sysmon's thread. Mirrors
    /// runtime.mcount (mnext - nmfreed). Differs from Go: sysmon runs on a thread with no M here;
    /// Go gives it an M, which mcount counts, so it is counted as one. Racy read, as schedtrace's.
    /// </summary>
    internal int MCount() =>
        (int)(Interlocked.Read(ref _sched.MNext) - Interlocked.Read(ref _sched.NmFreed)) + (_sysmonThread != null ? 1 : 0);

    /// <summary>
    /// Stops the runtime and waits up to <paramref name="timeout"/> for its threads to leave.
    /// Returns null if they all did, else the Ms still running goroutine code ("M1 (goroutine 2)").
    /// An M with no goroutine is not one of them: it is in the scheduler on its way out, or out
    /// already (its thread ends a moment after it leaves, and sysmon's and the pauser's threads
    /// are counted alive too); it was named as "M0 (goroutine none)", running goroutine code.
    /// </summary>
    private string? StopCore(TimeSpan timeout)
    {
        if (M.t_current?.Runtime == this)
            throw new GoUsageException("a runtime cannot be stopped from one of its own goroutines");
        using (_sched.Lock.EnterScope())
        {
            if (!_started || _stopped) return null;
            _stopping = true;
            WakeIdleMsLocked();
        }
        _poller.Break();
        _sysmonNote.Signal();
        WakePauser();
        _runEnded.Set();
        string? stuck = null;
        if (!SpinWait.SpinUntil(() => Volatile.Read(ref _threadsAlive) == 0, timeout))
        {
            stuck = string.Join(", ", AllMSnapshot().Where(m => m.Thread is { IsAlive: true })
                .Select(m => (m.Id, G: Volatile.Read(ref m.CurG)))
                .Where(m => m.G is not null)
                .Select(m => $"M{m.Id} (goroutine {m.G!.Goid})"));
            if (stuck.Length == 0) stuck = null; // the last one left just now
        }
        _sampler?.Stop();
        _endNs = Clock.Nanotime();
        Recording.WallNs = _endNs - _startNs;
        CollectTimerStats();
        CollectNetpollStats();
        Recording.Syscalls = SyscallCounts();
        Recording.Counters = AllPEver.Select(p => new ProcCounters(p.Id, p.SchedTick, p.Counters.StealOps, p.Counters.StolenGs,
            p.Counters.RunNextHits, p.Counters.GlobalRunqTakes, p.Counters.Spins, p.Counters.Parks)).ToArray();
        using (_sched.Lock.EnterScope()) _stopped = true;
        // A thread left running releases the notes and the poller when it leaves (ThreadExited).
        Interlocked.MemoryBarrier(); // the store of _stopped before the read of _threadsAlive: pairs with ThreadExited
        if (Volatile.Read(ref _threadsAlive) == 0) ReleaseThreadResources();
        ReleaseGoroutines();
        return stuck;
    }

    /// <summary>
    /// Every thread of the runtime (Ms, sysmon, the pauser) calls this as it leaves. The last one
    /// to leave a stopped runtime releases what the threads shared, when StopCore could not
    /// (it returned with a thread still running goroutine code).
    /// </summary>
    private void ThreadExited()
    {
        // Interlocked: a full fence before the read of _stopped (pairs with StopCore).
        if (Interlocked.Decrement(ref _threadsAlive) == 0 && _stopped) ReleaseThreadResources();
    }

    private int _threadResourcesReleased;

    /// <summary>Disposes the Ms' notes, the poller and sysmon's note, once, after every thread has left.</summary>
    private void ReleaseThreadResources()
    {
        if (Interlocked.Exchange(ref _threadResourcesReleased, 1) != 0) return;
        foreach (var m in AllMSnapshot()) m.Park.Dispose();
        _poller.Dispose();
        _sysmonNote.Dispose();
    }

    /// <summary>Drops every reference to goroutine state so a stopped runtime holds nothing alive.</summary>
    private void ReleaseGoroutines()
    {
        lock (_allgsLock)
        {
            foreach (var gp in _allgs) { gp.Dropped = true; gp.Body?.Clear(); gp.Body = null; gp.Top = null; gp.SchedLink = null; gp.SudogCache = null; gp.SelectCache = null; gp.Panic = null; }
            _allgs.Clear();
            _allgsArr = Array.Empty<G>();
            _allgsLen = 0;
        }
        using (_sched.Lock.EnterScope())
        {
            _sched.Runq.Clear();
            _sched.GFreeWithBody.Clear();
            _sched.GFreeNoBody.Clear();
            foreach (var p in AllPEver) { Array.Clear(p.Runq); Array.Clear(p.SlowBatch); p.RunNext = null; p.GFree.Clear(); }
        }
    }

    /// <summary>Merges the Ps' netpoll wake latency into the recording, with the poller's counters (after every M has exited).</summary>
    private void CollectNetpollStats()
    {
        var merged = Latency.NewHistogram();
        foreach (var p in AllPEver)
            if (p.NetpollWakeLatency is { } h) merged.Add(h);
        Recording.NetpollWakeLatency = merged;
        Recording.Netpoll = _poller.Counters();
    }

    /// <summary>Merges the Ps' timer lateness into the recording (after every M has exited).</summary>
    private void CollectTimerStats()
    {
        var merged = Latency.NewHistogram();
        var firings = new List<Observability.TimerFiring>();
        foreach (var p in AllPEver)
        {
            using (p.TimersLock.EnterScope())
            {
                merged.Add(p.TimerStats.Lateness);
                firings.AddRange(p.TimerStats.Firings);
            }
        }
        firings.Sort((a, b) => a.TimeNs.CompareTo(b.TimeNs));
        Recording.TimerLateness = merged;
        Recording.TimerLatenessByP = AllPEver.Select(p => (HdrHistogram.LongHistogram)p.TimerStats.Lateness.Copy()).ToArray();
        Recording.TimerFirings = firings;
        Recording.ClearedDeletedTimers = AllPEver.Sum(p => p.ClearedDeletedTimers);
    }

    /// <summary>Wakes every idle M so it sees _stopping and exits. sched.lock must be held.</summary>
    private void WakeIdleMsLocked()
    {
        AssertLockHeld(ref _sched.Lock);
        while (MGet() is { } m) m.Park.Wakeup();
        foreach (var m in _sched.IdleLocked) m.Park.Wakeup();
        _sched.IdleLocked.Clear();
    }

    /// <summary>
    /// Records the error that stops the runtime (the first one wins) and starts stopping: freezes
    /// the world, then wakes every idle M so that it sees the stop and exits.
    /// </summary>
    internal void Fatal(Exception e)
    {
        FreezeTheWorld(e);
        using (_sched.Lock.EnterScope()) WakeIdleMsLocked();
    }

    /// <summary>Fatal for callers that already hold sched.lock (checkdead). sched.lock must be held.</summary>
    private void FatalLocked(Exception e)
    {
        AssertLockHeld(ref _sched.Lock);
        FreezeTheWorld(e);
        WakeIdleMsLocked();
    }

    /// <summary>
    /// The first step of every fatal error (a goroutine's panic, a deadlock, a broken invariant):
    /// records the error (the first one wins) and tells every M to resume no goroutine from now on.
    /// Takes no lock, so it runs where the error is found, even under sched.lock or a channel's
    /// lock, before anything slow (formatting the error's stack). Mirrors runtime.freezetheworld
    /// (proc.go), which startpanic_m and fatalthrow call before printing.
    /// </summary>
    /// <remarks>
    /// The stop protocol, once _stopping is set (a volatile store, read by every M):
    /// 1. No M resumes a goroutine body: Execute reads _stopping before every MoveNext, so the
    ///    only bodies that still run user code are those already inside MoveNext.
    /// 2. Those are asked to yield (preemptall): their next runtime await reports "not completed",
    ///    the body unwinds to its M, and (1) keeps it from being resumed. One that never awaits
    ///    cannot be stopped (no asynchronous preemption); StopCore reports its thread.
    /// 3. schedule and findRunnable return when they see the flag; timers and the netpoller may
    ///    still ready a goroutine, but (1) keeps it from running. Idle Ms are woken (Fatal, with
    ///    sched.lock) and the poller is broken here, so every M sees the flag at once.
    /// Differs from Go: Go's freezetheworld stops the Ps (gcwaiting) best-effort and the process
    /// then exits, ending every thread; here the process goes on, so the stop must be complete
    /// and the Ms must leave by themselves.
    /// </remarks>
    internal void FreezeTheWorld(Exception e)
    {
        Interlocked.CompareExchange(ref _fatal, e, null);
        _stopping = true;
        Interlocked.MemoryBarrier(); // the store above before the reads of CurG in PreemptAll (pairs with Execute's read)
        PreemptAll(null);
        _poller.Break();
        _runEnded.Set();
    }

    /// <summary>
    /// The main goroutine returned: like Go's exit(0), the run ends now. The stop flag is set here,
    /// on the M, before any other M can go idle: goroutines still blocked are not a deadlock.
    /// </summary>
    private void MainExited()
    {
        using (_sched.Lock.EnterScope())
        {
            _stopping = true;
            WakeIdleMsLocked();
        }
        _poller.Break();
        _runEnded.Set();
    }

    private RunResult BuildResult(Exception? error)
    {
        var s = Stats();
        return new RunResult(Recording, _config, Recording.WallNs, s.GoroutinesStarted, s.GoroutinesFinished, s.StealOps, s.StolenGoroutines, error);
    }

    // --- goroutine creation ---

    /// <summary>
    /// `go f()` from an `async GoTask` call: newproc on the current M's runtime, or on the host's
    /// Go() caller's. Reads the thread's M once and hands it to newproc (a thread-static read is a
    /// call into the TLS helper here, where Go's getg() is a register).
    /// </summary>
    internal static long Spawn<TStateMachine>(ref TStateMachine stateMachine) where TStateMachine : System.Runtime.CompilerServices.IAsyncStateMachine
    {
        M? mp = M.t_current;
        if (mp != null)
            return mp.SpawnTarget is { } other ? other.NewProc(null, ref stateMachine) : mp.Runtime.NewProc(mp, ref stateMachine);
        GoRuntime rt = t_spawnTarget ?? throw new GoUsageException(
            "a goroutine body (an async GoTask method) was called outside any goroutine; start it with runtime.Go(() => Body(...))");
        return rt.NewProc(null, ref stateMachine);
    }

    /// <summary>The runtime of the running goroutine.</summary>
    internal static GoRuntime Current => M.t_current?.Runtime ?? throw new GoUsageException("not inside a goroutine");

    /// <summary>
    /// The running goroutine, for a runtime operation in its body (an awaiter, Go.Select...), or a
    /// usage error naming what needed one. Also a usage error if the body already recorded a park
    /// and ran on: an async GoFrame call that blocked was not awaited (see NotAwaited).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static G CurrentG(string what)
    {
        var gp = M.t_current?.CurG;
        if (gp == null || gp.Outcome != GOutcome.None) ThrowNotInGoroutine(gp, what); // out of line, so that CurrentG inlines
        return gp!;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowNotInGoroutine(G? gp, string what) =>
        throw (gp == null ? new GoUsageException($"{what} can only run inside a goroutine") : NotAwaited(gp, what));

    /// <summary>The running goroutine for the method builders, which run after an awaiter recorded its park.</summary>
    internal static G BuilderG(string what) =>
        M.t_current?.CurG ?? throw new GoUsageException($"{what} can only run inside a goroutine");

    /// <summary>
    /// Execute clears a goroutine's outcome before it resumes the body, and an awaiter that records
    /// a park (or a yield) returns "not completed" at once, so the body's frames unwind to the M. A
    /// body that reaches another runtime operation, or returns, with an outcome recorded has
    /// dropped a suspended GoFrame on the floor (`_ = F()`, or F() with CS4014 silenced): the park
    /// would be published under it, or never. The park's lock is released here, so that the
    /// goroutines that need it do not spin on it while the run ends with this error.
    /// </summary>
    internal static GoUsageException NotAwaited(G gp, string what)
    {
        var unlock = gp.ParkUnlock;
        gp.ParkUnlock = null;
        gp.Outcome = GOutcome.None;
        unlock?.ParkUnlock();
        return new GoUsageException(
            $"{what}: goroutine {gp.Goid} called an async GoFrame method that blocked and did not await it; " +
            "await every GoFrame call (silencing CS4014 for `go` calls of GoTask methods silences it for GoFrames too)");
    }

    internal static GoUsageException ForeignAwait<TAwaiter>(TAwaiter awaiter) => new(
        $"a goroutine awaited {typeof(TAwaiter).FullName}, which the runtime cannot resume. " +
        "Inside goroutines await only runtime operations (channels, Go.Sleep/Work/Gosched, WaitGroup, Mutex, GoFrame helpers); " +
        "for a .NET Task use `await Go.Await(task)`.");

    internal static GoUsageException DirectOnCompleted() => new("runtime awaiters are resumed by the scheduler; OnCompleted is not supported");

    /// <summary>
    /// Creates a G running the given state machine and puts it on the run queue: the current P's
    /// runnext (then wakep) from a goroutine, the global queue from outside. mp is the calling
    /// thread's M, null outside the runtime. Mirrors runtime.newproc/newproc1.
    /// </summary>
    internal long NewProc<TStateMachine>(M? mp, ref TStateMachine stateMachine) where TStateMachine : System.Runtime.CompilerServices.IAsyncStateMachine
    {
        if (_stopping) throw new InvalidOperationException("the runtime is stopping" + (_fatal != null ? $": {_fatal.Message}" : ""));
        P? pp = mp != null && mp.Runtime == this ? mp.P : null;
        G? newg = pp != null ? GFGet(pp) : GFGetGlobal();
        if (newg == null)
        {
            newg = new G(this);
            CasGStatus(newg, GStatus.Idle, GStatus.Dead);
            AllGAdd(newg);
        }
        if (newg.Body is not GBody<TStateMachine> body)
        {
            body = new GBody<TStateMachine>();
            newg.Body = body;
        }
        body.StateMachine = stateMachine;
        newg.Top = null;
        if (pp == null && _mainPending) { _mainPending = false; newg.IsMain = true; }
        newg.Goid = pp != null ? NextGoid(pp) : Interlocked.Increment(ref _sched.GoidGen);
        CasGStatus(newg, GStatus.Dead, GStatus.Runnable);
        if (pp != null)
        {
            pp.GStarted++;
            RunqPut(pp, newg, next: true);
            WakeP();
        }
        else
        {
            Interlocked.Increment(ref _hostGStarted);
            InjectFromOutside(newg);
        }
        return newg.Goid;
    }

    /// <summary>goids come from sched.goidgen in batches of 16 per P (Go's _GoidCacheBatch).</summary>
    private long NextGoid(P pp)
    {
        if (pp.GoidCache == pp.GoidCacheEnd)
        {
            pp.GoidCacheEnd = Interlocked.Add(ref _sched.GoidGen, 16) + 1;
            pp.GoidCache = pp.GoidCacheEnd - 16;
        }
        return pp.GoidCache++;
    }

    private void AllGAdd(G gp)
    {
        lock (_allgsLock)
        {
            _allgs.Add(gp);
            if (_allgsLen == _allgsArr.Length)
            {
                var bigger = new G[Math.Max(64, _allgsArr.Length * 2)];
                _allgsArr.AsSpan(0, _allgsLen).CopyTo(bigger);
                Volatile.Write(ref _allgsArr, bigger);
            }
            _allgsArr[_allgsLen] = gp;
            Volatile.Write(ref _allgsLen, _allgsLen + 1);
        }
    }

    /// <summary>Counts a wait on something outside the runtime (a .NET task) that will ready a G: checkdead must not fire meanwhile.</summary>
    internal void AddExternalWait(int delta)
    {
        if (Interlocked.Add(ref _externalWaits, delta) == 0 && delta < 0) RecheckDead();
    }
}

/// <summary>Counters and gauges of a runtime at one instant.</summary>
public sealed record RuntimeStats(
    int Gomaxprocs, long GoroutinesStarted, long GoroutinesFinished, long StealOps, long StolenGoroutines,
    int GlobalRunq, int IdleProcs, int SpinningThreads, int Threads, int ThreadsAlive);

/// <summary>What a run did: its recording, its figures, and the error that ended it if any.</summary>
public sealed record RunResult(
    Recording Recording, GoConfig Config, long WallNs, long GoroutinesStarted, long GoroutinesFinished,
    long StealOps, long StolenGoroutines, Exception? Error)
{
    /// <summary>Workload-specific figures (e.g. "ns_per_hop", "efficiency").</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>The workload's arguments after defaults (empty for custom runs).</summary>
    public IReadOnlyDictionary<string, long> Arguments { get; init; } = new Dictionary<string, long>();

    /// <summary>
    /// What the run left behind without it being an error, one sentence each: the Ms whose
    /// goroutine was still running code that never awaits when Run returned (their threads go on
    /// until it awaits). Empty when everything stopped.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    /// <summary>True if main returned and nothing went wrong (<see cref="Warnings"/> may still say what was left running).</summary>
    public bool Succeeded => Error == null;

    /// <summary>Throws the run's error, if any.</summary>
    public RunResult EnsureSuccess()
    {
        if (Error != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(Error);
        return this;
    }
}
