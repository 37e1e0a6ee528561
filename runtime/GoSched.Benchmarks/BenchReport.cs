// BenchReport: what one benchmark measured on the three systems, as JSON (`gosched bench <w> --json`)
// and as a table for people.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace GoSched.Benchmarks;

/// <summary>One system's figures for a workload: the metric per repetition and its median.</summary>
public sealed record SystemFigures
{
    /// <summary>"gosched", "dotnet" or "go".</summary>
    public required string System { get; init; }

    /// <summary>What ran: the primitives used, in one line.</summary>
    public required string Description { get; init; }

    /// <summary>Median of <see cref="Runs"/>.</summary>
    public required double Median { get; init; }

    /// <summary>The metric of every timed repetition, in order (the warm-up is not in it).</summary>
    public required IReadOnlyList<double> Runs { get; init; }

    /// <summary>Median bytes allocated per operation (see <see cref="BenchReport.AllocationOp"/>); null if not measured.</summary>
    public double? AllocBytesPerOp { get; init; }

    /// <summary>Bytes allocated per operation in every timed repetition.</summary>
    public IReadOnlyList<double>? AllocRuns { get; init; }

    /// <summary>Further figures of this workload (medians), e.g. fanout's wall and ideal time; the Go program's own extra fields.</summary>
    public IReadOnlyDictionary<string, object>? Extra { get; init; }
}

/// <summary>
/// A target of issue 2, section 8, checked against this run's medians. Met is null when it was not
/// measured (no value: the Go reference skipped) or not checked: then NotChecked says why.
/// </summary>
public sealed record TargetCheck(string Target, double? Value, double Limit, bool? Met, string? NotChecked = null);

/// <summary>One extra figure (a median) of every system side by side, and gosched's ratios to the others.</summary>
public sealed record FigureComparison(double? Gosched, double? Dotnet, double? Go, double? RatioGoschedGo, double? RatioGoschedDotnet);

/// <summary>What <see cref="BenchRunner.Run"/> measured for one workload.</summary>
public sealed record BenchReport
{
    public required string Workload { get; init; }
    public required int Gomaxprocs { get; init; }

    /// <summary>
    /// The gosched runtime's knobs as it ran (GODEBUG form, defaults left out): GOMAXPROCS, the
    /// --godebug knobs and the sampler turned off. The .NET and Go sides take none of them.
    /// </summary>
    public required string Settings { get; init; }

    /// <summary>The metric's name, as the Go programs print it (ns_per_roundtrip, efficiency, ...).</summary>
    public required string Metric { get; init; }

    /// <summary>Its unit ("ns", "bytes", "ideal/wall").</summary>
    public required string Unit { get; init; }

    /// <summary>False for times and bytes; true for fanout's efficiency.</summary>
    public required bool HigherIsBetter { get; init; }

    /// <summary>Sizes of the workload (round trips, goroutines, hops...).</summary>
    public required IReadOnlyDictionary<string, double> Parameters { get; init; }

    public required int Repetitions { get; init; }
    public required bool Quick { get; init; }

    /// <summary>What one operation is for the allocation figures ("roundtrip", "goroutine"...); null if none.</summary>
    public string? AllocationOp { get; init; }

    public required SystemFigures Gosched { get; init; }
    /// <summary>The .NET side; null where .NET has no equivalent (see <see cref="Notes"/>).</summary>
    public required SystemFigures? Dotnet { get; init; }

    /// <summary>The Go 1.19 reference; null when skipped (see <see cref="Notes"/>).</summary>
    public SystemFigures? Go { get; init; }

    /// <summary>gosched median / Go median.</summary>
    public double? RatioGoschedGo => Go is { } g ? Ratio(Gosched.Median, g.Median) : null;

    /// <summary>gosched median / .NET median.</summary>
    public double? RatioGoschedDotnet => Dotnet is { } d ? Ratio(Gosched.Median, d.Median) : null;

    /// <summary>
    /// Figures beyond the metric compared system by system, by extra-figure name (e.g. timers'
    /// "idle_p50_ms"); null for workloads with none.
    /// </summary>
    public IReadOnlyDictionary<string, FigureComparison>? Breakdown { get; init; }

    public required IReadOnlyList<TargetCheck> Targets { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }

    private static double? Ratio(double a, double b) => b != 0 && double.IsFinite(a) && double.IsFinite(b) ? a / b : null;

    private static double? Ratio(double? a, double? b) => a is { } x && b is { } y ? Ratio(x, y) : null;

