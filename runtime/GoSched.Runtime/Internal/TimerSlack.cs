// Timer slack: how late Linux lets a sleeping thread's timeout fire.
//
// A futex or epoll wait with a nanosecond timeout is not a nanosecond-precise sleep. For threads of
// the normal scheduling class, the kernel may fire the timeout up to the thread's timer slack late
// (50 µs by default, /proc/<pid>/timerslack_ns) so that it can batch wake-ups; the slack is per
// thread, set with prctl(PR_SET_TIMERSLACK). Measured on the 2-core machines of issue 3, a bare
// futex wait of 1 ms wakes 0.10 ms late at p50 with the default slack and 0.05 ms with a slack of
// 1 ns: half of the floor of the runtime's timer lateness is this slack.
//
// Differs from Go: Go leaves the default slack (and its epoll_wait timeout is in whole
// milliseconds anyway). Here every M asks for the smallest slack when it starts, because the M
// blocked in the poller until the earliest timer is what wakes sleeping goroutines.
using System.Runtime.InteropServices;

namespace GoSched.Internal;

internal static class TimerSlack
{
    private const int PrSetTimerSlack = 29, PrGetTimerSlack = 30;

    [DllImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static extern int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>Asks the kernel for the smallest timer slack (1 ns) on the calling thread; a no-op off Linux.</summary>
    public static void MakePrecise()
    {
        if (!OperatingSystem.IsLinux()) return;
        // The slack is a hint: if the call fails, timeouts are only as late as they were.
        _ = Prctl(PrSetTimerSlack, 1, 0, 0, 0);
    }

    /// <summary>The calling thread's timer slack in ns; -1 off Linux.</summary>
    public static long Current() => OperatingSystem.IsLinux() ? Prctl(PrGetTimerSlack, 0, 0, 0, 0) : -1;
}
