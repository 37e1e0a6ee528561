using System.Runtime.InteropServices;
using System.Text.Json;
using GoSched.Cli;

namespace GoSched.Cli.Tests;

/// <summary>
/// SIGINT and SIGTERM stopped `gosched run` with nothing on stdout: the run is stopped as at its
/// timeout, its summary (or JSON) printed with result interrupted, and the exit code is 130 or 143.
/// The signal is the one the handler would take, triggered in-process.
/// </summary>
public class InterruptTests
{
    private static (int Code, string Out, string Err) InvokeInterrupted(PosixSignal signal, TimeSpan after, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var interruption = new Interruption(posix: false);
        using var timer = new Timer(_ => interruption.Trigger(signal), null, after, Timeout.InfiniteTimeSpan);
        int code = CliApp.Build(o, e, interruption: interruption).Parse(args).Invoke(new System.CommandLine.InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void SigintStopsTheRunAndPrintsItsJsonWithResultInterrupted()
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // 10,000 locks held 500us each: 5 s and more, were it not interrupted.
        var (code, stdout, stderr) = InvokeInterrupted(PosixSignal.SIGINT, TimeSpan.FromMilliseconds(300), "run", "mutex", "--gomaxprocs", "2", "--arg", "hold=500us", "--json");
        Assert.True(code == 130, stderr);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("interrupted", root.GetProperty("result").GetString());
        Assert.StartsWith("interrupted (SIGINT): stopped after ", root.GetProperty("error").GetString());
        Assert.True(root.GetProperty("goroutines_started").GetInt64() > 0);
        Assert.Matches(@"(?m)^gosched run: interrupted \(SIGINT\): stopped after \d+(\.\d)?(ms|s)\r?$", stderr);
    }

    [Fact]
    public void SigtermStopsTheRunAndPrintsItsSummaryWithResultInterrupted()
    {
        var (code, stdout, stderr) = InvokeInterrupted(PosixSignal.SIGTERM, TimeSpan.FromMilliseconds(300), "run", "mutex", "--gomaxprocs", "2", "--arg", "hold=500us");
        Assert.True(code == 143, stderr);
        Assert.Contains("result       interrupted", stdout);
        Assert.Contains("goroutines   ", stdout);
        Assert.Contains("gosched run: interrupted (SIGTERM): stopped after ", stderr);
    }

    /// <summary>
    /// An interrupted notebook exited 130 and wrote nothing, though the cells before had run: it is
    /// written with their outputs, the interrupted cell's output says so, and the later cells did not run.
    /// </summary>
    [Fact]
    public async Task SigintStopsTheNotebookAndWritesTheCellsRunSoFar()
    {
        string dir = Directory.CreateTempSubdirectory("gosched-cli-interrupt-").FullName;
        try
        {
            string started = Path.Combine(dir, "cell3-started");
            string nb = Path.Combine(dir, "long.ipynb");
            string Cell(string source) => $$"""{"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":{{JsonSerializer.Serialize(source)}}}""";
            File.WriteAllText(nb, $$"""
                {"cells":[
                  {{Cell("Console.WriteLine(\"first output\");")}},
                  {{Cell("\"second \" + \"value\"")}},
                  {{Cell($"System.IO.File.WriteAllText(@\"{started}\", \"\"); await System.Threading.Tasks.Task.Delay(60000);")}},
                  {{Cell("Console.WriteLine(\"never\");")}}],
                 "metadata":{},"nbformat":4,"nbformat_minor":5}
                """);
            var o = new StringWriter();
            var e = new StringWriter();
            var interruption = new Interruption(posix: false);
            // The signal comes while cell 3 runs (however long the kernel takes to start).
            var trigger = Task.Run(async () =>
            {
                while (!File.Exists(started)) await Task.Delay(20);
                await Task.Delay(100);
                interruption.Trigger(PosixSignal.SIGINT);
            });
            string outDir = Path.Combine(dir, "ol");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            int code = await CliApp.Build(o, e, interruption: interruption).Parse(["notebook", nb, "--out", outDir])
                .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = o, Error = e });
            await trigger;
            string stderr = e.ToString();
            Assert.True(code == 130, $"exit code {code}; stdout: {o}; stderr: {stderr}");
            string written = Path.Combine(outDir, "long.ipynb");
            Assert.Contains($"3 cells run; interrupted in cell 3; wrote {written} and {Path.Combine(outDir, "long.html")}", o.ToString());
            Assert.Matches(@"(?m)^gosched notebook: interrupted \(SIGINT\): stopped after \d+(\.\d)?(ms|s)\r?$", stderr);
            Assert.True(File.Exists(Path.Combine(outDir, "long.html")));
            var cells = JsonDocument.Parse(File.ReadAllText(written)).RootElement.GetProperty("cells");
            Assert.Contains("first output", cells[0].GetProperty("outputs").GetRawText());
            Assert.Contains("second value", cells[1].GetProperty("outputs").GetRawText());
            var last = cells[2].GetProperty("outputs").EnumerateArray().Last();
            Assert.Equal("error", last.GetProperty("output_type").GetString());
            Assert.StartsWith("interrupted: ", last.GetProperty("evalue").GetString());
            Assert.Equal(0, cells[3].GetProperty("outputs").GetArrayLength());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The real signal, to the program: its handler is what the in-process tests stand in for.</summary>
    [Fact]
    public async Task ARealSigintToGoschedRunPrintsTheSummaryAndExits130()
    {
        string gosched = Path.Combine(AppContext.BaseDirectory, "gosched.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { gosched, "run", "mutex", "--gomaxprocs", "2", "--arg", "hold=500us", "--schedtrace", "10ms", "--json" })
            start.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        // The first schedtrace line: the run, and so the handler, has started.
        var stderr = new System.Text.StringBuilder();
        while (await p.StandardError.ReadLineAsync() is { } line)
        {
            stderr.AppendLine(line);
            if (line.StartsWith("SCHED ", StringComparison.Ordinal)) break;
        }
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        stderr.Append(await p.StandardError.ReadToEndAsync(limit.Token));
        await p.WaitForExitAsync(limit.Token); // throws if it still runs 10 s after SIGINT
        Assert.True(p.ExitCode == 130, $"exit code {p.ExitCode}; stderr: {stderr}");
        Assert.Equal("interrupted", JsonDocument.Parse(await stdout).RootElement.GetProperty("result").GetString());
        Assert.Contains("gosched run: interrupted (SIGINT): stopped after ", stderr.ToString());
    }

    [Fact]
    public void ASecondSignalIsNotTakenSoItEndsTheProcessAsUsual()
    {
        var interruption = new Interruption(posix: false);
        Assert.True(interruption.Trigger(PosixSignal.SIGINT));
        Assert.False(interruption.Trigger(PosixSignal.SIGTERM));
        Assert.Equal("SIGINT", interruption.Signal);
        Assert.Equal(130, interruption.ExitCode);
    }
}
