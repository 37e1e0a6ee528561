// Goroutine sockets: TCP listen, accept, dial, read, write and close on the runtime's netpoller
// (Go's net package over internal/poll.FD; fd_unix.go, fd_mutex.go, sock_posix.go).
//
// Every socket is a real non-blocking Linux socket, registered with its runtime's epoll once,
// when it is opened. An operation tries the system call first and parks the goroutine only on
// EAGAIN, exactly as Go's FD.Read does:
//     for { n, err := read(fd, p); if err == EAGAIN { if err = pd.waitRead(); err == nil { continue } }; return n, err }
// so a busy connection never touches the poller, and a waiting goroutine holds no thread.
//
// Errors are values, as in Go: every operation returns a NetResult (value, NetError?) that
// deconstructs like Go's two results, `var (n, err) = await conn.Read(buf);`. A closed
// connection, a deadline, a refused dial or a reset peer is a NetError the goroutine inspects
// (Kind, Timeout), never an exception; only misuse (a null buffer, a call outside a goroutine)
// throws. Messages follow Go's *net.OpError: "read tcp 127.0.0.1:40000->127.0.0.1:8080: i/o timeout".
//
// Closing while another goroutine uses the socket (fdMutex): a reference count with a closed bit.
// Close sets the bit, wakes the waiters (they get "use of closed network connection") and drops
// its reference; the descriptor is unregistered and closed by whoever drops the last one, so no
// goroutine can ever issue a system call on a descriptor number that has been reused. One reader
// and one writer at a time (Go's rwlock halves of fdMutex; here two runtime Mutexes): a pollDesc
// parks one goroutine per direction. Stopping the runtime closes every socket still open.
//
// Deadlines are Go's: SetReadDeadline/SetWriteDeadline/SetDeadline take the time from now
// (time.Now().Add(d); null is the zero time, no deadline); a deadline in the past makes pending
// and future operations fail with a timeout until it is changed. Call them inside a goroutine:
// the deadline timers live on its P.
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using GoSched.Internal;

namespace GoSched;

/// <summary>What kind of error a <see cref="NetError"/> is.</summary>
public enum NetErrorKind
{
    /// <summary>The peer closed the connection (io.EOF).</summary>
    EOF,
    /// <summary>Use of a closed connection or listener (net.ErrClosed).</summary>
    Closed,
    /// <summary>A deadline passed (os.ErrDeadlineExceeded: "i/o timeout").</summary>
    Timeout,
    /// <summary>Nothing listens at the address (ECONNREFUSED).</summary>
    Refused,
    /// <summary>The peer reset the connection (ECONNRESET).</summary>
    Reset,
    /// <summary>Writing to a connection the peer has closed (EPIPE).</summary>
    BrokenPipe,
    /// <summary>The address is in use (EADDRINUSE).</summary>
    AddressInUse,
    /// <summary>The address string is not host:port with a literal IP (no name resolution here).</summary>
    InvalidAddress,
    /// <summary>No native poller on this platform (sockets need Linux).</summary>
    NotSupported,
    /// <summary>Any other system error (see Errno).</summary>
    Other,
}

/// <summary>
/// A network error as a value: Go's error from the net package. Returned in
/// <see cref="NetResult{T}"/>, never thrown.
/// </summary>
public sealed class NetError
{
    internal NetError(NetErrorKind kind, string op, string? source, string? addr, int errno, string detail)
    {
        Kind = kind; Op = op; Source = source; Addr = addr; Errno = errno; Detail = detail;
    }

    /// <summary>io.EOF: the peer closed its side; a Read returns it with 0 bytes.</summary>
    public static readonly NetError EOF = new(NetErrorKind.EOF, "", null, null, 0, "EOF");

