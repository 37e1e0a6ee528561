using System.Text.Json;

namespace GoSched.Cli.Tests;

/// <summary>`gosched bench timers`: the report's shape and sanity, never its speed.</summary>
public class BenchTimersTests
{
    private static readonly string[] s_scenarios = ["idle", "sleepers", "loaded"];
    private static readonly string[] s_percentiles = ["p50", "p90", "p99", "max"];

    [Fact]
    public void QuickJsonReportsEveryScenarioOfGoschedAndDotnetWithRatiosAndTargets()
    {
        var (code, stdout, stderr) = CliTests.Invoke("bench", "timers", "--quick", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Equal("timers", root.GetProperty("workload").GetString());
        Assert.Equal("sleepers_p99_ms", root.GetProperty("metric").GetString());
        Assert.True(root.GetProperty("quick").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("go").ValueKind); // no Go in quick mode
        Assert.Contains(root.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("Go reference skipped in quick mode"));
        // The kernel's floor is measured beside the systems, with its percentiles in ms.
        var floor = root.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).Single(n => n.Contains("the kernel's floor"));
        var m = System.Text.RegularExpressions.Regex.Match(floor, @"p50 ([0-9.]+) ms, p99 ([0-9.]+) ms late");
        Assert.True(m.Success, floor);
        Assert.True(double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), floor);

        var breakdown = root.GetProperty("breakdown");
        foreach (var system in new[] { "gosched", "dotnet" })
        {
            var figures = root.GetProperty(system);
            Assert.Single(figures.GetProperty("runs").EnumerateArray());
            var extra = figures.GetProperty("extra");
            foreach (var s in s_scenarios)
            {
                // Percentiles of one histogram never decrease, and lateness is never negative.
                var values = s_percentiles.Select(p => extra.GetProperty($"{s}_{p}_ms").GetDouble()).ToArray();
                Assert.True(values[0] >= 0, $"{system} {s}_p50 {values[0]}");
                for (int i = 1; i < values.Length; i++) Assert.True(values[i] >= values[i - 1], $"{system} {s}: {string.Join(" ", values)}");
                // A sleep of at least 1 ms with 40 or more samples: nobody wakes 10 s late.
                Assert.True(values[^1] < 10_000, $"{system} {s}_max {values[^1]}");
                double early = extra.GetProperty($"{s}_early_pct").GetDouble();
                Assert.InRange(early, 0, 100);
            }
            // The metric is the sleepers' p99.
            Assert.Equal(extra.GetProperty("sleepers_p99_ms").GetDouble(), figures.GetProperty("median").GetDouble());
        }

        // The breakdown names every figure, with gosched / .NET and no gosched / Go without Go.
        foreach (var s in s_scenarios)
            foreach (var p in s_percentiles)
            {
                var c = breakdown.GetProperty($"{s}_{p}_ms");
                double g = c.GetProperty("gosched").GetDouble(), d = c.GetProperty("dotnet").GetDouble();
                Assert.Equal(root.GetProperty("gosched").GetProperty("extra").GetProperty($"{s}_{p}_ms").GetDouble(), g);
                if (d > 0) Assert.Equal(g / d, c.GetProperty("ratio_gosched_dotnet").GetDouble(), 9);
                Assert.Equal(JsonValueKind.Null, c.GetProperty("go").ValueKind);
                Assert.Equal(JsonValueKind.Null, c.GetProperty("ratio_gosched_go").ValueKind);
            }

        // The issue's targets: idle p50 has a value; the ratios to Go none (no Go). A quick run checks none (BenchQuick.Run).
        var targets = root.GetProperty("targets").EnumerateArray().ToDictionary(t => t.GetProperty("target").GetString()!);
        Assert.Equal(4, targets.Count);
        var idle = targets["timers idle p50 <= 0.15 ms"];
        Assert.Equal(0.15, idle.GetProperty("limit").GetDouble());
        Assert.Equal(BenchQuick.Figure(root, "gosched", "idle_p50_ms"), idle.GetProperty("value").GetDouble());
        foreach (var s in s_scenarios)
            Assert.Equal(JsonValueKind.Null, targets[$"timers {s} p99 <= 0.5x Go"].GetProperty("value").ValueKind);
        Assert.All(targets.Values, t => Assert.Equal(JsonValueKind.Null, t.GetProperty("met").ValueKind));
        Assert.All(targets.Values, t => Assert.StartsWith("quick run:", t.GetProperty("not_checked").GetString()));
    }

    [Fact]
    public void UnknownBenchmarkListsTimers()
    {
        var (code, _, stderr) = CliTests.Invoke("bench", "timer", "--quick");
        Assert.Equal(1, code);
        Assert.Contains("unknown benchmark 'timer'", stderr);
        Assert.Contains("timers", stderr);
    }
}
