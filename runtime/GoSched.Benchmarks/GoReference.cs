// The Go 1.19 reference: go/run.sh builds and runs one program of go/ and prints one JSON line,
// {"workload":..,"system":"go","gomaxprocs":..,"metric":..,"median":..,"runs":[..], extra fields...}
// (go/bench/bench.go). It runs before and after the in-process repetitions, never beside them: the
// machine has two cores. Each run makes BenchOptions.Reps timed repetitions (after its warm-up),
// asked for in the environment as GOSCHED_BENCH_REPS (bench.go reads it), so that --reps N gives
// Go N + N.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace GoSched.Benchmarks;

internal static class GoReference
{
    private const string RunScript = "run.sh";

    /// <summary>The environment variable that tells the Go program how many timed repetitions to make.</summary>
    public const string RepsVariable = "GOSCHED_BENCH_REPS";
    private static readonly string s_relativeDir = Path.Combine("runtime", "GoSched.Benchmarks", "go");

    /// <summary>Runs the Go program of the workload, or says in <paramref name="skipped"/> why not.</summary>
    public static SystemFigures? Run(Workload w, BenchOptions o, out string? skipped)
    {
        skipped = null;
        if (o.Quick) { skipped = "Go reference skipped in quick mode"; return null; }
        if (!o.RunGo) { skipped = "Go reference not requested"; return null; }
        if (FindOnPath("go") == null) { skipped = "Go reference skipped: `go` is not on PATH (Debian: apt-get install golang-go)"; return null; }
        string? dir = o.GoBenchDir ?? FindBenchDir();
        if (dir == null || !File.Exists(Path.Combine(dir, RunScript)))
        {
            skipped = $"Go reference skipped: {Path.Combine(s_relativeDir, RunScript)} not found above {AppContext.BaseDirectory} or {Environment.CurrentDirectory} (set BenchOptions.GoBenchDir)";
            return null;
        }

        var psi = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        psi.ArgumentList.Add(Path.Combine(dir, RunScript));
        psi.ArgumentList.Add(w.Name);
        psi.Environment["GOMAXPROCS"] = o.Gomaxprocs.ToString(CultureInfo.InvariantCulture);
        psi.Environment[RepsVariable] = o.Reps.ToString(CultureInfo.InvariantCulture);
        psi.Environment.Remove("GODEBUG");

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start bash for go/run.sh");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(10)))
        {
            p.Kill(entireProcessTree: true);
            skipped = $"Go reference failed: go/run.sh {w.Name} did not finish within 10 minutes";
            return null;
        }
        if (p.ExitCode != 0)
        {
            skipped = $"Go reference failed: go/run.sh {w.Name} exited with {p.ExitCode}: {stderr.Result.Trim()}";
            return null;
        }
        string? line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        if (line == null)
        {
            skipped = $"Go reference failed: go/run.sh {w.Name} printed no JSON line: {stdout.Trim()}";
            return null;
        }
        return Parse(w, line);
    }

    /// <summary>
    /// The figures of two runs of the Go program as one: all runs (first, then second), their median;
    /// the extra fields of the second run; null when the second run did not happen.
    /// </summary>
    public static SystemFigures? Pool(SystemFigures first, SystemFigures? second)
    {
        if (second == null) return null;
        var runs = first.Runs.Concat(second.Runs).ToArray();
        var allocRuns = first.AllocRuns != null && second.AllocRuns != null ? first.AllocRuns.Concat(second.AllocRuns).ToArray() : null;
        return second with
        {
            Description = second.Description + ", run twice (before and after the in-process repetitions)",
            Runs = runs,
            Median = Stats.Median(runs),
            AllocRuns = allocRuns,
            AllocBytesPerOp = allocRuns != null ? Stats.Median(allocRuns) : second.AllocBytesPerOp,
        };
    }

    /// <summary>Reads the Go program's JSON line into figures; fields beyond the fixed ones go to Extra.</summary>
    internal static SystemFigures Parse(Workload w, string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        string metric = root.GetProperty("metric").GetString() ?? "";
        if (metric != w.Metric) throw new InvalidOperationException($"go/run.sh {w.Name}: metric '{metric}', expected '{w.Metric}'");
        var runs = root.GetProperty("runs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        string[] fixedFields = ["workload", "system", "gomaxprocs", "metric", "median", "runs"];
        var extra = new Dictionary<string, object>();
        foreach (var prop in root.EnumerateObject())
            if (!fixedFields.Contains(prop.Name)) extra[prop.Name] = prop.Value.Clone();

        double? alloc = null;
        IReadOnlyList<double>? allocRuns = null;
        if (w.GoAllocField is { } field && root.TryGetProperty(field, out var a))
        {
            alloc = a.GetDouble();
            if (root.TryGetProperty("alloc_runs", out var ar)) allocRuns = ar.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        }
        return new SystemFigures
        {
            System = "go",
            Description = $"Go {GoVersion()}: go/{w.Name}/main.go",
            Median = root.GetProperty("median").GetDouble(),
            Runs = runs,
            AllocBytesPerOp = alloc,
            AllocRuns = allocRuns,
            Extra = extra,
        };
    }

    private static string? s_goVersion;

    private static string GoVersion()
    {
        if (s_goVersion != null) return s_goVersion;
        try
        {
            using var p = Process.Start(new ProcessStartInfo("go", "env GOVERSION") { RedirectStandardOutput = true, UseShellExecute = false });
            string v = p!.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return s_goVersion = v.StartsWith("go", StringComparison.Ordinal) ? v[2..] : v;
        }
        catch (Exception) { return s_goVersion = "?"; }
    }

    private static string? FindOnPath(string exe)
    {
        foreach (var d in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string f = Path.Combine(d, exe);
            if (File.Exists(f)) return f;
        }
        return null;
    }

    /// <summary>runtime/GoSched.Benchmarks/go, found by walking up from the binaries, then from the current directory.</summary>
    private static string? FindBenchDir()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, s_relativeDir);
                if (File.Exists(Path.Combine(candidate, RunScript))) return candidate;
            }
        }
        return null;
    }
}