    public NetErrorKind Kind { get; }
    /// <summary>"read", "write", "accept", "dial", "listen", "close", "set" ("" for EOF).</summary>
    public string Op { get; }
    /// <summary>Local address of the operation, if any.</summary>
    public string? Source { get; }
    /// <summary>Remote (or listening) address of the operation, if any.</summary>
    public string? Addr { get; }
    /// <summary>The errno behind it (0 if none).</summary>
    public int Errno { get; }
    /// <summary>The error without the operation: "i/o timeout", "connection refused".</summary>
    public string Detail { get; }
    /// <summary>Go's net.Error Timeout().</summary>
    public bool Timeout => Kind == NetErrorKind.Timeout;

    /// <summary>Go's *net.OpError text: "op tcp source->addr: detail".</summary>
    public string Message
    {
        get
        {
            if (Op.Length == 0) return Detail;
            string where = Source != null && Addr != null ? $" {Source}->{Addr}" : Addr != null ? $" {Addr}" : Source != null ? $" {Source}" : "";
            return $"{Op} tcp{where}: {Detail}";
        }
    }

    public override string ToString() => Message;
}

/// <summary>A result and an error, like Go's (value, err); deconstructs into both.</summary>
public readonly struct NetResult<T>(T value, NetError? err)
{
    public T Value { get; } = value;
    /// <summary>null on success.</summary>
    public NetError? Err { get; } = err;
    public bool Ok => Err == null;
    public void Deconstruct(out T value, out NetError? err) { value = Value; err = Err; }
    public override string ToString() => Err == null ? $"{Value}" : $"{Value}, {Err}";
}

/// <summary>Listen and Dial for goroutines (TCP over IPv4 and IPv6 literals; "localhost" is 127.0.0.1).</summary>
public static class Net
{
    /// <summary>
    /// net.Listen("tcp", address): listens on host:port (port 0 picks a free one; see
    /// <see cref="Listener.Addr"/>). Call inside a goroutine.
    /// </summary>
    public static NetResult<Listener> Listen(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var poller = GoRuntime.Current.Poller;
        if (!Sys.Supported) return new(null!, NetFD.Error(NetErrorKind.NotSupported, "listen", null, address, 0, "network sockets need Linux (epoll)"));
        if (!SockAddr.TryParse(address, out var sa, out string? why))
            return new(null!, NetFD.Error(NetErrorKind.InvalidAddress, "listen", null, address, 0, why!));
        var (fd, err) = NetFD.Socket(poller, sa, "listen", address);
        if (err != null) return new(null!, err);
        int errno = Sys.SetSockOptInt(fd!.Sysfd, Sys.SOL_SOCKET, Sys.SO_REUSEADDR, 1);
        if (errno == 0) errno = sa.Bind(fd.Sysfd);
        // Go's listenerBacklog is somaxconn; the kernel caps the request to it.
        if (errno == 0 && Sys.Listen(fd.Sysfd, 4096) != 0) errno = Sys.Errno();
        if (errno != 0)
        {
            fd.Close();
            return new(null!, NetFD.ErrnoError("listen", null, address, errno));
        }
        fd.LocalAddr = SockAddr.Local(fd.Sysfd);
        return new(new Listener(fd), null);
    }

