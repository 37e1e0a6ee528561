// SchedTrace: Go's GODEBUG=schedtrace/scheddetail text, read and written.
//
// Go's sysmon prints one line every schedtrace milliseconds (Go 1.19, runtime/proc.go schedtrace):
//
//   SCHED 1009ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [0 3]
//
// the bracket list being each P's local run-queue length (runqtail - runqhead; runnext not counted).
// With scheddetail=1 the bracket list is replaced by four more fields and the line is followed by
// one line per P (allp order), per M (allm list, newest first) and per G (allgs, dead ones included):
//
//   SCHED 1009ms: gomaxprocs=2 ... runqueue=0 gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0
//     P0: status=1 schedtick=10 syscalltick=2 m=3 runqsize=0 gfreecnt=5 timerslen=0
//     M3: p=0 curg=17 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=false lockedg=-1
//     G1: status=4(semacquire) m=-1 lockedm=-1
//
// Two free-text fields need care: preemptoff is any string (often empty, sometimes with spaces,
// "GC worker init"), so it runs up to " locks="; a wait reason may itself contain parentheses
// ("chan receive (nil chan)"), so it runs up to the last ") m=".
//
// SchedTraceFormat writes these lines from plain values, for the runtime's own schedtrace;
// SchedTraceParser reads them back into a Recording. The parser is strict about the lines it
// recognises (a line starting "SCHED " or "  P<digit>", "  M<digit>", "  G<digit>") and skips every
// other line, because a captured log usually holds the program's own output too.
using System.Globalization;
using System.Text;

namespace GoSched.Observability;

/// <summary>A SCHED, P, M or G line that does not have Go's schedtrace format, or a log with no schedtrace at all.</summary>
public sealed class SchedTraceFormatException : FormatException
{
    public SchedTraceFormatException(int lineNumber, string message)
        : base(lineNumber > 0 ? $"line {lineNumber}: {message}" : message)
    {
        LineNumber = lineNumber;
    }

    /// <summary>1-based number of the offending line; 0 when the error is about the whole input.</summary>
    public int LineNumber { get; }
}

/// <summary>
/// Formats schedtrace and scheddetail lines exactly as Go 1.19's runtime.schedtrace prints them
/// (no trailing newline). Mirrors the print statements of runtime.schedtrace (proc.go).
/// </summary>
public static class SchedTraceFormat
{
    /// <summary>The SCHED line of plain schedtrace, ending with the per-P local run-queue lengths in brackets.</summary>
    /// <param name="timeMs">Milliseconds since the first schedtrace line (Go: (now - starttime) / 1e6).</param>
    public static string SchedLine(
        long timeMs, int gomaxprocs, int idleProcs, int threads, int spinningThreads, int idleThreads, int runqueue,
        ReadOnlySpan<int> localRunq)
    {
        // Go prints nothing (not even the newline) for an empty allp; there is always a P here.
        if (localRunq.IsEmpty)
            throw new ArgumentException("a SCHED line needs the run-queue length of at least one P", nameof(localRunq));
        var sb = SchedPrefix(timeMs, gomaxprocs, idleProcs, threads, spinningThreads, idleThreads, runqueue);
        for (int i = 0; i < localRunq.Length; i++)
            sb.Append(i == 0 ? " [" : " ").Append(localRunq[i]);
        return sb.Append(']').ToString();
    }

    /// <summary>The SCHED line of a sample, truncating its time to milliseconds as Go does.</summary>
    public static string SchedLine(SchedSample s) =>
        SchedLine(s.TimeNs / 1_000_000, s.Gomaxprocs, s.IdleProcs, s.Threads, s.SpinningThreads, s.IdleThreads,
            s.GlobalRunq, s.LocalRunq);

    /// <summary>The SCHED line that opens a scheddetail block (P, M and G lines follow it).</summary>
    public static string SchedDetailLine(
        long timeMs, int gomaxprocs, int idleProcs, int threads, int spinningThreads, int idleThreads, int runqueue,
        int gcWaiting = 0, int nmIdleLocked = 0, int stopWait = 0, int sysmonWait = 0) =>
        SchedPrefix(timeMs, gomaxprocs, idleProcs, threads, spinningThreads, idleThreads, runqueue)
            .Append(" gcwaiting=").Append(gcWaiting)
            .Append(" nmidlelocked=").Append(nmIdleLocked)
            .Append(" stopwait=").Append(stopWait)
            .Append(" sysmonwait=").Append(sysmonWait)
            .ToString();

    /// <summary>A scheddetail P line. <paramref name="m"/> is the id of the M holding the P, or -1.</summary>
    public static string PLine(int id, int status, long schedTick, long syscallTick, long m, int runqSize, int gFreeCount, int timersLen) =>
        Invariant($"  P{id}: status={status} schedtick={schedTick} syscalltick={syscallTick} m={m} runqsize={runqSize} gfreecnt={gFreeCount} timerslen={timersLen}");

