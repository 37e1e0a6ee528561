// SIGINT and SIGTERM as a request to stop, for the commands that can stop and still report.
//
// Unhandled, either signal ended `gosched run` at once (exit 130 or 143) with nothing on stdout,
// and `gosched notebook` without writing the cells that had run. While a command listens (Listen),
// the first signal is taken: Token is cancelled, which stops the run as its timeout does, and the
// command prints what it has and exits 128 + the signal's number. A second signal is not taken,
// so it ends the process at once, as an unhandled one does.
using System.Runtime.InteropServices;

namespace GoSched.Cli;

/// <summary>The first SIGINT or SIGTERM while a command listens, as a cancellation; tests call <see cref="Trigger"/>.</summary>
public sealed class Interruption
{
    private readonly CancellationTokenSource _cts = new();
    private readonly bool _posix;
    private int _signal; // 0 until the first signal: 2 (SIGINT) or 15 (SIGTERM)

    /// <param name="posix">handle the process's real signals while listening (false: only <see cref="Trigger"/>, for tests).</param>
    public Interruption(bool posix) => _posix = posix;

    /// <summary>Cancelled at the first signal.</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>The signal's name, SIGINT or SIGTERM (null before one).</summary>
    public string? Signal => Volatile.Read(ref _signal) switch { 2 => "SIGINT", 15 => "SIGTERM", _ => null };

    /// <summary>The exit code a shell gives a process the signal ended: 130 (SIGINT), 143 (SIGTERM).</summary>
    public int ExitCode => 128 + Volatile.Read(ref _signal);

    /// <summary>
    /// Takes SIGINT and SIGTERM until disposed (only the first of them: see the file's comment).
    /// Other commands do not listen, so the signals end them as usual.
    /// </summary>
    public IDisposable Listen()
    {
        if (!_posix) return new Registrations([]);
        return new Registrations(
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
        ]);
    }

    private void Handle(PosixSignalContext context)
    {
        // The second signal is left to the default handling: the process ends at once.
        if (Trigger(context.Signal)) context.Cancel = true;
    }

    /// <summary>What a signal does: false if one came before (this one is not taken).</summary>
    public bool Trigger(PosixSignal signal)
    {
        int number = signal == PosixSignal.SIGTERM ? 15 : 2;
        if (Interlocked.CompareExchange(ref _signal, number, 0) != 0) return false;
        // Off the signal thread: the cancellation's callbacks (the runtime's stop) must not keep a
        // second signal from being seen.
        new Thread(_cts.Cancel) { IsBackground = true, Name = "gosched interrupt" }.Start();
        return true;
    }

    private sealed class Registrations(PosixSignalRegistration[] registrations) : IDisposable
    {
        public void Dispose()
        {
            foreach (var r in registrations) r.Dispose();
        }
    }
}