    /// <summary>net.Dial("tcp", address): connects, parking the goroutine until the connection is made or refused.</summary>
    public static async GoFrame<NetResult<Conn>> Dial(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var poller = GoRuntime.Current.Poller;
        if (!Sys.Supported) return new(null!, NetFD.Error(NetErrorKind.NotSupported, "dial", null, address, 0, "network sockets need Linux (epoll)"));
        if (!SockAddr.TryParse(address, out var sa, out string? why))
            return new(null!, NetFD.Error(NetErrorKind.InvalidAddress, "dial", null, address, 0, why!));
        var (fd, err) = NetFD.Socket(poller, sa, "dial", address);
        if (err != null) return new(null!, err);
        int errno = sa.Connect(fd!.Sysfd);
        switch (errno)
        {
            case 0:
            case Sys.EISCONN:
                break;
            case Sys.EINPROGRESS:
            case Sys.EALREADY:
            case Sys.EINTR:
                // Connection could not be made immediately but asynchronously: wait until the
                // socket is writable, then read SO_ERROR (Go's netFD.connect).
                while (true)
                {
                    var perr = await fd.Pd.Wait(write: true);
                    if (perr != PollError.None)
                    {
                        fd.Close();
                        return new(null!, fd.PollErrorValue(perr, "dial", address));
                    }
                    int soerr = Sys.GetSockOptInt(fd.Sysfd, Sys.SOL_SOCKET, Sys.SO_ERROR, out int gerr);
                    if (gerr != 0) soerr = gerr;
                    if (soerr is Sys.EINPROGRESS or Sys.EALREADY or Sys.EINTR) continue;
                    if (soerr is 0 or Sys.EISCONN) { errno = 0; break; }
                    errno = soerr;
                    break;
                }
                break;
        }
        if (errno != 0)
        {
            fd.Close();
            return new(null!, NetFD.ErrnoError("dial", null, address, errno));
        }
        Sys.SetSockOptInt(fd.Sysfd, Sys.IPPROTO_TCP, Sys.TCP_NODELAY, 1); // Go's default for TCP
        fd.LocalAddr = SockAddr.Local(fd.Sysfd);
        fd.RemoteAddr = SockAddr.Peer(fd.Sysfd) ?? address;
        return new(new Conn(fd), null);
    }
}

/// <summary>A TCP listener (net.TCPListener). Use inside goroutines of the runtime that made it.</summary>
public sealed class Listener
{
    private readonly NetFD _fd;
    internal Listener(NetFD fd) { _fd = fd; }

    /// <summary>The address it listens on, with the port chosen ("127.0.0.1:43117").</summary>
    public string Addr => _fd.LocalAddr ?? "";

    /// <summary>Waits for and returns the next connection. Mirrors net.(*TCPListener).Accept / poll.(*FD).Accept.</summary>
    public async GoFrame<NetResult<Conn>> Accept()
    {
        if (!_fd.Incref()) return new(null!, _fd.ClosedError("accept"));
        await _fd.LockRead();
        try
        {
            var perr = _fd.Pd.Reset(write: false);
            if (perr != PollError.None) return new(null!, _fd.PollErrorValue(perr, "accept", null));
            while (true)
            {
                int nfd = _fd.AcceptOnce(out int errno);
                if (nfd >= 0)
                {
                    Sys.SetSockOptInt(nfd, Sys.IPPROTO_TCP, Sys.TCP_NODELAY, 1);
                    var (conn, err) = NetFD.Adopt(_fd.Poller, nfd);
                    return err != null ? new(null!, err) : new(new Conn(conn!), null);
                }
                switch (errno)
                {
                    case Sys.EINTR:
                    case Sys.ECONNABORTED: // this means that a socket on the listen queue was closed before we Accept()ed it; it's a silly error, so try again.
                        continue;
                    case Sys.EAGAIN:
                        perr = await _fd.Pd.Wait(write: false);
                        if (perr != PollError.None) return new(null!, _fd.PollErrorValue(perr, "accept", null));
                        continue;
                    default:
                        return new(null!, NetFD.ErrnoError("accept", null, _fd.LocalAddr, errno));
                }
            }
        }
        finally
        {
            _fd.UnlockRead();
            _fd.Decref();
        }
    }

    /// <summary>Sets the deadline for Accept (time from now; null: none). Call inside a goroutine.</summary>
    public NetError? SetDeadline(TimeSpan? fromNow) => _fd.SetDeadline(fromNow, read: true, write: true);

    /// <summary>Stops listening; a goroutine blocked in Accept gets a Closed error. Closing twice is a Closed error.</summary>
    public NetError? Close() => _fd.Close();

    public override string ToString() => $"listener {Addr}";
}

/// <summary>A TCP connection (net.TCPConn). Use inside goroutines; Close is callable from anywhere.</summary>
public sealed class Conn
{
    private readonly NetFD _fd;
    internal Conn(NetFD fd) { _fd = fd; }

