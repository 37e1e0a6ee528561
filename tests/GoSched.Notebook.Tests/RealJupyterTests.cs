using System.Text.Json;

namespace GoSched.Notebook.Tests;

/// <summary>A theory that is skipped, saying why, only when Jupyter is absent and not required.</summary>
public sealed class JupyterTheoryAttribute : TheoryAttribute
{
    public JupyterTheoryAttribute()
    {
        if (Jupyter.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>
/// Every notebook in notebooks/, and this project's fixtures, executed by real Jupyter
/// (nbconvert with the .net-csharp kernel spec of scripts/setup.sh), the way a user runs them,
/// then checked by <see cref="NotebookChecks"/>. Only a real kernel shows what in-process kernel
/// tests cannot: how the extension package loads through #r "nuget:" from the local feed, and
/// which assemblies (FSharp.Core for Plotly.NET) the dotnet-interactive tool really provides.
/// </summary>
public class RealJupyterTests
{
    public static TheoryData<string> Notebooks() => new(NotebookPaths());

    /// <summary>The notebooks to run, relative to the repository root, shipped ones first.</summary>
    internal static List<string> NotebookPaths()
    {
        var root = Repo.Root;
        var paths = new List<string>();
        foreach (var folder in new[] { "notebooks", "tests/GoSched.Notebook.Tests/fixtures" })
        {
            var path = Path.Combine(root, folder);
            if (!Directory.Exists(path)) continue;
            foreach (var file in Directory.GetFiles(path, "*.ipynb").Order(StringComparer.Ordinal))
                paths.Add(Path.GetRelativePath(root, file));
        }
        return paths;
    }

    [JupyterTheory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_runs_in_real_Jupyter_with_no_error_and_offline_charts(string notebook)
    {
        var output = Path.Combine(Repo.Root, "out", "notebook-tests");
        using var executed = Jupyter.Execute(Path.Combine(Repo.Root, notebook), output);
        var problems = NotebookChecks.Problems(executed);
        Assert.True(problems.Count == 0,
            $"{notebook}, executed by Jupyter into {Path.GetRelativePath(Repo.Root, output)}, has {problems.Count} problem(s):\n"
            + string.Join('\n', problems));
    }

    [Fact]
    public void The_shipped_fixture_is_among_the_notebooks_run()
    {
        Assert.Contains(NotebookPaths(), n => n.EndsWith("fixtures/smoke.ipynb", StringComparison.Ordinal));
    }
}

static class Repo
{
    /// <summary>The checkout's root: the first folder above the test binaries that holds Workbench.sln.</summary>
    public static string Root { get; } = Find();

    static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Workbench.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Workbench.sln above {AppContext.BaseDirectory}");
    }
}
