using System.Text.Json;

namespace GoSched.Cli.Tests;

/// <summary>`gosched bench NAME --quick --json`, with what every quick report must hold already checked.</summary>
internal static class BenchQuick
{
    /// <summary>
    /// Runs the benchmark and returns its report. Checked: it succeeded, names the workload and
    /// metric, is quick with no Go reference (and says so), and each in-process side that ran made
    /// one repetition whose median is its one run. dotnet must be null where <paramref name="hasDotnet"/> is false.
    /// </summary>
    public static JsonElement Run(string workload, string metric, bool hasDotnet)
    {
        var (code, stdout, stderr) = CliTests.Invoke("bench", workload, "--quick", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement.Clone();
        Assert.Equal(workload, root.GetProperty("workload").GetString());
        Assert.Equal(metric, root.GetProperty("metric").GetString());
        Assert.True(root.GetProperty("quick").GetBoolean());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("go").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("ratio_gosched_go").ValueKind);
        Assert.Contains(Notes(root), n => n.Contains("Go reference skipped in quick mode"));
        foreach (var system in hasDotnet ? new[] { "gosched", "dotnet" } : ["gosched"])
        {
            var runs = root.GetProperty(system).GetProperty("runs").EnumerateArray().Select(r => r.GetDouble()).ToArray();
            Assert.Single(runs);
            Assert.Equal(runs[0], root.GetProperty(system).GetProperty("median").GetDouble());
        }
        // A quick run is not a measurement: no target gets a verdict, and each says why.
        foreach (var t in root.GetProperty("targets").EnumerateArray())
        {
            Assert.Equal(JsonValueKind.Null, t.GetProperty("met").ValueKind);
            Assert.Equal("quick run: small sizes and one repetition are not a measurement", t.GetProperty("not_checked").GetString());
        }
        if (!hasDotnet)
        {
            Assert.Equal(JsonValueKind.Null, root.GetProperty("dotnet").ValueKind);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("ratio_gosched_dotnet").ValueKind);
        }
        return root;
    }

    public static IEnumerable<string> Notes(JsonElement root) => root.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!);

    public static double Figure(JsonElement root, string system, string name) => root.GetProperty(system).GetProperty("extra").GetProperty(name).GetDouble();

    public static double Parameter(JsonElement root, string name) => root.GetProperty("parameters").GetProperty(name).GetDouble();

    /// <summary>The report's targets by name.</summary>
    public static Dictionary<string, JsonElement> Targets(JsonElement root) =>
        root.GetProperty("targets").EnumerateArray().ToDictionary(t => t.GetProperty("target").GetString()!);

    /// <summary>Percentiles read from one histogram never decrease.</summary>
    public static void AssertOrdered(string what, params double[] percentiles)
    {
        for (int i = 1; i < percentiles.Length; i++) Assert.True(percentiles[i] >= percentiles[i - 1], $"{what}: {string.Join(" ", percentiles)}");
    }
}
