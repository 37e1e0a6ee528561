// Timer lateness: how late every timer fired (fired - due), per P, in an HdrHistogram, plus a
// bounded list of individual firings for "lateness over time" plots.
using HdrHistogram;

namespace GoSched.Observability;

/// <summary>One timer firing: when (ns since the run started), on which P, and how late (ns).</summary>
public readonly record struct TimerFiring(long TimeNs, int P, long LatenessNs);

/// <summary>A P's timer lateness. Written by the M holding the P's timers lock.</summary>
internal sealed class TimerStats
{
    /// <summary>Lateness is tracked up to 100 s with 3 significant digits.</summary>
    public const long HighestTrackableNs = 100_000_000_000;
    public const int MaxFirings = 200_000;

    public readonly LongHistogram Lateness = new(1, HighestTrackableNs, 3);
    public readonly List<TimerFiring> Firings = new();
    private long _seen;
    private int _stride = 1;

    public long Count => Lateness.TotalCount;

    public void Record(int p, long atNs, long latenessNs)
    {
        Lateness.RecordValue(Math.Clamp(latenessNs, 1, HighestTrackableNs));
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
