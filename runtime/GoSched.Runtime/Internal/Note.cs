// Notes: one-shot sleep/wakeup for Ms, on futex (lock_futex.go).
//
// A note's key is 0 while cleared and 1 once woken. notesleep waits while the key is 0;
// notewakeup sets it to 1 and wakes the sleeper. Exactly one thread sleeps on a note and exactly
// one wakes it; noteclear rearms it. The key lives in native memory so that its address is fixed
// for the kernel. On Linux the wait is FUTEX_WAIT_PRIVATE with a relative timeout in nanoseconds;
// elsewhere a Monitor stands in (slower, same semantics), as the README says.
using System.Runtime.InteropServices;

namespace GoSched.Internal;

internal sealed unsafe class Note : IDisposable
{
    private int* _key;
    private static readonly bool s_futex = OperatingSystem.IsLinux() &&
        (RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64);
    private static readonly long s_sysFutex = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 98 : 202;
    private const int FutexWaitPrivate = 0 | 128;
    private const int FutexWakePrivate = 1 | 128;

    public Note()
    {
        _key = (int*)NativeMemory.AllocZeroed(sizeof(int));
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Sec; public long Nsec; }

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long SysFutex(long number, int* uaddr, int op, int val, Timespec* timeout, int* uaddr2, int val3);

    /// <summary>Mirrors runtime.noteclear.</summary>
    public void Clear() => Volatile.Write(ref *_key, 0);

    /// <summary>Mirrors runtime.notewakeup. Waking a note twice is a runtime bug.</summary>
    public void Wakeup()
    {
        int old = Interlocked.Exchange(ref *_key, 1);
        if (old != 0) throw new RuntimeInvariantException("notewakeup - double wakeup");
        if (s_futex) SysFutex(s_sysFutex, _key, FutexWakePrivate, 1, null, null, 0);
        else lock (this) Monitor.PulseAll(this);
    }

    /// <summary>Sets the key and wakes a sleeper without the one-wakeup check (for the poller stand-in where epoll is missing, which re-arms itself).</summary>
    public void Signal()
    {
        Interlocked.Exchange(ref *_key, 1);
        if (s_futex) SysFutex(s_sysFutex, _key, FutexWakePrivate, 1, null, null, 0);
        else lock (this) Monitor.PulseAll(this);
    }

    /// <summary>Clears the key; true if it was set (a signal was consumed).</summary>
    public bool Consume() => Interlocked.Exchange(ref *_key, 0) != 0;

    /// <summary>Mirrors runtime.notesleep: waits until woken.</summary>
    public void Sleep() => TSleep(-1);

    /// <summary>Mirrors runtime.notetsleep: waits until woken or <paramref name="ns"/> elapse (ns &lt; 0: forever). True if woken.</summary>
    public bool TSleep(long ns)
    {
        long deadline = ns < 0 ? 0 : Clock.Nanotime() + ns;
        while (Volatile.Read(ref *_key) == 0)
        {
            if (s_futex)
            {
                if (ns < 0)
                {
                    SysFutex(s_sysFutex, _key, FutexWaitPrivate, 0, null, null, 0);
                }
                else
                {
                    long left = deadline - Clock.Nanotime();
                    if (left <= 0) return Volatile.Read(ref *_key) != 0;
                    var ts = new Timespec { Sec = left / 1_000_000_000, Nsec = left % 1_000_000_000 };
                    SysFutex(s_sysFutex, _key, FutexWaitPrivate, 0, &ts, null, 0);
                }
            }
            else
            {
                lock (this)
                {
                    if (Volatile.Read(ref *_key) != 0) break;
                    if (ns < 0) Monitor.Wait(this);
                    else
                    {
                        long left = deadline - Clock.Nanotime();
                        if (left <= 0) return false;
                        Monitor.Wait(this, TimeSpan.FromTicks(Math.Max(1, left / 100)));
                    }
                }
            }
        }
        return true;
    }

    public void Dispose()
    {
        if (_key != null) { NativeMemory.Free(_key); _key = null; }
        GC.SuppressFinalize(this);
    }

    ~Note() { if (_key != null) NativeMemory.Free(_key); }
}
