using System.Text.Json;

namespace GoSched.Cli.Tests;

/// <summary>`gosched bench netecho`: the report's shape and conservation (every echo came back intact), never its speed.</summary>
public class BenchNetEchoTests
{
    [Fact]
    public void QuickJsonReportsLatencyAndThroughputOfGoschedAndDotnetWithEveryEchoIntact()
    {
        var root = BenchQuick.Run("netecho", "rtt_p50_us", hasDotnet: true);
        double echoes = BenchQuick.Parameter(root, "latency_round_trips") + BenchQuick.Parameter(root, "pairs") * BenchQuick.Parameter(root, "pair_round_trips");
        Assert.Equal(64, BenchQuick.Parameter(root, "msg_bytes"));
        foreach (var system in new[] { "gosched", "dotnet" })
        {
            double p50 = BenchQuick.Figure(root, system, "rtt_p50_us");
            Assert.True(p50 > 0, $"{system} rtt_p50_us {p50}");
            BenchQuick.AssertOrdered($"{system} rtt", p50, BenchQuick.Figure(root, system, "rtt_p99_us"), BenchQuick.Figure(root, system, "rtt_max_us"));
            Assert.True(BenchQuick.Figure(root, system, "throughput_rt_per_s") > 0);
            Assert.Equal(echoes, BenchQuick.Figure(root, system, "echoes_ok"));
            Assert.Equal(p50, root.GetProperty(system).GetProperty("median").GetDouble());
        }

        // The breakdown compares gosched with .NET; Go's side and ratios are absent without Go.
        var breakdown = root.GetProperty("breakdown");
        foreach (var key in new[] { "rtt_p50_us", "rtt_p99_us", "rtt_max_us", "throughput_rt_per_s" })
        {
            var c = breakdown.GetProperty(key);
            double g = c.GetProperty("gosched").GetDouble(), d = c.GetProperty("dotnet").GetDouble();
            Assert.Equal(g / d, c.GetProperty("ratio_gosched_dotnet").GetDouble(), 9);
            Assert.Equal(JsonValueKind.Null, c.GetProperty("ratio_gosched_go").ValueKind);
        }
        var targets = BenchQuick.Targets(root);
        Assert.Equal(["netecho rtt p50 <= 1x Go", "netecho throughput >= 1x Go"], targets.Keys.Order());
        Assert.All(targets.Values, t => Assert.Equal(JsonValueKind.Null, t.GetProperty("met").ValueKind));
    }
}
