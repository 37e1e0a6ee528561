// Durations as Go writes and reads them (time.Duration.String, time.ParseDuration): workload
// parameters, the command line's timeouts and the runtime's own messages use the one form.
using System.Globalization;

namespace GoSched.Internal;

internal static class Durations
{
    /// <summary>Go's time.ParseDuration without a sign, in ns; null if not one (see <see cref="Workloads.WorkloadParam.ParseDuration"/>).</summary>
    public static long? Parse(string s)
    {
        s = s.Trim();
        if (s == "0") return 0;
        if (s.Length == 0) return null;
        (string unit, double scale)[] units = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)];
        double total = 0;
        int pos = 0;
        while (pos < s.Length)
        {
            int start = pos;
            while (pos < s.Length && (char.IsAsciiDigit(s[pos]) || s[pos] == '.')) pos++;
            if (pos == start || !double.TryParse(s.AsSpan(start, pos - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double d))
                return null;
            int unitStart = pos;
            while (pos < s.Length && !char.IsAsciiDigit(s[pos]) && s[pos] != '.') pos++;
            string unit = s[unitStart..pos];
            double scale = 0;
            foreach (var (name, sc) in units) if (name == unit) scale = sc;
            if (scale == 0) return null; // a number without a unit, or an unknown unit
            total += d * scale;
        }
        return total > long.MaxValue ? null : (long)Math.Round(total);
    }

    /// <summary>
    /// Go's time.Duration.String() with "us" for "µs" (see <see cref="Workloads.WorkloadParam.FormatDuration"/>).
    /// The old form, a whole number of the largest unit that divides it, echoed 1.5ms as 1500us;
    /// "us" is how the parameters' defaults and help write it, and <see cref="Parse"/> reads it back.
    /// </summary>
    public static string Format(long ns)
    {
        if (ns == 0) return "0s";
        // Go's own arithmetic, on the magnitude as an unsigned number: long.MinValue has no positive.
        ulong u = ns < 0 ? unchecked(0UL - (ulong)ns) : (ulong)ns;
        string sign = ns < 0 ? "-" : "";
        // Below a second: one unit, the largest that leaves a whole part, with the rest as a fraction.
        if (u < 1_000) return $"{sign}{Whole(u)}ns";
        if (u < 1_000_000) return $"{sign}{Fraction(u, 1_000, 3)}us";
        if (u < 1_000_000_000) return $"{sign}{Fraction(u, 1_000_000, 6)}ms";
        // From a second up: hours and minutes once there are any, always the seconds (1h0m0s, as Go).
        ulong seconds = u / 1_000_000_000, minutes = seconds / 60, hours = minutes / 60;
        string s = $"{Fraction(seconds % 60 * 1_000_000_000 + u % 1_000_000_000, 1_000_000_000, 9)}s";
        if (minutes == 0) return sign + s;
        return hours == 0 ? $"{sign}{Whole(minutes)}m{s}" : $"{sign}{Whole(hours)}h{Whole(minutes % 60)}m{s}";

        static string Whole(ulong v) => v.ToString(CultureInfo.InvariantCulture);
        // v / unit with its fraction's trailing zeros left out, and no point when none is left (Go's fmtFrac).
        static string Fraction(ulong v, ulong unit, int digits)
        {
            ulong frac = v % unit;
            return frac == 0 ? Whole(v / unit) : $"{Whole(v / unit)}.{Whole(frac).PadLeft(digits, '0').TrimEnd('0')}";
        }
    }
}