    /// <summary>Local address "ip:port".</summary>
    public string LocalAddr => _fd.LocalAddr ?? "";
    /// <summary>Remote address "ip:port".</summary>
    public string RemoteAddr => _fd.RemoteAddr ?? "";

    /// <summary>
    /// Reads up to buffer.Length bytes: the count, or an error (EOF when the peer has closed, Closed,
    /// Timeout, Reset). Mirrors poll.(*FD).Read.
    /// </summary>
    public async GoFrame<NetResult<int>> Read(Memory<byte> buffer)
    {
        if (!_fd.Incref()) return new(0, _fd.ClosedError("read"));
        await _fd.LockRead();
        try
        {
            var perr = _fd.Pd.Reset(write: false);
            if (perr != PollError.None) return new(0, _fd.PollErrorValue(perr, "read", _fd.RemoteAddr));
            while (true)
            {
                int n = _fd.RecvOnce(buffer.Span, out int errno);
                if (n > 0) return new(n, null);
                if (n == 0) return new(0, buffer.Length == 0 ? null : NetError.EOF);
                if (errno == Sys.EINTR) continue;
                if (errno == Sys.EAGAIN)
                {
                    perr = await _fd.Pd.Wait(write: false);
                    if (perr != PollError.None) return new(0, _fd.PollErrorValue(perr, "read", _fd.RemoteAddr));
                    continue;
                }
                return new(0, NetFD.ErrnoError("read", _fd.LocalAddr, _fd.RemoteAddr, errno));
            }
        }
        finally
        {
            _fd.UnlockRead();
            _fd.Decref();
        }
    }

    /// <summary>
    /// Reads exactly buffer.Length bytes (io.ReadFull): the count read and, if fewer, the error
    /// that stopped it (EOF after a partial read is Go's ErrUnexpectedEOF, reported here as EOF).
    /// </summary>
    public async GoFrame<NetResult<int>> ReadFull(Memory<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            var (n, err) = await Read(buffer[total..]);
            total += n;
            if (err != null) return new(total, err);
        }
        return new(total, null);
    }

    /// <summary>Writes all of buffer (parking while the socket buffer is full): the count written and the error if fewer. Mirrors poll.(*FD).Write.</summary>
    public async GoFrame<NetResult<int>> Write(ReadOnlyMemory<byte> buffer)
    {
        if (!_fd.Incref()) return new(0, _fd.ClosedError("write"));
        await _fd.LockWrite();
        try
        {
            var perr = _fd.Pd.Reset(write: true);
            if (perr != PollError.None) return new(0, _fd.PollErrorValue(perr, "write", _fd.RemoteAddr));
            int nn = 0;
            while (nn < buffer.Length)
            {
                int n = _fd.SendOnce(buffer.Span[nn..], out int errno);
                if (n > 0) { nn += n; continue; }
                if (errno == Sys.EINTR) continue;
                if (errno == Sys.EAGAIN)
                {
                    perr = await _fd.Pd.Wait(write: true);
                    if (perr != PollError.None) return new(nn, _fd.PollErrorValue(perr, "write", _fd.RemoteAddr));
                    continue;
                }
                return new(nn, NetFD.ErrnoError("write", _fd.LocalAddr, _fd.RemoteAddr, n == 0 ? Sys.EPIPE : errno));
            }
            return new(nn, null);
        }
        finally
        {
            _fd.UnlockWrite();
            _fd.Decref();
        }
    }

    /// <summary>Shuts down the writing side (the peer reads EOF). Mirrors net.(*TCPConn).CloseWrite.</summary>
    public NetError? CloseWrite()
    {
        if (!_fd.Incref()) return _fd.ClosedError("close");
        try { return Sys.Shutdown(_fd.Sysfd, Sys.SHUT_WR) == 0 ? null : NetFD.ErrnoError("close", _fd.LocalAddr, _fd.RemoteAddr, Sys.Errno()); }
        finally { _fd.Decref(); }
    }

    /// <summary>Sets the read and write deadlines (time from now; null: none; zero or negative: already passed). Call inside a goroutine.</summary>
    public NetError? SetDeadline(TimeSpan? fromNow) => _fd.SetDeadline(fromNow, read: true, write: true);

    /// <summary>Sets the read deadline. Call inside a goroutine.</summary>
    public NetError? SetReadDeadline(TimeSpan? fromNow) => _fd.SetDeadline(fromNow, read: true, write: false);

    /// <summary>Sets the write deadline. Call inside a goroutine.</summary>
    public NetError? SetWriteDeadline(TimeSpan? fromNow) => _fd.SetDeadline(fromNow, read: false, write: true);

    /// <summary>Closes the connection; goroutines blocked in Read or Write get a Closed error. Closing twice is a Closed error.</summary>
    public NetError? Close() => _fd.Close();

    public override string ToString() => $"conn {LocalAddr}->{RemoteAddr}";
}

