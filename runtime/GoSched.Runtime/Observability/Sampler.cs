// The sampler: a thread of its own that reads the scheduler's state every period, without taking
// any scheduler lock, and writes schedtrace lines when asked (Go's sysmon prints schedtrace; this
// runtime has the sampler do it so the period is independent of sysmon's back-off).
//
// Every value is a racy read of a field that its owner writes (run-queue head and tail, runnext,
// counters) or an Interlocked/Volatile global (runqsize, npidle, nmspinning). A sample is therefore
// not an atomic snapshot (Go's schedtrace is not either): per-P depths may be a few µs apart.
using GoSched.Internal;

namespace GoSched.Observability;

internal sealed class Sampler
{
    private readonly GoRuntime _rt;
    private readonly long _startNs;
    private readonly Note _wake = new();
    private Thread? _thread;
    private volatile bool _stop;

    public Sampler(GoRuntime rt, long startNs)
    {
        _rt = rt;
        _startNs = startNs;
    }

    public void Start()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = $"gosched-{_rt.Id}-sampler" };
        _thread.Start();
    }

    public void Stop()
    {
        _stop = true;
        _wake.Wakeup();
        _thread?.Join();
        Sample(); // one last reading at the end of the run
        _wake.Dispose();
    }

    private void Loop()
    {
        long period = _rt.Config.SamplePeriodNs;
        long tracePeriod = _rt.Config.SchedTraceNs;
        long step = period > 0 && tracePeriod > 0 ? Math.Min(period, tracePeriod) : Math.Max(period, tracePeriod);
        // The first trace line is at 0 ms, as Go's (sysmon prints as soon as it starts).
        long nextSample = _startNs, nextTrace = _startNs;
        while (!_stop)
        {
            long now = Clock.Nanotime();
            if (period > 0 && now >= nextSample)
            {
                Sample();
                nextSample += period;
                if (nextSample < now) nextSample = now + period; // fell behind: skip, don't burst
            }
            if (tracePeriod > 0 && now >= nextTrace)
            {
                // Go's sysmon rule: lasttrace = now when it prints, so two lines are never closer than
                // the period; a late line pushes the later ones back rather than being followed by one
                // a few ms after it (a fixed grid, as the samples keep, would).
                SchedTrace(_rt.Config.SchedDetail, now);
                nextTrace = now + tracePeriod;
            }
            long next = Math.Min(period > 0 ? nextSample : long.MaxValue, tracePeriod > 0 ? nextTrace : long.MaxValue);
            _wake.TSleep(Math.Max(0, Math.Min(next - Clock.Nanotime(), step)));
        }
    }

    /// <summary>Reads the scheduler's state into one SchedSample.</summary>
    internal void Sample()
    {
        var allp = _rt.AllP;
        var sched = _rt.SchedState;
        var runq = new int[allp.Length];
        var runnext = new bool[allp.Length];
        var timers = new int[allp.Length];
        var deleted = new int[allp.Length];
        int runningMs = 0;
        for (int i = 0; i < allp.Length; i++)
        {
            var p = allp[i];
            // An M holding a running P with a goroutine on it (a spinning M holds its P with none).
            if (Volatile.Read(ref p.Status) == (int)PStatus.Running && Volatile.Read(ref p.M) is { } m && Volatile.Read(ref m.CurG) != null)
                runningMs++;
            uint h = Volatile.Read(ref p.RunqHead), t = Volatile.Read(ref p.RunqTail);
            int n = (int)(t - h);
            runq[i] = n < 0 || n > p.Runq.Length ? 0 : n; // inconsistent read: treat as empty
            runnext[i] = Volatile.Read(ref p.RunNext) != null;
            timers[i] = Volatile.Read(ref p.NumTimers);
            deleted[i] = Volatile.Read(ref p.DeletedTimers);
        }
        int runnable = 0, running = 0, waiting = 0, syscall = 0, dead = 0;
        foreach (var g in _rt.AllGs())
        {
            switch (g.Status)
            {
                case GStatus.Runnable: runnable++; break;
                case GStatus.Running: running++; break;
                case GStatus.Waiting: waiting++; break;
                case GStatus.Syscall: syscall++; break;
                case GStatus.Dead: dead++; break;
            }
        }
        int spinning = Volatile.Read(ref sched.NmSpinning), idle = Volatile.Read(ref sched.NmIdle);
        // Each goroutine in a system call holds its M; exactly one M blocks in netpoll while lastpoll is 0.
        // nmidlelocked dips below 0 while retake hands a P off (it pretends one more M runs): no M is idle-locked then.
        var machines = new MachineCounts(runningMs, syscall, spinning, idle, Math.Max(0, Volatile.Read(ref sched.NmIdleLocked)),
            Interlocked.Read(ref sched.LastPoll) == 0 ? 1 : 0);
        _rt.Recording.AddSample(new SchedSample(
            Clock.Nanotime() - _startNs, allp.Length, Volatile.Read(ref sched.NPIdle), _rt.MCount(),
            spinning, idle, Volatile.Read(ref sched.RunqSize),
            runq, runnext, new GoroutineCounts(runnable, running, waiting, syscall, dead), timers, deleted,
            machines, _rt.Poller.Counters(), _rt.SyscallCounts()));
    }

    /// <summary>Writes schedtrace (and scheddetail) lines in Go's format. Mirrors runtime.schedtrace.</summary>
    internal void SchedTrace(bool detailed, long now)
    {
        var lines = SchedTraceLines.Build(_rt, detailed, now - _startNs);
        foreach (var line in lines)
        {
            _rt.Recording.AddSchedTrace(line);
            _rt.SchedTraceOut?.WriteLine(line);
        }
    }
}
