// The clock: the one place the runtime reads time.
//
// Stopwatch on Linux reads CLOCK_MONOTONIC with nanosecond resolution (about 25 ns a read here).
// Environment.TickCount64 is never used: it steps every 4 ms on these machines.
using System.Diagnostics;

namespace GoSched.Internal;

internal static class Clock
{
    private static readonly double s_nsPerTick = 1e9 / Stopwatch.Frequency;
    private static readonly bool s_nsTicks = Stopwatch.Frequency == 1_000_000_000;

    /// <summary>Monotonic nanoseconds. Mirrors runtime.nanotime.</summary>
    public static long Nanotime()
    {
        long t = Stopwatch.GetTimestamp();
        return s_nsTicks ? t : (long)(t * s_nsPerTick);
    }
}

/// <summary>
/// The runtime's random generator (wyrand, as Go's fastrand on 64-bit). One per M, seeded from the
/// runtime's seed and the M's id so a seeded run draws the same numbers on the same M.
/// </summary>
internal struct FastRand
{
    private ulong _state;

    public FastRand(ulong seed) { _state = seed == 0 ? 0x9E3779B97F4A7C15UL : seed; }

    /// <summary>Mirrors runtime.fastrand.</summary>
    public uint Next()
    {
        _state += 0xa0761d6478bd642f;
        UInt128 m = (UInt128)_state * (_state ^ 0xe7037ed1a0b428db);
        return (uint)((ulong)(m >> 64) ^ (ulong)m);
    }

    /// <summary>Uniform in [0, n). Mirrors runtime.fastrandn (multiply-shift, no modulo bias worth caring about).</summary>
    public uint Next(uint n) => (uint)(((ulong)Next() * n) >> 32);
}
