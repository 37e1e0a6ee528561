// schedtrace / scheddetail output of this runtime, in Go 1.19's format (proc.go, schedtrace).
namespace GoSched.Observability;

internal static class SchedTraceLines
{
    public static List<string> Build(GoRuntime rt, bool detailed, long sinceStartNs)
    {
        var allp = rt.AllP;
        var sched = rt.SchedState;
        var lines = new List<string>();
        var head = $"SCHED {sinceStartNs / 1_000_000}ms: gomaxprocs={allp.Length} idleprocs={Volatile.Read(ref sched.NPIdle)} " +
                   $"threads={Volatile.Read(ref sched.MNext)} spinningthreads={Volatile.Read(ref sched.NmSpinning)} " +
                   $"idlethreads={Volatile.Read(ref sched.NmIdle)} runqueue={Volatile.Read(ref sched.RunqSize)}";
        if (!detailed)
        {
            var qs = allp.Select(p => Math.Max(0, (int)(Volatile.Read(ref p.RunqTail) - Volatile.Read(ref p.RunqHead))));
            lines.Add(head + " [" + string.Join(" ", qs) + "]");
            return lines;
        }
        lines.Add(head + " gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0");
        foreach (var p in allp)
        {
            var m = p.M;
            lines.Add($"  P{p.Id}: status={Volatile.Read(ref p.Status)} schedtick={p.SchedTick} syscalltick={p.SyscallTick} " +
                      $"m={(m == null ? -1 : m.Id)} runqsize={Math.Max(0, (int)(Volatile.Read(ref p.RunqTail) - Volatile.Read(ref p.RunqHead)))} " +
                      $"gfreecnt={p.GFreeCount} timerslen=0");
        }
        foreach (var m in rt.AllMSnapshot())
        {
            var p = m.P;
            var g = m.CurG;
            lines.Add($"  M{m.Id}: p={(p == null ? -1 : p.Id)} curg={(g == null ? -1 : g.Goid)} mallocing=0 throwing=0 preemptoff= " +
                      $"locks=0 dying=0 spinning={(m.Spinning ? "true" : "false")} blocked={(m.Blocked ? "true" : "false")} lockedg=-1");
        }
        foreach (var g in rt.AllGs())
        {
            var st = g.Status;
            if (st == GStatus.Dead) continue; // Go prints dead Gs too; kept short here (they are reused)
            var m = g.M;
            lines.Add($"  G{g.Goid}: status={(int)st}({g.WaitReason.Text()}) m={(m == null ? -1 : m.Id)} lockedm=-1");
        }
        return lines;
    }
}
