using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace GoSched.Notebook.Tests;

/// <summary>
/// Figures a notebook's prose quotes from the README's benchmark table are the table's: the table
/// is rewritten after each session's benchmark run, and a notebook left quoting an older run told
/// the reader the opposite of the table (53 µs locked against Go's 57 µs, where the table had
/// 50,483 ns against 46,846).
/// </summary>
public class ReadmeFiguresTests
{
    [Fact]
    public void The_locked_figures_in_03_blocking_are_the_README_tables()
    {
        var (locked, lockedGo) = ReadmeRow("one side LockOSThread (ns per round trip)");
        var (unlocked, unlockedGo) = ReadmeRow("unlocked ping-pong (ns per round trip)");
        string prose = Markdown("notebooks/03-blocking.ipynb");
        string expected = string.Create(CultureInfo.InvariantCulture,
            $"measured side by side: {locked / 1e3:0} µs locked against Go 1.19's {lockedGo / 1e3:0} µs; unlocked, {unlocked / 1e3:0.0} µs against Go's {unlockedGo / 1e3:0.0} µs");
        Assert.Contains(expected, prose);
    }

    /// <summary>The gosched and Go 1.19 columns of the README benchmark table's row for figure (ns).</summary>
    private static (double Gosched, double Go) ReadmeRow(string figure)
    {
        var row = File.ReadLines(Path.Combine(Repo.Root, "README.md"))
            .Select(l => l.Split('|').Select(c => c.Trim()).ToArray())
            .Single(c => c.Length > 5 && c[2] == figure);
        // | bench | figure | gosched | .NET | Go 1.19 | ...
        static double Number(string cell) => double.Parse(cell.Replace(",", ""), CultureInfo.InvariantCulture);
        return (Number(row[3]), Number(row[5]));
    }

    /// <summary>A notebook's markdown cells as one text, lines rejoined with spaces.</summary>
    private static string Markdown(string notebook)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, notebook)));
        var text = string.Join(" ", doc.RootElement.GetProperty("cells").EnumerateArray()
            .Where(c => c.GetProperty("cell_type").GetString() == "markdown")
            .SelectMany(c => c.GetProperty("source").EnumerateArray().Select(l => l.GetString())));
        return Regex.Replace(text, @"\s+", " ");
    }
}
