using System.Text.Json;
using System.Text.RegularExpressions;

namespace GoSched.Notebook.Tests;

/// <summary>
/// What an executed notebook must show to pass: every code cell ran, no cell has an error output,
/// no text a reader sees mentions an exception or an error, every <c>#!gosched plot</c> cell drew a
/// Plotly chart, plotly.js is inlined in the notebook (no network when it is opened), and nothing
/// loads a script from the network.
/// </summary>
public static partial class NotebookChecks
{
    /// <summary>Returns one line per problem found, each naming its cell (1-based, as Jupyter counts).</summary>
    public static IReadOnlyList<string> Problems(JsonDocument executed)
    {
        var problems = new List<string>();
        var cells = executed.RootElement.GetProperty("cells").EnumerateArray().ToList();
        int? firstPlot = null, firstInlinePlotly = null;

        // Written by execute_notebook.py when the run stopped before the end (a cell timed out, the kernel died).
        int? stoppedAt = null;
        if (executed.RootElement.TryGetProperty("metadata", out var meta)
            && meta.TryGetProperty("gosched_run", out var run)
            && run.TryGetProperty("completed", out var completed) && completed.ValueKind == JsonValueKind.False)
        {
            stoppedAt = run.TryGetProperty("stopped_at_cell", out var at) && at.ValueKind == JsonValueKind.Number ? at.GetInt32() : -1;
            problems.Add($"the run stopped at {(stoppedAt >= 0 ? $"cell {stoppedAt + 1}" : "the start")}: {Str(run, "error")}");
        }

        for (var i = 0; i < cells.Count; i++)
        {
            var cell = cells[i];
            if (cell.GetProperty("cell_type").GetString() != "code") continue;
            var source = Text(cell.GetProperty("source"));
            var where = $"cell {i + 1} ({FirstLine(source)})";
            if (string.IsNullOrWhiteSpace(source)) continue;
            if (cell.TryGetProperty("execution_count", out var count) && count.ValueKind == JsonValueKind.Null && stoppedAt is null)
                problems.Add($"{where}: was not executed");

            var outputs = cell.TryGetProperty("outputs", out var o) ? o.EnumerateArray().ToList() : [];
            var htmls = new List<string>();
            foreach (var output in outputs)
            {
                var type = output.GetProperty("output_type").GetString();
                if (type == "error")
                {
                    // The kernel puts compiler diagnostics in a stream beside an error output that says only "compilation error".
                    var said = string.Join(" ", outputs.Where(s => Str(s, "output_type") == "stream").Select(s => Text(s.GetProperty("text")).Trim()));
                    problems.Add($"{where}: error output: {Str(output, "ename")}: {Str(output, "evalue")}"
                        + (said.Length > 0 ? $" [{(said.Length > 300 ? said[..300] + "…" : said)}]" : ""));
                    continue;
                }
                var seen = new List<string>();
                if (type == "stream") seen.Add(Text(output.GetProperty("text")));
                if (output.TryGetProperty("data", out var data))
                {
                    foreach (var mime in data.EnumerateObject())
                    {
                        if (mime.Name == "text/html")
                        {
                            var html = Text(mime.Value);
                            htmls.Add(html);
                            seen.Add(VisibleHtml(html));
                        }
                        else if (mime.Name.StartsWith("text/", StringComparison.Ordinal))
                        {
                            seen.Add(Text(mime.Value));
                        }
                    }
                }
                foreach (var text in seen)
                {
                    if (Find(text, "Exception", StringComparison.Ordinal) is { } e)
                        problems.Add($"{where}: output mentions an exception: …{e}…");
                    if (Find(text, "error:", StringComparison.OrdinalIgnoreCase) is { } r)
                        problems.Add($"{where}: output reports an error: …{r}…");
                    if (Find(text, "Failed to load kernel extension", StringComparison.Ordinal) is { } l)
                        problems.Add($"{where}: the kernel could not load an extension: …{l}…");
                }
            }

            foreach (var html in htmls)
            {
                if (RemoteScript().Match(html) is { Success: true } m)
                    problems.Add($"{where}: loads a script from the network: {m.Value}");
                // plotly.js itself names cdn.plot.ly (the default topojsonURL, for maps): look outside it.
                if (WithoutPlotlyBundle(html).Contains("cdn.plot.ly", StringComparison.OrdinalIgnoreCase))
                    problems.Add($"{where}: refers to plotly.js on a CDN (cdn.plot.ly)");
                if (firstInlinePlotly is null && InlinesPlotly(html)) firstInlinePlotly = i;
            }

            if (PlotCommand().IsMatch(source))
            {
                firstPlot ??= i;
                if (!htmls.Any(h => h.Contains("Plotly.newPlot", StringComparison.Ordinal) || h.Contains("Plotly.react", StringComparison.Ordinal)))
                    problems.Add($"{where}: a #!gosched plot cell with no Plotly chart in its output (no text/html calling Plotly.newPlot)");
            }
        }

        if (firstPlot is { } p && (firstInlinePlotly is null || firstInlinePlotly > p))
            problems.Add($"cell {p + 1}: the first chart is not preceded by an inline copy of plotly.js (in that cell or an earlier one), so it stays blank offline");
        return problems;
    }

