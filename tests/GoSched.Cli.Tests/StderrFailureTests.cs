using System.Text;
using System.Text.Json;
using GoSched.Cli;

namespace GoSched.Cli.Tests;

/// <summary>
/// `gosched run ... 2>/dev/full`: a progress or schedtrace line that could not be written threw on
/// its own thread and aborted the process (exit 134) before the summary or JSON was printed.
/// </summary>
public class StderrFailureTests
{
    /// <summary>stderr on a full disk: every write throws, as Console.Error's does on /dev/full.</summary>
    private sealed class FullWriter : TextWriter
    {
        public int Attempts;
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => Fail();
        public override void Write(string? value) => Fail();
        public override void Write(char[] buffer, int index, int count) => Fail();
        public override void WriteLine(string? value) => Fail();
        private void Fail() { Interlocked.Increment(ref Attempts); throw new IOException("No space left on device"); }
    }

    private static (int Code, string Out, int Attempts) Run(TimeSpan progressEvery, params string[] args)
    {
        var o = new StringWriter();
        var e = new FullWriter();
        int code = CliApp.Build(o, e, progressEvery).Parse(args).Invoke(new System.CommandLine.InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.Attempts);
    }

    [Fact]
    public void AProgressLineThatCannotBeWrittenStopsTheLinesNotTheRun()
    {
        var (code, stdout, attempts) = Run(TimeSpan.FromMilliseconds(20),
            "run", "fanout", "--gomaxprocs", "2", "--json", "--arg", "rounds=1,workers=2,unit=200ms");
        Assert.Equal(0, code);
        var root = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
        var warning = Assert.Single(root.GetProperty("warnings").EnumerateArray()).GetString();
        Assert.Equal("stderr could not be written (No space left on device): the progress and schedtrace lines stopped there; the run went on", warning);
        Assert.Equal(1, attempts); // the first line failed; none was tried after it
    }

    [Fact]
    public void ASchedtraceLineThatCannotBeWrittenStopsTheLinesNotTheRun()
    {
        var (code, stdout, attempts) = Run(CliApp.ProgressEvery,
            "run", "pingpong", "--gomaxprocs", "2", "--schedtrace", "1", "--arg", "rounds=10");
        Assert.Equal(0, code);
        Assert.Contains("result       ok", stdout);
        Assert.Contains("warning      stderr could not be written (No space left on device)", stdout);
        Assert.Equal(1, attempts);
    }
}
