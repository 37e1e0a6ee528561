// Timer lateness: how late every timer fired (fired - due), per P, in an HdrHistogram, plus a
// bounded list of individual firings for "lateness over time" plots.
using HdrHistogram;

namespace GoSched.Observability;

/// <summary>One timer firing: when (ns since the run started), on which P, and how late (ns).</summary>
public readonly record struct TimerFiring(long TimeNs, int P, long LatenessNs);

/// <summary>A P's timer lateness. Written by the M holding the P's timers lock.</summary>
internal sealed class TimerStats
{
    public const int MaxFirings = 200_000;

    public readonly LongHistogram Lateness = Latency.NewHistogram();
    public readonly List<TimerFiring> Firings = new();
    private long _seen;
    private int _stride = 1;

    public long Count => Lateness.TotalCount;

    public void Record(int p, long atNs, long latenessNs)
    {
        Latency.Record(Lateness, latenessNs);
        // Keep every firing until MaxFirings, then every 2nd, 4th, ... (thinning what we keep).
        if (_seen++ % _stride != 0) return;
        if (Firings.Count >= MaxFirings)
        {
            int w = 0;
            for (int r = 0; r < Firings.Count; r += 2) Firings[w++] = Firings[r];
            Firings.RemoveRange(w, Firings.Count - w);
            _stride *= 2;
        }
        Firings.Add(new TimerFiring(atNs, p, latenessNs));
    }
}