    public static string PLine(ProcDetail p) =>
        PLine(p.Id, p.Status, p.SchedTick, p.SyscallTick, p.M, p.RunqSize, p.GFreeCount, p.TimersLen);

    /// <summary>A scheddetail M line. <paramref name="p"/>, <paramref name="curG"/> and <paramref name="lockedG"/> are -1 when absent.</summary>
    public static string MLine(
        long id, int p, long curG, bool spinning, bool blocked, long lockedG,
        int mallocing = 0, int throwing = 0, string preemptOff = "", int locks = 0, int dying = 0) =>
        Invariant($"  M{id}: p={p} curg={curG} mallocing={mallocing} throwing={throwing} preemptoff={preemptOff} locks={locks} dying={dying} spinning={GoBool(spinning)} blocked={GoBool(blocked)} lockedg={lockedG}");

    public static string MLine(MachineDetail m) => MLine(m.Id, m.P, m.CurG, m.Spinning, m.Blocked, m.LockedG);

    /// <summary>A scheddetail G line; <paramref name="waitReason"/> is "" unless the G waits.</summary>
    public static string GLine(long id, int status, string waitReason, long m, long lockedM) =>
        Invariant($"  G{id}: status={status}({waitReason}) m={m} lockedm={lockedM}");

    public static string GLine(GoroutineDetail g) => GLine(g.Id, g.Status, g.WaitReason, g.M, g.LockedM);

    private static StringBuilder SchedPrefix(
        long timeMs, int gomaxprocs, int idleProcs, int threads, int spinningThreads, int idleThreads, int runqueue) =>
        new StringBuilder(160).Append(Invariant(
            $"SCHED {timeMs}ms: gomaxprocs={gomaxprocs} idleprocs={idleProcs} threads={threads} spinningthreads={spinningThreads} idlethreads={idleThreads} runqueue={runqueue}"));

    private static string GoBool(bool b) => b ? "true" : "false";

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Reads a real Go program's GODEBUG=schedtrace (and scheddetail) output into a <see cref="Recording"/>
/// with <see cref="Recording.Source"/> "go", so it can be plotted like one of this runtime's runs.
/// </summary>
public static class SchedTraceParser
{
    // Go's G status codes (runtime2.go), as scheddetail prints them; _Gscan is a bit on top.
    private const int GIdle = 0, GRunnable = 1, GRunning = 2, GSyscall = 3, GWaiting = 4, GMoribundUnused = 5,
        GDead = 6, GEnqueueUnused = 7, GCopyStack = 8, GPreempted = 9, GScan = 0x1000;

    /// <summary>Parses the log at <paramref name="path"/>; the workload is the file name without extension.</summary>
    public static Recording ParseFile(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>
    /// Parses schedtrace text. Every SCHED line becomes a <see cref="SchedSample"/> and every
    /// scheddetail block also a <see cref="SchedDetail"/>; lines that are not schedtrace are skipped.
    /// </summary>
    /// <exception cref="SchedTraceFormatException">A malformed SCHED/P/M/G line, or no SCHED line at all.</exception>
    public static Recording Parse(TextReader reader, string workload)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Recording? recording = null;
        Block? block = null;
        long lastTimeNs = -1;
        int lineNo = 0;

        for (string? line; (line = reader.ReadLine()) != null;)
        {
            lineNo++;
            switch (Classify(line))
            {
                case LineKind.Sched:
                    block?.Flush(recording!);
                    block = ParseSched(line, lineNo);
                    if (block.TimeNs < lastTimeNs)
                        throw new SchedTraceFormatException(lineNo,
                            $"time {block.TimeNs / 1_000_000}ms is before the previous SCHED line's {lastTimeNs / 1_000_000}ms (two runs in one log?)");
                    lastTimeNs = block.TimeNs;
                    recording ??= new Recording("go", workload, $"gomaxprocs={block.Gomaxprocs}");
                    break;
                case LineKind.P:
                    DetailBlock(block, lineNo, "P").Procs.Add(ParseP(line, lineNo));
                    break;
                case LineKind.M:
                    DetailBlock(block, lineNo, "M").Machines.Add(ParseM(line, lineNo));
                    break;
                case LineKind.G:
                    DetailBlock(block, lineNo, "G").Goroutines.Add(ParseG(line, lineNo));
                    break;
                default:
                    continue; // the program's own output
            }
            recording!.AddSchedTrace(line);
        }

        if (recording is null || block is null)
            throw new SchedTraceFormatException(0, "no schedtrace lines found; was the program run with GODEBUG=schedtrace=<ms>?");
        block.Flush(recording);
        recording.WallNs = lastTimeNs;
        return recording;
    }

