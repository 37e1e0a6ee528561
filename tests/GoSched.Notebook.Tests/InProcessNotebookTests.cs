using System.Text.Json;
using GoSched.Notebooks;

namespace GoSched.Notebook.Tests;

/// <summary>
/// Every notebook in notebooks/, and this project's fixtures, executed in-process by the runner of
/// `gosched notebook` (the extension loaded directly, no Jupyter), then checked by
/// <see cref="NotebookChecks"/> as the real-Jupyter runs are. Runs where Jupyter is not installed.
/// </summary>
public class InProcessNotebookTests
{
    public static TheoryData<string> Notebooks() => new(RealJupyterTests.NotebookPaths());

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Notebook_runs_in_process_with_no_error_and_offline_charts(string notebook)
    {
        var output = Path.Combine(Repo.Root, "out", "notebook-tests-in-process");
        var result = await new NotebookRunner().RunAsync(Path.Combine(Repo.Root, notebook), output);
        Assert.True(result.Succeeded, $"{notebook}: {string.Join("\n", result.Failures)}");
        using var executed = JsonDocument.Parse(await File.ReadAllTextAsync(result.ExecutedNotebook));
        var problems = NotebookChecks.Problems(executed);
        Assert.True(problems.Count == 0,
            $"{notebook}, executed in-process into {Path.GetRelativePath(Repo.Root, output)}, has {problems.Count} problem(s):\n"
            + string.Join('\n', problems));
    }

    [Fact]
    public void Every_shipped_notebook_is_among_the_notebooks_run()
    {
        var shipped = Directory.GetFiles(Path.Combine(Repo.Root, "notebooks"), "*.ipynb").Select(f => Path.GetRelativePath(Repo.Root, f));
        Assert.NotEmpty(shipped);
        Assert.All(shipped, n => Assert.Contains(n, RealJupyterTests.NotebookPaths()));
    }
}
