using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace GoSched.Notebook.Tests;

/// <summary>
/// Real Jupyter, as scripts/setup.sh installs it: Debian's <c>/usr/bin/jupyter</c> (which runs on
/// Debian's <c>/usr/bin/python3</c>, not the PATH's) and the <c>.net-csharp</c> kernel spec that
/// starts the pinned dotnet-interactive tool.
/// </summary>
public static class Jupyter
{
    /// <summary>The kernel spec that scripts/setup.sh writes.</summary>
    public const string KernelName = ".net-csharp";

    /// <summary>Set (to 1) by scripts/test.sh: Jupyter is then required, and its absence fails the tests.</summary>
    public const string RequireVariable = "GOSCHED_REQUIRE_JUPYTER";

    /// <summary>
    /// Per-cell and kernel-start timeouts, and the whole run's limit: generous (a cell here runs for
    /// seconds), yet under the 15 minutes after which scripts/test.sh declares a test hung.
    /// GOSCHED_NOTEBOOK_CELL_TIMEOUT (seconds) shortens the per-cell one while working on a notebook.
    /// </summary>
    static readonly TimeSpan s_cellTimeout = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("GOSCHED_NOTEBOOK_CELL_TIMEOUT"), out var s) && s > 0 ? s : 300);
    static readonly TimeSpan s_startupTimeout = TimeSpan.FromMinutes(3);
    static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(13);

    public static string Executable =>
        Environment.GetEnvironmentVariable("GOSCHED_JUPYTER") is { Length: > 0 } path ? path : "/usr/bin/jupyter";

    public static bool IsInstalled => File.Exists(Executable);

    public static bool IsRequired => Environment.GetEnvironmentVariable(RequireVariable) is "1" or "true";

    /// <summary>Why a notebook test is skipped, or null when it runs.</summary>
    public static string? SkipReason =>
        IsInstalled || IsRequired
            ? null
            : $"Jupyter is not installed ({Executable} is missing): run scripts/setup.sh, or scripts/test.sh which runs it first.";

    /// <summary>Debian's interpreter, which /usr/bin/jupyter runs on and the Jupyter packages are installed for.</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>
    /// Executes <paramref name="notebook"/> in its own folder, as <c>jupyter nbconvert --to notebook
    /// --execute --allow-errors</c> does (execute_notebook.py runs nbconvert's ExecutePreprocessor),
    /// and returns the executed notebook, written to <paramref name="outputDirectory"/>. Error outputs
    /// are kept so that the checks report every failing cell; when the run stops early (a cell times
    /// out, the kernel dies) the notebook is still written, as far as it got, with the reason in its
    /// metadata. Throws, with the log, only when no notebook was written at all.
    /// </summary>
    public static JsonDocument Execute(string notebook, string outputDirectory)
    {
        if (!IsInstalled)
            throw new InvalidOperationException($"{Executable} is missing, and {RequireVariable} says Jupyter is required: scripts/setup.sh installs it.");
        EnsureKernelSpec();
        Directory.CreateDirectory(outputDirectory);
        var output = Path.Combine(outputDirectory, Path.GetFileName(notebook));
        File.Delete(output);

        var driver = Path.Combine(Repo.Root, "tests", "GoSched.Notebook.Tests", "execute_notebook.py");
        var (exitCode, stdout, stderr) = Run(
            Python,
            [
                driver, Path.GetFullPath(notebook), output, KernelName,
                ((int)s_cellTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                ((int)s_startupTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            ],
            workingDirectory: Path.GetDirectoryName(Path.GetFullPath(notebook))!,
            s_runTimeout);
        if (exitCode != 0 || !File.Exists(output))
            throw new InvalidOperationException(
                $"Jupyter could not execute {notebook} (exit code {exitCode}):\n{Tail(stdout + stderr, 60)}");
        return JsonDocument.Parse(File.ReadAllText(output));
    }

    static bool s_kernelSpecChecked;

    /// <summary>Fails with the remedy when the kernel spec scripts/setup.sh writes is not there.</summary>
    static void EnsureKernelSpec()
    {
        if (s_kernelSpecChecked) return;
        var (exitCode, stdout, stderr) = Run(Executable, ["kernelspec", "list", "--json"], Path.GetTempPath(), TimeSpan.FromMinutes(1));
        if (exitCode != 0 || !JsonDocument.Parse(stdout).RootElement.GetProperty("kernelspecs").TryGetProperty(KernelName, out _))
            throw new InvalidOperationException(
                $"Jupyter has no '{KernelName}' kernel spec: run scripts/setup.sh (it installs dotnet-interactive and writes the spec).\n{Tail(stdout + stderr, 20)}");
        s_kernelSpecChecked = true;
    }

    /// <summary>Runs a program; returns its exit code, stdout and stderr. Kills it, and all it started, after <paramref name="timeout"/>.</summary>
    static (int ExitCode, string Stdout, string Stderr) Run(string program, string[] arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        CleanEnvironment(start.Environment);

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, stdout.Result, $"timed out after {timeout}\n{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// The test host runs inside MSBuild's and VSTest's environment; the kernel runs its own
    /// <c>dotnet restore</c> for <c>#r "nuget:"</c>, and must not inherit the variables that point a
    /// dotnet process at another SDK's MSBuild. The Python debugger's frozen-modules notice is noise.
    /// </summary>
    static void CleanEnvironment(IDictionary<string, string?> environment)
    {
        foreach (var key in environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || key is "DOTNET_HOST_PATH" or "MSBUILD_EXE_PATH")
                environment.Remove(key);
        }
        environment["PYDEVD_DISABLE_FILE_VALIDATION"] = "1";
    }

    static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