    private enum LineKind { Other, Sched, P, M, G }

    private static LineKind Classify(string line)
    {
        if (line.StartsWith("SCHED ", StringComparison.Ordinal))
            return LineKind.Sched;
        if (line.Length < 4 || line[0] != ' ' || line[1] != ' ' || !char.IsAsciiDigit(line[3]))
            return LineKind.Other;
        return line[2] switch { 'P' => LineKind.P, 'M' => LineKind.M, 'G' => LineKind.G, _ => LineKind.Other };
    }

    private static Block DetailBlock(Block? block, int lineNo, string kind)
    {
        if (block is null)
            throw new SchedTraceFormatException(lineNo, $"{kind} line before any SCHED line");
        if (!block.Detailed)
            throw new SchedTraceFormatException(lineNo,
                $"{kind} line after a SCHED line without scheddetail fields (gcwaiting=...)");
        return block;
    }

    /// <summary>Mirrors the first print of runtime.schedtrace (proc.go), plus its detailed or bracket tail.</summary>
    private static Block ParseSched(string line, int lineNo)
    {
        var c = new Cursor(line, lineNo, "SCHED line");
        c.Expect("SCHED ");
        long ms = c.Long("for the time");
        c.Expect("ms:");
        var b = new Block
        {
            TimeNs = checked(ms * 1_000_000),
            Gomaxprocs = c.IntField(" gomaxprocs="),
            IdleProcs = c.IntField(" idleprocs="),
            Threads = c.IntField(" threads="),
            SpinningThreads = c.IntField(" spinningthreads="),
            IdleThreads = c.IntField(" idlethreads="),
            GlobalRunq = c.IntField(" runqueue="),
        };
        if (c.TryExpect(" gcwaiting="))
        {
            b.Detailed = true;
            c.Long("after 'gcwaiting='");
            c.IntField(" nmidlelocked=");
            c.IntField(" stopwait=");
            c.IntField(" sysmonwait=");
        }
        else
        {
            c.Expect(" [", "either ' gcwaiting=' (scheddetail) or ' [' (per-P run queues)");
            b.LocalRunq = new List<int>();
            do b.LocalRunq.Add(c.Int("for a per-P run-queue length"));
            while (c.TryExpect(" "));
            c.Expect("]");
        }
        c.End();
        return b;
    }

    private static ProcDetail ParseP(string line, int lineNo)
    {
        var c = Cursor.Detail(line, lineNo, 'P', out long id);
        if (id > int.MaxValue)
            throw new SchedTraceFormatException(lineNo, $"P id {id} is out of range in P line");
        var p = new ProcDetail((int)id,
            Status: c.IntField(" status="),
            SchedTick: c.LongField(" schedtick="),
            SyscallTick: c.LongField(" syscalltick="),
            M: c.LongField(" m="),
            RunqSize: c.IntField(" runqsize="),
            GFreeCount: c.IntField(" gfreecnt="),
            TimersLen: c.IntField(" timerslen="));
        c.End();
        return p;
    }

    private static MachineDetail ParseM(string line, int lineNo)
    {
        var c = Cursor.Detail(line, lineNo, 'M', out long id);
        int p = c.IntField(" p=");
        long curG = c.LongField(" curg=");
        c.IntField(" mallocing=");
        c.IntField(" throwing=");
        c.Expect(" preemptoff=");
        c.TextUntil(" locks=", last: false);
        c.IntField(" locks=");
        c.IntField(" dying=");
        bool spinning = c.BoolField(" spinning=");
        bool blocked = c.BoolField(" blocked=");
        long lockedG = c.LongField(" lockedg=");
        c.End();
        return new MachineDetail(id, p, curG, spinning, blocked, lockedG);
    }

    private static GoroutineDetail ParseG(string line, int lineNo)
    {
        var c = Cursor.Detail(line, lineNo, 'G', out long id);
        int status = c.IntField(" status=");
        c.Expect("(");
        string reason = c.TextUntil(") m=", last: true);
        c.Expect(")");
        long m = c.LongField(" m=");
        long lockedM = c.LongField(" lockedm=");
        c.End();
        if (Category(status) is null)
            throw new SchedTraceFormatException(lineNo, $"unknown goroutine status {status} in G line");
        return new GoroutineDetail(id, status, reason, m, lockedM);
    }

    /// <summary>
    /// Which <see cref="GoroutineCounts"/> column a G status falls in, scan bit ignored; null if unknown.
    /// _Gpreempted counts as waiting (Go: "like _Gwaiting"), _Gcopystack as running (newstack sets it
    /// on a running G), _Gidle (just allocated) and the unused codes as dead.
    /// </summary>
    private static int? Category(int status) => (status & ~GScan) switch
    {
        GRunnable => 0,
        GRunning or GCopyStack => 1,
        GWaiting or GPreempted => 2,
        GSyscall => 3,
        GDead or GIdle or GMoribundUnused or GEnqueueUnused => 4,
        _ => null,
    };