/// <summary>
/// A socket descriptor with its pollDesc and Go's fdMutex reference count. Mirrors
/// internal/poll.FD (+ net.netFD's addresses).
/// </summary>
internal sealed class NetFD
{
    // fdMutex state: the reference count in the low bits, and the closed bit.
    private const long ClosedBit = 1L << 62;
    private long _state;
    private readonly Mutex _rmu = new(), _wmu = new();

    public readonly NetPoller Poller;
    public readonly int Sysfd;
    public PollDesc Pd = null!;
    public string? LocalAddr, RemoteAddr;

    private NetFD(NetPoller poller, int sysfd)
    {
        Poller = poller;
        Sysfd = sysfd;
    }

    /// <summary>A new non-blocking socket for sa's family, registered with the poller.</summary>
    public static (NetFD? Fd, NetError? Err) Socket(NetPoller poller, SockAddr sa, string op, string address)
    {
        int s = Sys.Socket(sa.Family, Sys.SOCK_STREAM | Sys.SOCK_NONBLOCK | Sys.SOCK_CLOEXEC, 0);
        if (s < 0) return (null, ErrnoError(op, null, address, Sys.Errno()));
        return Adopt(poller, s);
    }

    /// <summary>Wraps and registers an open non-blocking socket (closing it if registration fails).</summary>
    public static (NetFD? Fd, NetError? Err) Adopt(NetPoller poller, int sysfd)
    {
        var fd = new NetFD(poller, sysfd);
        int errno = poller.Open(fd, sysfd, out var pd);
        if (errno != 0)
        {
            Sys.Close(sysfd);
            return (null, errno == Sys.EBADF
                ? Error(NetErrorKind.Closed, "open", null, null, errno, "the runtime is stopping")
                : ErrnoError("open", null, null, errno));
        }
        fd.Pd = pd!;
        fd.LocalAddr = SockAddr.Local(sysfd);
        fd.RemoteAddr = SockAddr.Peer(sysfd);
        return (fd, null);
    }

    /// <summary>Takes a reference unless closed. Mirrors fdMutex.incref.</summary>
    public bool Incref()
    {
        while (true)
        {
            long v = Volatile.Read(ref _state);
            if ((v & ClosedBit) != 0) return false;
            if (Interlocked.CompareExchange(ref _state, v + 1, v) == v) return true;
        }
    }

    /// <summary>Drops a reference; the last one after Close destroys the descriptor. Mirrors FD.decref.</summary>
    public void Decref()
    {
        long v = Interlocked.Decrement(ref _state);
        if ((v & ~ClosedBit) < 0) GoRuntime.Throw("inconsistent poll.fdMutex");
        if (v == ClosedBit) Destroy();
    }

    /// <summary>Sets the closed bit and takes a reference; false if already closed. Mirrors fdMutex.increfAndClose.</summary>
    private bool IncrefAndClose()
    {
        while (true)
        {
            long v = Volatile.Read(ref _state);
            if ((v & ClosedBit) != 0) return false;
            if (Interlocked.CompareExchange(ref _state, (v | ClosedBit) + 1, v) == v) return true;
        }
    }

