using System.Diagnostics;
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

    /// <summary>Per-cell and kernel-start timeouts handed to nbconvert, and the whole run's limit.</summary>
    static readonly TimeSpan s_cellTimeout = TimeSpan.FromMinutes(10);
    static readonly TimeSpan s_startupTimeout = TimeSpan.FromMinutes(3);
    static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(25);

    public static string Executable =>
        Environment.GetEnvironmentVariable("GOSCHED_JUPYTER") is { Length: > 0 } path ? path : "/usr/bin/jupyter";

    public static bool IsInstalled => File.Exists(Executable);

    public static bool IsRequired => Environment.GetEnvironmentVariable(RequireVariable) is "1" or "true";

    /// <summary>Why a notebook test is skipped, or null when it runs.</summary>
    public static string? SkipReason =>
        IsInstalled || IsRequired
            ? null
            : $"Jupyter is not installed ({Executable} is missing): run scripts/setup.sh, or scripts/test.sh which runs it first.";

    /// <summary>
    /// Executes <paramref name="notebook"/> with nbconvert in its own folder (as Jupyter does) and
    /// returns the executed notebook, written to <paramref name="outputDirectory"/>. Error outputs
    /// are kept (<c>--allow-errors</c>) so that the checks can report every failing cell; a run that
    /// nbconvert itself cannot finish (no kernel, a dead kernel, a timeout) throws with its log.
    /// </summary>
    public static JsonDocument Execute(string notebook, string outputDirectory)
    {
        if (!IsInstalled)
            throw new InvalidOperationException($"{Executable} is missing, and {RequireVariable} says Jupyter is required: scripts/setup.sh installs it.");
        EnsureKernelSpec();
        Directory.CreateDirectory(outputDirectory);
        var name = Path.GetFileNameWithoutExtension(notebook);
        var output = Path.Combine(outputDirectory, name + ".ipynb");
        File.Delete(output);

        var (exitCode, stdout, stderr) = Run(
            [
                "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
                $"--ExecutePreprocessor.kernel_name={KernelName}",
                $"--ExecutePreprocessor.timeout={(int)s_cellTimeout.TotalSeconds}",
                $"--ExecutePreprocessor.startup_timeout={(int)s_startupTimeout.TotalSeconds}",
                "--output-dir", outputDirectory, "--output", name,
                Path.GetFullPath(notebook),
            ],
            workingDirectory: Path.GetDirectoryName(Path.GetFullPath(notebook))!,
            s_runTimeout);
        if (exitCode != 0 || !File.Exists(output))
            throw new InvalidOperationException(
                $"nbconvert could not execute {notebook} (exit code {exitCode}):\n{Tail(stdout + stderr, 60)}");
        return JsonDocument.Parse(File.ReadAllText(output));
    }

    static bool s_kernelSpecChecked;

    /// <summary>Fails with the remedy when the kernel spec scripts/setup.sh writes is not there.</summary>
    static void EnsureKernelSpec()
    {
        if (s_kernelSpecChecked) return;
        var (exitCode, stdout, stderr) = Run(["kernelspec", "list", "--json"], Path.GetTempPath(), TimeSpan.FromMinutes(1));
        if (exitCode != 0 || !JsonDocument.Parse(stdout).RootElement.GetProperty("kernelspecs").TryGetProperty(KernelName, out _))
            throw new InvalidOperationException(
                $"Jupyter has no '{KernelName}' kernel spec: run scripts/setup.sh (it installs dotnet-interactive and writes the spec).\n{Tail(stdout + stderr, 20)}");
        s_kernelSpecChecked = true;
    }

    /// <summary>Runs jupyter with the given arguments; returns its exit code, stdout and stderr.</summary>
    static (int ExitCode, string Stdout, string Stderr) Run(string[] arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Executable)
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
