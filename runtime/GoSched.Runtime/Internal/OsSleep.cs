// usleep for the scheduler's short back-offs (runqgrab's wait before stealing a running P's
// runnext), as Go's runtime calls usleep: the thread gives its CPU away for at least the time
// asked. Thread.Sleep takes milliseconds, and a busy spin would compete with the very M it waits for.
using System.Runtime.InteropServices;

namespace GoSched.Internal;

internal static class OsSleep
{
    private static readonly bool s_libc = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    [DllImport("libc", EntryPoint = "usleep")]
    private static extern int SysUsleep(uint usec);

    /// <summary>Sleeps at least <paramref name="usec"/> µs. Mirrors runtime.usleep.</summary>
    public static void Usleep(uint usec)
    {
        if (s_libc) SysUsleep(usec);
        else Thread.Sleep(usec >= 1000 ? (int)(usec / 1000) : 0); // elsewhere: at least a yield
    }
}
