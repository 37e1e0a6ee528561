// schedtrace / scheddetail of this runtime: reads live state, formats with SchedTraceFormat
// (Go 1.19's exact format, shared with the parser). Mirrors runtime.schedtrace.
namespace GoSched.Observability;

internal static class SchedTraceLines
{
    public static List<string> Build(GoRuntime rt, bool detailed, long sinceStartNs)
    {
        var allp = rt.AllP;
        var sched = rt.SchedState;
        long ms = sinceStartNs / 1_000_000;
        int idle = Volatile.Read(ref sched.NPIdle), threads = rt.MCount();
        int spinning = Volatile.Read(ref sched.NmSpinning), idleThreads = Volatile.Read(ref sched.NmIdle), runq = Volatile.Read(ref sched.RunqSize);
        var lines = new List<string>();
        if (!detailed)
        {
            var qs = allp.Select(LocalRunq).ToArray();
            lines.Add(SchedTraceFormat.SchedLine(ms, allp.Length, idle, threads, spinning, idleThreads, runq, qs));
            return lines;
        }
        lines.Add(SchedTraceFormat.SchedDetailLine(ms, allp.Length, idle, threads, spinning, idleThreads, runq));
        foreach (var p in allp)
            lines.Add(SchedTraceFormat.PLine(p.Id, Volatile.Read(ref p.Status), p.SchedTick, p.SyscallTick, p.M?.Id ?? -1, LocalRunq(p), p.GFreeCount, Volatile.Read(ref p.NumTimers)));
        // Go walks allm, which newm prepends to: the newest M first.
        foreach (var m in rt.AllMSnapshot().Reverse())
            lines.Add(SchedTraceFormat.MLine(m.Id, m.P?.Id ?? -1, m.CurG?.Goid ?? -1, m.Spinning, m.Blocked, -1));
        foreach (var g in rt.AllGs())
        {
            var st = g.Status;
            if (st == GStatus.Dead) continue; // Go lists dead Gs too; here they sit on free lists for reuse
            lines.Add(SchedTraceFormat.GLine(g.Goid, (int)st, st == GStatus.Waiting ? g.WaitReason.Text() : "", g.M?.Id ?? -1, -1));
        }
        return lines;
    }

    private static int LocalRunq(P p) => Math.Max(0, (int)(Volatile.Read(ref p.RunqTail) - Volatile.Read(ref p.RunqHead)));
}
