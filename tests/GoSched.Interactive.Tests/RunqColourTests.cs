using GoSched.Interactive.Workbench;
using GoSched.Observability;

namespace GoSched.Interactive.Tests;

/// <summary>Runq charts of several runs give each P, and the global queue, one colour on every chart.</summary>
public class RunqColourTests
{
    private static NamedRecording Run(string name, int procs)
    {
        var lines = new StringWriter();
        for (int t = 0; t < 3; t++)
            lines.WriteLine(SchedTraceFormat.SchedLine(t * 10, procs, 0, procs + 1, 0, 0, 1, new int[procs]));
        return new NamedRecording(name, SchedTraceParser.Parse(new StringReader(lines.ToString()), name));
    }

    /// <summary>
    /// The renderer colours series groups in the order they first appear; a first run with one P
    /// made the global queue the second group, so P1 took its colour on the next chart.
    /// </summary>
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    [InlineData(1, 4)]
    public void Groups_first_appear_as_P0_P1_and_the_global_queue_last(int procsA, int procsB)
    {
        var chart = RecordingCharts.Runq([Run("a", procsA), Run("b", procsB)], overlay: false);
        var firstSeen = chart.Series.Select(s => s.Group).Distinct().ToArray();
        int procs = Math.Max(procsA, procsB);
        Assert.Equal(Enumerable.Range(0, procs).Select(p => $"P{p}").Append("global queue"), firstSeen);
        // Every run keeps its own panel.
        Assert.Equal(procsA + 1, chart.Series.Count(s => s.Panel == 0));
        Assert.Equal(procsB + 1, chart.Series.Count(s => s.Panel == 1));
    }
}
