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
