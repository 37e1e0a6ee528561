// Durations as Go writes and reads them (time.Duration.String, time.ParseDuration): workload
// parameters, the command line's timeouts and the runtime's own messages use the one form.
using System.Globalization;

namespace GoSched.Internal;

internal static class Durations
{
    /// <summary>Go's time.ParseDuration without a minus sign, in ns; null if not one (see <see cref="Workloads.WorkloadParam.ParseDuration"/>).</summary>
    public static long? Parse(string s) => TryParse(s, out long ns, out _) ? ns : null;

    /// <summary>
    /// Go's time.ParseDuration, in ns, with its arithmetic: each number's integer part times its
    /// unit, plus its fraction times the unit truncated (1.5ns is 1ns, as in Go; a double sum
    /// rounded 1.5ns to 2ns). A leading '+' is taken, a '-' is not (parameters are never
    /// negative). overflow: the text is a duration too large for an int64 of ns.
    /// </summary>
    public static bool TryParse(string s, out long ns, out bool overflow)
    {
        ns = 0;
        overflow = false;
        s = s.Trim();
        if (s.StartsWith('+')) s = s[1..];
        if (s == "0") return true;
        if (s.Length == 0) return false;
        (string unit, ulong scale)[] units = [("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)];
        const ulong Limit = 1UL << 63;
        ulong total = 0;
        int pos = 0;
        while (pos < s.Length)
        {
            // [0-9]* then (\.[0-9]*)?, at least one digit in all (Go's leadingInt, leadingFraction).
            ulong v = 0, f = 0;
            double scale = 1;
            bool pre = false, post = false, big = false, fracFull = false;
            while (pos < s.Length && char.IsAsciiDigit(s[pos]))
            {
                pre = true;
                ulong digit = (ulong)(s[pos++] - '0');
                if (v > (Limit - digit) / 10) big = true; else v = v * 10 + digit;
            }
            if (pos < s.Length && s[pos] == '.')
            {
                pos++;
                while (pos < s.Length && char.IsAsciiDigit(s[pos]))
                {
                    post = true;
                    ulong digit = (ulong)(s[pos++] - '0');
                    if (fracFull || f > (Limit - 1) / 10) { fracFull = true; continue; } // further digits are below a ns
                    f = f * 10 + digit;
                    scale *= 10;
                }
            }
            if (!pre && !post) return false;
            int unitStart = pos;
            while (pos < s.Length && !char.IsAsciiDigit(s[pos]) && s[pos] != '.') pos++;
            string unit = s[unitStart..pos];
            ulong u = 0;
            foreach (var (name, sc) in units) if (name == unit) u = sc;
            if (u == 0) return false; // a number without a unit, or an unknown unit
            if (big || v > Limit / u) { overflow = true; continue; }
            v *= u;
            if (f > 0) v += (ulong)(f * (u / scale)); // float64, as Go: ns-accurate for fractions of hours
            total += v;
            if (v >= Limit || total >= Limit) overflow = true;
        }
        if (overflow) return false;
        ns = (long)total;
        return true;
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
