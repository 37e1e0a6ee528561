using System.Text.Json;
using System.Text.RegularExpressions;
using GoSched.Notebooks;

namespace GoSched.Interactive.Tests;

/// <summary>The in-process notebook runner, on the real runtime.</summary>
public class NotebookRunnerTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"gosched-runner-{Guid.NewGuid():N}");

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "notebooks", name);

    public void Dispose()
    {
        if (Directory.Exists(_out))
            Directory.Delete(_out, recursive: true);
    }

    [Fact]
    public async Task A_notebook_runs_and_is_written_as_ipynb_and_offline_html()
    {
        var result = await new NotebookRunner().RunAsync(Fixture("runner-ok.ipynb"), _out);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(5, result.CellsRun);

        using var executed = JsonDocument.Parse(await File.ReadAllTextAsync(result.ExecutedNotebook));
        var cells = executed.RootElement.GetProperty("cells").EnumerateArray().ToArray();
        Assert.Equal(7, cells.Length);
        string Outputs(int i) => cells[i].GetProperty("outputs").GetRawText();
        Assert.Contains("#r \\\"nuget: GoSched.Interactive, 0.1.0\\\"", cells[1].GetProperty("source").GetRawText());
        Assert.Contains("runs notebooks in-process", Outputs(1));
        // A shared notebook carries no path of the machine that ran it.
        Assert.DoesNotContain(AppContext.BaseDirectory.TrimEnd('/'), executed.RootElement.GetRawText());
        Assert.Contains("fanout", Outputs(3));
        Assert.Contains("Plotly.newPlot", Outputs(4));
        Assert.Contains("samples: True, gomaxprocs: 2", Outputs(5));
        Assert.DoesNotContain("\"output_type\": \"error\"", executed.RootElement.GetRawText());

        string html = await File.ReadAllTextAsync(result.Html);
        Assert.Contains("<h1 id=\"runner-fixture\">Runner fixture</h1>", html);
        Assert.Single(Regex.Matches(html, "data-gosched-plotly="));
        Assert.True(html.IndexOf("data-gosched-plotly=", StringComparison.Ordinal) < html.IndexOf("Plotly.newPlot(", StringComparison.Ordinal));
        Assert.DoesNotContain("<script src", html);
        Assert.Contains("samples: True", html);
    }

    [Fact]
    public async Task Lines_after_a_line_that_ends_with_a_flag_keep_their_values()
    {
        // Seen with the real host: after "#!gosched config --reset", "#!gosched plot runq" arrived
        // with no kind ("what to plot?"); every value is now taken from the line as written.
        var result = await new NotebookRunner().RunAsync(Fixture("runner-flag-lines.ipynb"), _out);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures));
        Assert.Equal(5, result.CellsRun);
        using var executed = JsonDocument.Parse(await File.ReadAllTextAsync(result.ExecutedNotebook));
        var cells = executed.RootElement.GetProperty("cells").EnumerateArray().ToArray();
        foreach (int i in new[] { 3, 4, 5 })
            Assert.Contains("Plotly.newPlot", cells[i].GetProperty("outputs").GetRawText());
        Assert.Contains("rounds=10", cells[4].GetProperty("outputs").GetRawText());
    }

    private string WriteNotebook(params (string Type, string Source)[] cells)
    {
        var json = new
        {
            cells = cells.Select(c => new Dictionary<string, object?>
            {
                ["cell_type"] = c.Type,
                ["metadata"] = new Dictionary<string, object>(),
                ["source"] = c.Source,
                ["outputs"] = c.Type == "code" ? Array.Empty<object>() : null,
                ["execution_count"] = null,
            }.Where(kv => kv.Key is not ("outputs" or "execution_count") || c.Type == "code").ToDictionary()),
            metadata = new { kernelspec = new { display_name = ".NET (C#)", language = "C#", name = ".net-csharp" } },
            nbformat = 4,
            nbformat_minor = 5,
        };
        Directory.CreateDirectory(_out);
        string path = Path.Combine(_out, $"nb-{Guid.NewGuid():N}.ipynb");
        File.WriteAllText(path, JsonSerializer.Serialize(json));
        return path;
    }

    [Fact]
    public async Task Raw_cells_are_not_run()
    {
        string nb = WriteNotebook(("raw", "This is raw text, not code."), ("code", "1 + 1"));
        var result = await new NotebookRunner().RunAsync(nb, Path.Combine(_out, "out"));

        Assert.True(result.Succeeded, string.Join("\n", result.Failures));
        Assert.Equal(1, result.CellsRun);
    }

    [Fact]
    public async Task A_cell_that_blocks_its_thread_fails_after_the_cell_timeout_and_the_outputs_are_written()
    {
        // The blocking cell comes first, so that no cell before it can take the time limit compiling.
        string nb = WriteNotebook(("markdown", "# blocks"), ("code", "System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);"), ("code", "2 + 2"));
        var result = await new NotebookRunner { CellTimeout = TimeSpan.FromSeconds(2) }.RunAsync(nb, Path.Combine(_out, "out"));

        var failure = Assert.Single(result.Failures);
        Assert.Equal(2, failure.Cell);
        Assert.Contains("did not finish within 2s (the --cell-timeout)", failure.Message);
        Assert.Equal(1, result.CellsRun);
        Assert.True(File.Exists(result.ExecutedNotebook) && File.Exists(result.Html));
    }

    [Fact]
    public async Task The_cell_timeout_message_has_a_decimal_point_in_any_culture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            string nb = WriteNotebook(("code", "System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);"));
            var result = await new NotebookRunner { CellTimeout = TimeSpan.FromSeconds(1.5) }.RunAsync(nb, Path.Combine(_out, "out"));

            // "within 1,5 s" in a German locale, where --cell-timeout itself takes 1.5s; now Go's form, as it takes it.
            Assert.Contains("did not finish within 1.5s (the --cell-timeout)", Assert.Single(result.Failures).Message);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public async Task A_cell_error_fails_the_run_with_the_cell_number_and_message()
    {
        var result = await new NotebookRunner().RunAsync(Fixture("runner-fails.ipynb"), _out);

        Assert.Equal(1, result.ExitCode);
        var failure = Assert.Single(result.Failures);
        Assert.Equal(3, failure.Cell);
        Assert.Contains("gomaxprocs=0: must be between 1 and 256", failure.Message);
        Assert.StartsWith("cell 3: ", failure.ToString());

        using var executed = JsonDocument.Parse(await File.ReadAllTextAsync(result.ExecutedNotebook));
        var cells = executed.RootElement.GetProperty("cells").EnumerateArray().ToArray();
        Assert.Contains("\"output_type\": \"error\"", cells[2].GetProperty("outputs").GetRawText());
        Assert.Equal("[]", cells[3].GetProperty("outputs").GetRawText().Replace(" ", ""));
        Assert.Contains("gomaxprocs=0", await File.ReadAllTextAsync(result.Html));
    }

    [Fact]
    public async Task With_allow_errors_the_error_is_recorded_and_the_run_goes_on_with_exit_code_0()
    {
        var result = await new NotebookRunner { AllowErrors = true }.RunAsync(Fixture("runner-fails.ipynb"), _out);

        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Failures);
        var error = Assert.Single(result.AllowedErrors);
        Assert.Equal(3, error.Cell);
        Assert.Contains("gomaxprocs=0: must be between 1 and 256", error.Message);
        Assert.Equal(3, result.CellsRun);

        using var executed = JsonDocument.Parse(await File.ReadAllTextAsync(result.ExecutedNotebook));
        var cells = executed.RootElement.GetProperty("cells").EnumerateArray().ToArray();
        Assert.Contains("\"output_type\": \"error\"", cells[2].GetProperty("outputs").GetRawText());
        Assert.Contains("never runs", cells[3].GetProperty("outputs").GetRawText()); // it does now
    }

    [Fact]
    public async Task A_background_run_left_going_at_the_end_is_stopped_and_the_last_cell_says_so()
    {
        string nb = WriteNotebook(("code", "#!gosched run stw --arg duration=10m --background --name soak"), ("code", "1 + 1"));
        var result = await new NotebookRunner().RunAsync(nb, Path.Combine(_out, "out")).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(result.Succeeded, string.Join("\n", result.Failures));
        string note = Assert.Single(result.Notes);
        Assert.Contains("the background run `soak` (stw) was still going on when the notebook ended: it was stopped", note);
        Assert.Contains("#!gosched status --wait", note);
        using var executed = JsonDocument.Parse(await File.ReadAllTextAsync(result.ExecutedNotebook));
        var last = executed.RootElement.GetProperty("cells").EnumerateArray().Last().GetProperty("outputs").GetRawText();
        Assert.Contains("was still going on when the notebook ended", last);
        Assert.Contains("\"stderr\"", last);
    }

    /// <summary>A cell that times out ends the run, and a background run still going is stopped and named all the same.</summary>
    [Fact]
    public async Task A_background_run_left_going_when_a_cell_times_out_is_stopped_and_said_so()
    {
        string nb = WriteNotebook(("code", "#!gosched run stw --arg duration=10m --background --name soak"), ("code", "System.Threading.Thread.Sleep(30000);"));
        var result = await new NotebookRunner { CellTimeout = TimeSpan.FromSeconds(2) }.RunAsync(nb, Path.Combine(_out, "out")).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.False(result.Succeeded);
        string note = Assert.Single(result.Notes);
        Assert.Contains("the background run `soak` (stw) was still going on when the notebook ended: it was stopped", note);
    }

    [Fact]
    public async Task A_background_run_waited_for_at_the_end_leaves_no_note()
    {
        string nb = WriteNotebook(("code", "#!gosched run pingpong --arg rounds=1000 --background --name quick"), ("code", "#!gosched status --wait"));
        var result = await new NotebookRunner().RunAsync(nb, Path.Combine(_out, "out")).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(result.Succeeded, string.Join("\n", result.Failures));
        Assert.Empty(result.Notes);
    }
}