    private static GoroutineCounts Count(List<GoroutineDetail> gs)
    {
        Span<int> n = stackalloc int[5];
        foreach (var g in gs)
            n[Category(g.Status)!.Value]++;
        return new GoroutineCounts(Runnable: n[0], Running: n[1], Waiting: n[2], Syscall: n[3], Dead: n[4]);
    }

    /// <summary>One SCHED line and, with scheddetail, the P/M/G lines after it; flushed at the next SCHED line.</summary>
    private sealed class Block
    {
        public long TimeNs;
        public int Gomaxprocs, IdleProcs, Threads, SpinningThreads, IdleThreads, GlobalRunq;
        public bool Detailed;
        public List<int>? LocalRunq; // from the brackets; null when detailed
        public readonly List<ProcDetail> Procs = new();
        public readonly List<MachineDetail> Machines = new();
        public readonly List<GoroutineDetail> Goroutines = new();

        public void Flush(Recording r)
        {
            int[] local = Detailed ? Procs.Select(p => p.RunqSize).ToArray() : LocalRunq!.ToArray();
            r.AddSample(new SchedSample(TimeNs, Gomaxprocs, IdleProcs, Threads, SpinningThreads, IdleThreads,
                GlobalRunq, local, RunNext: null, Detailed ? Count(Goroutines) : null));
            if (Detailed)
                r.AddDetail(new SchedDetail(TimeNs, Procs.ToArray(), Machines.ToArray(), Goroutines.ToArray()));
        }
    }

    /// <summary>Reads one line left to right; every failure names the line and what was expected.</summary>
    private ref struct Cursor(string line, int lineNo, string kind)
    {
        private ReadOnlySpan<char> _rest = line;

        /// <summary>A cursor past the "  P3:" (M, G) that opens a scheddetail line, with the id read.</summary>
        public static Cursor Detail(string line, int lineNo, char letter, out long id)
        {
            var c = new Cursor(line, lineNo, $"{letter} line");
            c.Expect($"  {letter}");
            id = c.Long($"for the {letter} id");
            c.Expect(":");
            return c;
        }

        public void Expect(string literal, string? what = null)
        {
            if (!TryExpect(literal))
                throw Fail($"expected {what ?? $"'{literal.Trim()}'"} in {kind}{Found()}");
        }

        public bool TryExpect(string literal)
        {
            if (!_rest.StartsWith(literal, StringComparison.Ordinal))
                return false;
            _rest = _rest[literal.Length..];
            return true;
        }

        public long Long(string what)
        {
            int n = _rest.Length > 0 && _rest[0] == '-' ? 1 : 0;
            while (n < _rest.Length && char.IsAsciiDigit(_rest[n]))
                n++;
            if (!long.TryParse(_rest[..n], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                throw Fail($"expected an integer {what} in {kind}{Found()}");
            _rest = _rest[n..];
            return v;
        }

        public int Int(string what)
        {
            long v = Long(what);
            if (v is < int.MinValue or > int.MaxValue)
                throw Fail($"integer {v} {what} is out of range in {kind}");
            return (int)v;
        }

        public long LongField(string key) { Expect(key); return Long($"after '{key.Trim()}'"); }

        public int IntField(string key) { Expect(key); return Int($"after '{key.Trim()}'"); }

        public bool BoolField(string key)
        {
            Expect(key);
            if (TryExpect("true")) return true;
            if (TryExpect("false")) return false;
            throw Fail($"expected true or false after '{key.Trim()}' in {kind}{Found()}");
        }

        /// <summary>Free text up to the first (or last) <paramref name="terminator"/>, which is left unread.</summary>
        public string TextUntil(string terminator, bool last)
        {
            int i = last ? _rest.LastIndexOf(terminator, StringComparison.Ordinal) : _rest.IndexOf(terminator, StringComparison.Ordinal);
            if (i < 0)
                throw Fail($"expected '{terminator.Trim()}' in {kind}");
            string text = _rest[..i].ToString();
            _rest = _rest[i..];
            return text;
        }

        public void End()
        {
            if (!_rest.IsEmpty)
                throw Fail($"unexpected text at the end of {kind}{Found()}");
        }

        private readonly string Found() =>
            _rest.IsEmpty ? ", found the end of the line" : $", found '{(_rest.Length > 20 ? _rest[..20].ToString() + "..." : _rest.ToString())}'";

        private readonly SchedTraceFormatException Fail(string message) => new(lineNo, message);
    }
}