    /// <summary>Closes: wakes the waiters, then the last reference unregisters and closes the descriptor. Mirrors poll.(*FD).Close.</summary>
    public NetError? Close()
    {
        if (!IncrefAndClose()) return ClosedError("close");
        // Unblock any I/O. Once it all unblocks and returns, so that it can't affect the
        // descriptor any more, the last decref closes it.
        Poller.Unblock(Pd);
        Decref();
        return null;
    }

    private void Destroy() => Poller.Close(this, Pd);

    /// <summary>The runtime stopped with this descriptor open: close it (no goroutine runs any more).</summary>
    public void CloseOnStop()
    {
        while (true)
        {
            long v = Volatile.Read(ref _state);
            if (Interlocked.CompareExchange(ref _state, v | ClosedBit, v) == v) break;
        }
        Sys.Close(Sysfd);
    }

    public GoFrame LockRead() => LockMu(_rmu);
    public GoFrame LockWrite() => LockMu(_wmu);
    public void UnlockRead() => _rmu.Unlock();
    public void UnlockWrite() => _wmu.Unlock();

    private static async GoFrame LockMu(Mutex mu)
    {
        if (!mu.TryLock()) await mu.Lock();
    }

    public unsafe int RecvOnce(Span<byte> buf, out int errno)
    {
        fixed (byte* p = buf)
        {
            nint n = Sys.Recv(Sysfd, p, buf.Length, 0);
            errno = n < 0 ? Sys.Errno() : 0;
            return (int)n;
        }
    }

    public unsafe int SendOnce(ReadOnlySpan<byte> buf, out int errno)
    {
        fixed (byte* p = buf)
        {
            nint n = Sys.Send(Sysfd, p, buf.Length, Sys.MSG_NOSIGNAL);
            errno = n < 0 ? Sys.Errno() : 0;
            return (int)n;
        }
    }

    public unsafe int AcceptOnce(out int errno)
    {
        int s = Sys.Accept4(Sysfd, null, null, Sys.SOCK_NONBLOCK | Sys.SOCK_CLOEXEC);
        errno = s < 0 ? Sys.Errno() : 0;
        return s;
    }

    /// <summary>Go's setDeadlineImpl: d = time until the deadline (0 would mean none, so a deadline of now is -1).</summary>
    public NetError? SetDeadline(TimeSpan? fromNow, bool read, bool write)
    {
        long d = 0;
        if (fromNow is { } t)
        {
            d = Go.DurationNs(t);
            if (d == 0) d = -1; // don't confuse deadline right now with no deadline
        }
        if (!Incref()) return ClosedError("set");
        try { Poller.SetDeadline(Pd, d, read, write); }
        finally { Decref(); }
        return null;
    }

    /// <summary>The error value for a pollDesc error (Go's convertErr).</summary>
    public NetError PollErrorValue(PollError e, string op, string? addr) => e switch
    {
        PollError.Closing => ClosedError(op),
        PollError.Timeout => Error(NetErrorKind.Timeout, op, LocalAddr, addr ?? RemoteAddr, Sys.ETIMEDOUT, "i/o timeout"),
        _ => Error(NetErrorKind.Other, op, LocalAddr, addr ?? RemoteAddr, 0, "not pollable"),
    };

    public NetError ClosedError(string op) =>
        Error(NetErrorKind.Closed, op, LocalAddr, RemoteAddr, Sys.EBADF, "use of closed network connection");

    public static NetError Error(NetErrorKind kind, string op, string? source, string? addr, int errno, string detail) =>
        new(kind, op, source, addr, errno, detail);

