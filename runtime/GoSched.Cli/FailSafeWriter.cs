// stderr for the lines a run writes from threads of its own (progress, schedtrace).
//
// A write to a full or closed stderr (`2>/dev/full`) threw IOException on the progress thread or
// the runtime's sampler, where nothing catches it, and the process aborted (exit 134) before the
// summary or the JSON was printed. This writer stops at the first failure instead: the lines after
// it are dropped, and the run reports the failure as a warning in its result.
using System.Text;

namespace GoSched.Cli;

/// <summary>
/// A synchronized TextWriter over <paramref name="inner"/> that never throws: the first write that
/// fails is recorded in <see cref="Failure"/> and every write after it is dropped.
/// </summary>
internal sealed class FailSafeWriter(TextWriter inner) : TextWriter
{
    private readonly object _gate = new();
    private string? _failure;

    /// <summary>What the first failed write said (e.g. "No space left on device"), or null.</summary>
    public string? Failure { get { lock (_gate) return _failure; } }

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => Guard(() => inner.Write(value));
    public override void Write(string? value) => Guard(() => inner.Write(value));
    public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));
    public override void WriteLine() => Guard(inner.WriteLine);
    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));
    public override void Flush() => Guard(inner.Flush);

    private void Guard(Action write)
    {
        lock (_gate)
        {
            if (_failure is not null) return;
            try { write(); }
            catch (Exception e) when (e is IOException or ObjectDisposedException or UnauthorizedAccessException)
            {
                _failure = e.Message.Length > 0 ? e.Message : e.GetType().Name;
            }
        }
    }
}