    /// <summary>A system's extra figure as a number (in-process sides hold doubles, the Go side JSON numbers); null if absent.</summary>
    public static double? ExtraFigure(SystemFigures? s, string key) => s?.Extra?.GetValueOrDefault(key) switch
    {
        double d => d,
        JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
        _ => null,
    };

    /// <summary>The breakdown of <paramref name="keys"/> for a report; null when there are none.</summary>
    internal static IReadOnlyDictionary<string, FigureComparison>? Compare(BenchReport r, IEnumerable<string> keys)
    {
        var d = new Dictionary<string, FigureComparison>();
        foreach (var k in keys)
        {
            double? g = ExtraFigure(r.Gosched, k), n = ExtraFigure(r.Dotnet, k), go = ExtraFigure(r.Go, k);
            d[k] = new FigureComparison(g, n, go, Ratio(g, go), Ratio(g, n));
        }
        return d.Count == 0 ? null : d;
    }

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions s_jsonIndented = new(s_json) { WriteIndented = true };

    /// <summary>One JSON object: every field of the report, snake_case, ratios included.</summary>
    public string ToJson(bool indented = false) => JsonSerializer.Serialize(this, indented ? s_jsonIndented : s_json);

    /// <summary>The report as a table for people: one row a system, the ratios, the targets and notes.</summary>
    public string ToTable()
    {
        var sb = new StringBuilder();
        string better = HigherIsBetter ? "higher is better" : "lower is better";
        sb.AppendLine(Inv($"{Workload}: {Metric} ({Unit}, {better}), GOMAXPROCS={Gomaxprocs}, median of {Repetitions} run(s){(Quick ? ", QUICK sizes" : "")}"));
        sb.AppendLine("  " + string.Join(", ", Parameters.Select(p => Inv($"{p.Key}={p.Value:0.###}"))));
        sb.AppendLine($"  gosched settings: {Settings}");
        string allocHeader = AllocationOp != null ? $"B/{AllocationOp}" : "";
        sb.AppendLine(Inv($"  {"system",-8} {"median",12} {"min",12} {"max",12} {allocHeader,14}  what"));
        foreach (var (name, s) in new[] { ("gosched", Gosched), ("dotnet", Dotnet), ("go", Go) })
        {
            if (s == null) { sb.AppendLine(Inv($"  {name,-8} {"-",12} {"-",12} {"-",12} {"",14}  {(name == "go" ? "skipped" : "no equivalent")}")); continue; }
            string alloc = s.AllocBytesPerOp is { } a ? Num(a) : "";
            sb.AppendLine(Inv($"  {s.System,-8} {Num(s.Median),12} {Num(s.Runs.Min()),12} {Num(s.Runs.Max()),12} {alloc,14}  {s.Description}"));
        }
        sb.AppendLine(Inv($"  gosched/go = {OptNum(RatioGoschedGo)}   gosched/dotnet = {OptNum(RatioGoschedDotnet)}"));
        if (Breakdown != null)
        {
            // The name column as wide as the longest name (locked_ns_per_roundtrip is 25).
            int w = Math.Max("figure".Length, Breakdown.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max());
            sb.AppendLine(Inv($"  {"figure".PadRight(w)} {"gosched",10} {"dotnet",10} {"go",10} {"gosched/go",11} {"gosched/dotnet",15}"));
            foreach (var (k, c) in Breakdown)
                sb.AppendLine(Inv($"  {k.PadRight(w)} {OptNum(c.Gosched),10} {OptNum(c.Dotnet),10} {OptNum(c.Go),10} {OptNum(c.RatioGoschedGo),11} {OptNum(c.RatioGoschedDotnet),15}"));
        }
        foreach (var t in Targets)
            sb.AppendLine(Inv($"  target {t.Target}: {OptNum(t.Value)} -> {(t.Met switch { true => "met", false => "MISSED", null => t.NotChecked is { } why ? $"not checked ({why})" : "not measured" })}"));
        foreach (var n in Notes) sb.AppendLine("  note: " + n);
        return sb.ToString();
    }

    public override string ToString() => ToTable();

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static string OptNum(double? v) => v is { } x ? Num(x) : "n/a";

    /// <summary>Three significant decimals for small figures, whole numbers for large ones.</summary>
    internal static string Num(double v) => Math.Abs(v) switch
    {
        >= 1000 => v.ToString("0", CultureInfo.InvariantCulture),
        >= 10 => v.ToString("0.0", CultureInfo.InvariantCulture),
        _ => v.ToString("0.###", CultureInfo.InvariantCulture),
    };
}