    /// <summary>An errno as Go prints it ("connection refused"), with its kind.</summary>
    public static NetError ErrnoError(string op, string? source, string? addr, int errno)
    {
        var kind = errno switch
        {
            Sys.ECONNREFUSED => NetErrorKind.Refused,
            Sys.ECONNRESET => NetErrorKind.Reset,
            Sys.EPIPE => NetErrorKind.BrokenPipe,
            Sys.EADDRINUSE => NetErrorKind.AddressInUse,
            Sys.ETIMEDOUT => NetErrorKind.Timeout,
            _ => NetErrorKind.Other,
        };
        string text = Marshal.GetPInvokeErrorMessage(errno);
        if (text.Length > 0) text = char.ToLowerInvariant(text[0]) + text[1..];
        string syscall = op switch { "listen" => "bind: ", "dial" => "connect: ", _ => "" };
        return new(kind, op, source, addr, errno, syscall + text);
    }
}

/// <summary>A sockaddr_in or sockaddr_in6 built from "host:port" with a literal IP (no name lookup).</summary>
internal readonly unsafe struct SockAddr
{
    private readonly byte[] _bytes;
    public int Family { get; }

    private SockAddr(int family, byte[] bytes) { Family = family; _bytes = bytes; }

    /// <summary>Parses "ip:port", "[ipv6]:port", "localhost:port" or ":port" (all interfaces).</summary>
    public static bool TryParse(string address, out SockAddr sa, out string? why)
    {
        sa = default;
        why = null;
        int colon = address.LastIndexOf(':');
        if (colon < 0) { why = "missing port in address"; return false; }
        string host = address[..colon], portText = address[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            why = $"invalid port \"{portText}\"";
            return false;
        }
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        else if (host.Contains(':')) { why = "too many colons in address"; return false; }
        IPAddress ip;
        if (host.Length == 0) ip = IPAddress.Any;
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)) ip = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out ip!))
        {
            why = $"no such host \"{host}\" (only literal IP addresses and localhost; no name resolution)";
            return false;
        }
        if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            var b = new byte[16];
            b[0] = Sys.AF_INET; // sa_family (little-endian u16)
            b[2] = (byte)(port >> 8); b[3] = (byte)port; // sin_port, network order
            ip.TryWriteBytes(b.AsSpan(4, 4), out _);
            sa = new SockAddr(Sys.AF_INET, b);
        }
        else
        {
            var b = new byte[28];
            b[0] = Sys.AF_INET6;
            b[2] = (byte)(port >> 8); b[3] = (byte)port;
            ip.TryWriteBytes(b.AsSpan(8, 16), out _);
            uint scope = (uint)ip.ScopeId;
            b[24] = (byte)scope; b[25] = (byte)(scope >> 8); b[26] = (byte)(scope >> 16); b[27] = (byte)(scope >> 24);
            sa = new SockAddr(Sys.AF_INET6, b);
        }
        return true;
    }

    public int Bind(int fd)
    {
        fixed (byte* p = _bytes) return Sys.Bind(fd, p, _bytes.Length) == 0 ? 0 : Sys.Errno();
    }

    public int Connect(int fd)
    {
        fixed (byte* p = _bytes) return Sys.Connect(fd, p, _bytes.Length) == 0 ? 0 : Sys.Errno();
    }

    public static string? Local(int fd)
    {
        byte* b = stackalloc byte[128];
        int len = 128;
        return Sys.GetSockName(fd, b, &len) == 0 ? Format(b, len) : null;
    }

    public static string? Peer(int fd)
    {
        byte* b = stackalloc byte[128];
        int len = 128;
        return Sys.GetPeerName(fd, b, &len) == 0 ? Format(b, len) : null;
    }

    /// <summary>"ip:port" or "[ipv6]:port" from a sockaddr.</summary>
    private static string? Format(byte* b, int len)
    {
        int family = b[0] | (b[1] << 8);
        int port = (b[2] << 8) | b[3];
        if (family == Sys.AF_INET && len >= 8)
            return $"{new IPAddress(new ReadOnlySpan<byte>(b + 4, 4))}:{port.ToString(CultureInfo.InvariantCulture)}";
        if (family == Sys.AF_INET6 && len >= 24)
            return $"[{new IPAddress(new ReadOnlySpan<byte>(b + 8, 16))}]:{port.ToString(CultureInfo.InvariantCulture)}";
        return null;
    }
}
