// The Linux system calls under the network poller and goroutine sockets, through P/Invoke.
//
// Go issues these as raw system calls (sys_linux_amd64.s); here they go through libc with
// SetLastError, and errno is read with Marshal.GetLastPInvokeError. Every call is non-blocking
// (sockets are opened with SOCK_NONBLOCK, the eventfd with EFD_NONBLOCK) except epoll_wait and
// epoll_pwait2, which only the poller calls. The constants are the generic Linux ABI values,
// the same on x86-64 and arm64; struct epoll_event is packed (12 bytes) on x86-64 and naturally
// aligned (16 bytes) on arm64, so the poller reads it with explicit offsets (EventSize, DataOffset).
using System.Runtime.InteropServices;

namespace GoSched.Internal;

internal static unsafe class Sys
{
    /// <summary>True where the native poller and sockets work (Linux on x86-64 or arm64).</summary>
    public static readonly bool Supported = OperatingSystem.IsLinux() &&
        (RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64);

    public const int EAGAIN = 11, EINTR = 4, EBADF = 9, EINVAL = 22, EPIPE = 32, ENOSYS = 38,
        EADDRINUSE = 98, EADDRNOTAVAIL = 99, ECONNABORTED = 103, ECONNRESET = 104, EISCONN = 106,
        ETIMEDOUT = 110, ECONNREFUSED = 111, EALREADY = 114, EINPROGRESS = 115, ENETUNREACH = 101;

    public const uint EPOLLIN = 0x001, EPOLLOUT = 0x004, EPOLLERR = 0x008, EPOLLHUP = 0x010,
        EPOLLRDHUP = 0x2000, EPOLLET = 1u << 31;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;

    public const int AF_INET = 2, AF_INET6 = 10, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1, SO_REUSEADDR = 2, SO_ERROR = 4, IPPROTO_TCP = 6, TCP_NODELAY = 1;
    public const int IPPROTO_IPV6 = 41, IPV6_V6ONLY = 26;
    public const int MSG_NOSIGNAL = 0x4000, SHUT_WR = 1;

    /// <summary>sizeof(struct epoll_event) and the offset of its data field on this architecture.</summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    public static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private const long SysEpollPwait2 = 441; // the same number on x86-64 and arm64 (Linux 5.11+)

    public static int Errno() => Marshal.GetLastPInvokeError();

    [DllImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static extern int EpollCreate1(int flags);

    [DllImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static extern int EpollCtl(int epfd, int op, int fd, byte* ev);

    [DllImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static extern int EpollWait(int epfd, byte* events, int maxevents, int timeoutMs);

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long SysEpollPwait2Call(long number, int epfd, byte* events, int maxevents, Timespec* timeout, void* sigmask, nint sigsetsize);

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec { public long Sec; public long Nsec; }

    /// <summary>epoll_pwait2: like epoll_wait with a nanosecond timeout (null: forever). -1 and errno ENOSYS on kernels before 5.11.</summary>
    public static int EpollPwait2(int epfd, byte* events, int maxevents, Timespec* timeout) =>
        (int)SysEpollPwait2Call(SysEpollPwait2, epfd, events, maxevents, timeout, null, 8);

    /// <summary>epoll_ctl with an event of the given mask and 64-bit data; 0 or errno.</summary>
    public static int EpollCtl(int epfd, int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + DataOffset) = data;
        return EpollCtl(epfd, op, fd, ev) == 0 ? 0 : Errno();
    }

    [DllImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static extern int EventFd(uint initval, int flags);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    public static extern nint Read(int fd, byte* buf, nint count);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    public static extern nint Write(int fd, byte* buf, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static extern int Socket(int domain, int type, int protocol);

    [DllImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static extern int Bind(int fd, byte* addr, int addrlen);

    [DllImport("libc", EntryPoint = "listen", SetLastError = true)]
    public static extern int Listen(int fd, int backlog);

    [DllImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static extern int Accept4(int fd, byte* addr, int* addrlen, int flags);

    [DllImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static extern int Connect(int fd, byte* addr, int addrlen);

    [DllImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static extern int GetSockName(int fd, byte* addr, int* addrlen);

    [DllImport("libc", EntryPoint = "getpeername", SetLastError = true)]
    public static extern int GetPeerName(int fd, byte* addr, int* addrlen);

    [DllImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static extern int SetSockOpt(int fd, int level, int name, int* value, int len);

    [DllImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static extern int GetSockOpt(int fd, int level, int name, int* value, int* len);

    [DllImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static extern nint Recv(int fd, byte* buf, nint len, int flags);

    [DllImport("libc", EntryPoint = "send", SetLastError = true)]
    public static extern nint Send(int fd, byte* buf, nint len, int flags);

    [DllImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static extern int Shutdown(int fd, int how);

    /// <summary>setsockopt with an int value; 0 or errno.</summary>
    public static int SetSockOptInt(int fd, int level, int name, int value) =>
        SetSockOpt(fd, level, name, &value, sizeof(int)) == 0 ? 0 : Errno();

    /// <summary>getsockopt of an int value (Go's getsockoptInt); errno in <paramref name="err"/>.</summary>
    public static int GetSockOptInt(int fd, int level, int name, out int err)
    {
        int value = 0, len = sizeof(int);
        err = GetSockOpt(fd, level, name, &value, &len) == 0 ? 0 : Errno();
        return value;
    }
}
