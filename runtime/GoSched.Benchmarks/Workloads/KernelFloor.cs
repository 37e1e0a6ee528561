// The kernel's own timer floor on this machine: how late a bare epoll_pwait2 with a 1 ms timeout
// returns on a thread with a 1 ns timer slack, which is exactly what gosched's idle M does when
// it blocks in the poller until a timer (Netpoll.cs). Nothing in user space can wake a sleeper
// earlier than the kernel wakes the thread, so this bounds every system's idle figure from below:
// `gosched bench timers` measures it right after its repetitions and prints it beside them.
using GoSched.Internal;

namespace GoSched.Benchmarks.Workloads;

internal static unsafe class KernelFloor
{
    /// <summary>Lateness (ns) of <paramref name="waits"/> bare waits of <paramref name="timeoutNs"/>, on a fresh thread; null where epoll is missing.</summary>
    public static long[]? Measure(int waits, long timeoutNs)
    {
        if (!Sys.Supported) return null;
        long[]? lateness = null;
        var t = new Thread(() =>
        {
            TimerSlack.MakePrecise();
            int ep = Sys.EpollCreate1(Sys.EPOLL_CLOEXEC);
            if (ep < 0) return;
            try
            {
                var events = stackalloc byte[Sys.EventSize];
                var ts = new Sys.Timespec { Sec = timeoutNs / 1_000_000_000, Nsec = timeoutNs % 1_000_000_000 };
                var result = new long[waits];
                for (int i = 0; i < waits; i++)
                {
                    long start = Clock.Nanotime();
                    if (Sys.EpollPwait2(ep, events, 1, &ts) < 0 && Sys.Errno() == Sys.ENOSYS) return; // kernel before 5.11
                    result[i] = Clock.Nanotime() - start - timeoutNs;
                }
                lateness = result;
            }
            finally { Sys.Close(ep); }
        }) { IsBackground = true, Name = "kernel-floor" };
        t.Start();
        t.Join();
        return lateness;
    }
}
