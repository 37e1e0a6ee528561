// Latency histograms: the one shape every latency of the runtime is recorded in (timer lateness,
// netpoll wake latency), so that they merge, compare and plot alike.
using HdrHistogram;

namespace GoSched.Observability;

internal static class Latency
{
    /// <summary>Latencies are tracked up to 100 s with 3 significant digits.</summary>
    public const long HighestTrackableNs = 100_000_000_000;

    public static LongHistogram NewHistogram() => new(1, HighestTrackableNs, 3);

    /// <summary>Records ns, clamped into the trackable range (0 counts as 1 ns).</summary>
    public static void Record(HistogramBase h, long ns) => h.RecordValue(Math.Clamp(ns, 1, HighestTrackableNs));
}