    /// <summary>A cell that runs <c>#!gosched plot</c> on one of its lines.</summary>
    [GeneratedRegex(@"^\s*#!gosched\s+plot\b", RegexOptions.Multiline)]
    private static partial Regex PlotCommand();

    /// <summary>A script element whose source is a network address (absolute or protocol-relative).</summary>
    [GeneratedRegex(@"<script\b[^>]*\bsrc\s*=\s*[""']?(https?:)?//[^""'\s>]*", RegexOptions.IgnoreCase)]
    private static partial Regex RemoteScript();

    [GeneratedRegex(@"<(script|style)\b[^>]*>.*?</\1\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex ScriptOrStyle();

    [GeneratedRegex(@"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex InlineScript();

    /// <summary>
    /// An inline script that is plotly.js itself: its licence banner ("plotly.js v2.28.0") survives
    /// minification; a bundle of over a megabyte with Plotly in it counts too.
    /// </summary>
    static bool InlinesPlotly(string html) => InlineScript().Matches(html).Any(m => IsPlotlyBundle(m.Groups[1].Value));

    static bool IsPlotlyBundle(string script) =>
        script.Contains("plotly.js v", StringComparison.Ordinal)
        || (script.Length > 1_000_000 && script.Contains("Plotly", StringComparison.Ordinal));

    /// <summary>The HTML with any inline copy of plotly.js cut out.</summary>
    static string WithoutPlotlyBundle(string html) =>
        InlineScript().Replace(html, m => IsPlotlyBundle(m.Groups[1].Value) ? "<script></script>" : m.Value);

    /// <summary>The text of an HTML output that a reader sees: scripts and styles removed.</summary>
    static string VisibleHtml(string html) => ScriptOrStyle().Replace(html, " ");

    /// <summary>A notebook string: either a string or an array of lines.</summary>
    static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Array => string.Concat(value.EnumerateArray().Select(e => e.GetString())),
        _ => value.GetRawText(),
    };

    static string Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";

    static string FirstLine(string source)
    {
        var line = source.TrimStart().Split('\n')[0].Trim();
        return line.Length > 60 ? line[..60] + "…" : line;
    }

    /// <summary>The text around the first occurrence of <paramref name="word"/>, or null.</summary>
    static string? Find(string text, string word, StringComparison comparison)
    {
        var at = text.IndexOf(word, comparison);
        if (at < 0) return null;
        var from = Math.Max(0, at - 80);
        var to = Math.Min(text.Length, at + word.Length + 80);
        return text[from..to].ReplaceLineEndings(" ");
    }
}
