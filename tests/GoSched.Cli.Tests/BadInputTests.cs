using System.Text.Json;
using System.Text.RegularExpressions;

namespace GoSched.Cli.Tests;

/// <summary>
/// Bad command lines and files: one line on stderr that says what to fix, exit code 1, and no .NET
/// type name, stack trace or help dump.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gosched-cli-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void AssertOneLineError((int Code, string Out, string Err) r, string expected)
    {
        Assert.True(r.Code == 1, $"exit code {r.Code}; stdout: {r.Out}; stderr: {r.Err}");
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{r.Err}");
        Assert.Contains(expected, lines[0]);
        foreach (var noise in new[] { "System.", "Exception", "Cannot parse", "Unrecognized", "Usage:", "Options:", "Parameter '", "   at " })
            Assert.DoesNotContain(noise, r.Err);
    }

    private string Notebook(string name, string contents)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, contents);
        return path;
    }

    // 1. JSON that is not an nbformat 4 notebook ran "0 cells" and wrote outputs.
    [Theory]
    [InlineData("""{"hello": 1}""")]
    [InlineData("""{"cells":"x","nbformat":4}""")]
    [InlineData("""{"cells":[],"nbformat":3,"nbformat_minor":0}""")]
    [InlineData("""[1, 2]""")]
    public void JsonThatIsNotANotebookIsRefusedAndNothingIsWritten(string contents)
    {
        string nb = Notebook("notnb.ipynb", contents);
        string outDir = Path.Combine(_dir, "out");
        var r = CliTests.Invoke("notebook", nb, "--out", outDir);
        AssertOneLineError(r, $"{nb}: not a Jupyter notebook (nbformat 4 with a cells list expected");
        Assert.Equal("", r.Out);
        Assert.False(Directory.Exists(outDir), "an output folder was made for a file that is not a notebook");
    }

    // A notebook that shows an error on purpose: --allow-errors records it and goes on, exit 0.
    [Fact]
    public void NotebookAllowErrorsRecordsTheErrorGoesOnAndExitsZero()
    {
        string nb = Notebook("errs.ipynb", """
            {"cells":[
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"#!gosched config --gomaxprocs 0"},
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"1 + 1"}],
             "metadata":{},"nbformat":4,"nbformat_minor":5}
            """);
        var stops = CliTests.Invoke("notebook", nb, "--out", Path.Combine(_dir, "a"));
        Assert.Equal(1, stops.Code);
        Assert.Contains("gosched notebook: cell 1: ", stops.Err);
        Assert.StartsWith("1 cell run;", stops.Out);

        var goesOn = CliTests.Invoke("notebook", nb, "--out", Path.Combine(_dir, "b"), "--allow-errors");
        Assert.True(goesOn.Code == 0, goesOn.Err);
        Assert.Contains("gosched notebook: cell 1: ", goesOn.Err);
        Assert.Contains("--allow-errors went on", goesOn.Err);
        Assert.StartsWith("2 cells run (1 with an error);", goesOn.Out);
    }

    // A cell that threw printed its exception's ToString() on stderr: the message's second line and a
    // stack trace of Submission#3 and Roslyn's scripting frames, with --allow-errors's note stuck to
    // the last of them.
    [Fact]
    public void AFailingCellIsOneLineOnStderrAndTheWholeErrorIsInItsOutput()
    {
        string nb = Notebook("boom.ipynb", """
            {"cells":[
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"1 + 1"},
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"throw new System.InvalidOperationException(\"boom\\nsecond line\");"},
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"int x = nosuch; string y = alsonot;"}],
             "metadata":{},"nbformat":4,"nbformat_minor":5}
            """);
        // Every line on stderr is a progress line ("cell 2/3") or one of these.
        static void AssertLines((int Code, string Out, string Err) r, params string[] expected)
        {
            var lines = r.Err.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !Regex.IsMatch(l, @"^cell \d+/\d+$"));
            Assert.Equal(expected, lines);
        }

        string stops = Path.Combine(_dir, "a");
        var r = CliTests.Invoke("notebook", nb, "--out", stops);
        Assert.Equal(1, r.Code);
        string written = Path.Combine(stops, "boom.ipynb");
        AssertLines(r, $"gosched notebook: cell 2: System.InvalidOperationException: boom (the whole error is in the cell's output in {written})");
        using (var executed = JsonDocument.Parse(File.ReadAllText(written)))
        {
            string output = executed.RootElement.GetProperty("cells")[1].GetProperty("outputs")[0].GetProperty("evalue").GetString()!;
            Assert.StartsWith("System.InvalidOperationException: boom\nsecond line\n   at Submission#", output);
        }

        string goesOn = Path.Combine(_dir, "b");
        r = CliTests.Invoke("notebook", nb, "--out", goesOn, "--allow-errors");
        Assert.True(r.Code == 0, r.Err);
        written = Path.Combine(goesOn, "boom.ipynb");
        // A compiler error is no exception of the cell's: its first line is the first error.
        AssertLines(r,
            $"gosched notebook: cell 2: System.InvalidOperationException: boom (--allow-errors went on; the whole error is in the cell's output in {written})",
            $"gosched notebook: cell 3: (1,9): error CS0103: The name 'nosuch' does not exist in the current context (--allow-errors went on; the whole error is in the cell's output in {written})");
        Assert.Contains("alsonot", File.ReadAllText(written));
    }

    // An exception whose message starts with a line break printed "cell 1: System.Exception: " and
    // nothing of its message.
    [Fact]
    public void AFailingCellWhoseMessageStartsWithALineBreakShowsItsFirstLineThatIsNotBlank()
    {
        string nb = Notebook("nl.ipynb", """
            {"cells":[
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"throw new System.Exception(\"\\n \\nthe real message\\nsecond line\");"},
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"throw new System.Exception(\"\\n\\n\");"}],
             "metadata":{},"nbformat":4,"nbformat_minor":5}
            """);
        string outDir = Path.Combine(_dir, "out");
        var r = CliTests.Invoke("notebook", nb, "--out", outDir, "--allow-errors");
        Assert.True(r.Code == 0, r.Err);
        string where = $"(--allow-errors went on; the whole error is in the cell's output in {Path.Combine(outDir, "nl.ipynb")})";
        var lines = r.Err.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !Regex.IsMatch(l, @"^cell \d+/\d+$"));
        Assert.Equal([
            $"gosched notebook: cell 1: System.Exception: the real message {where}",
            $"gosched notebook: cell 2: System.Exception {where}"], lines);
    }

    // A raw cell came back as an empty code cell (outputs, execution_count and kernel metadata added).
    [Fact]
    public void RawCellsAreWrittenBackAsTheyWereRead()
    {
        const string Raw = """{"cell_type":"raw","metadata":{"format":"text/x-rst","tags":["keep"]},"source":["Raw *text* <é>\n","line two"]}""";
        string nb = Notebook("raw.ipynb", $$"""
            {"cells":[
              {{Raw}},
              {"cell_type":"markdown","metadata":{},"source":"# Title"},
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"1 + 1"}],
             "metadata":{},"nbformat":4,"nbformat_minor":5}
            """);
        string outDir = Path.Combine(_dir, "out");
        var r = CliTests.Invoke("notebook", nb, "--out", outDir);
        Assert.True(r.Code == 0, r.Err);
        Assert.StartsWith("1 cell run;", r.Out);

        using var executed = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "raw.ipynb")));
        var cells = executed.RootElement.GetProperty("cells");
        using var raw = JsonDocument.Parse(Raw);
        Assert.True(JsonElement.DeepEquals(raw.RootElement, cells[0]), $"the raw cell was written as {cells[0]}");
        Assert.Equal("markdown", cells[1].GetProperty("cell_type").GetString());
        Assert.Equal(1, cells[2].GetProperty("execution_count").GetInt32());
        Assert.Contains("<pre>2</pre>", cells[2].GetProperty("outputs").GetRawText());
    }

    // A markdown cell's attachments (a pasted image) were dropped from the executed notebook.
    [Fact]
    public void MarkdownCellsKeepTheirAttachments()
    {
        const string Attachments = """{"a.png":{"image/png":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="},"b c.gif":{"image/gif":"R0lGODlhAQABAAAAACw="}}""";
        string nb = Notebook("att.ipynb", $$"""
            {"cells":[
              {"cell_type":"markdown","metadata":{},"source":"# Title"},
              {"cell_type":"markdown","attachments":{{Attachments}},"metadata":{},"source":["![a](attachment:a.png)\n","![b](attachment:b%20c.gif)"]},
              {"cell_type":"raw","metadata":{},"source":"raw"},
              {"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"1 + 1"}],
             "metadata":{},"nbformat":4,"nbformat_minor":5}
            """);
        string outDir = Path.Combine(_dir, "out");
        var r = CliTests.Invoke("notebook", nb, "--out", outDir);
        Assert.True(r.Code == 0, r.Err);

        using var executed = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "att.ipynb")));
        var cells = executed.RootElement.GetProperty("cells");
        using var attachments = JsonDocument.Parse(Attachments);
        Assert.True(cells[1].TryGetProperty("attachments", out var written), $"the markdown cell was written as {cells[1]}");
        Assert.True(JsonElement.DeepEquals(attachments.RootElement, written), $"the attachments were written as {written}");
        Assert.Equal("markdown", cells[1].GetProperty("cell_type").GetString());
        Assert.Contains("attachment:a.png", cells[1].GetProperty("source").GetRawText());
        Assert.False(cells[0].TryGetProperty("attachments", out _));
        Assert.Equal(1, cells[3].GetProperty("execution_count").GetInt32());
    }

    // A cell of a type nbformat 4 does not have ("weird") was run as C# and written back as code.
    [Fact]
    public void ACellOfAnUnknownTypeIsRefusedAndNothingIsWritten()
    {
        string nb = Notebook("weird.ipynb", """
            {"cells":[
              {"cell_type":"markdown","metadata":{},"source":"# Title"},
              {"cell_type":"weird","metadata":{},"source":"1+1"}],
             "metadata":{},"nbformat":4,"nbformat_minor":5}
            """);
        string outDir = Path.Combine(_dir, "out");
        var r = CliTests.Invoke("notebook", nb, "--out", outDir);
        AssertOneLineError(r, $"{nb}: not a Jupyter notebook (cell 2 has cell_type \"weird\"; nbformat 4 knows code, markdown and raw)");
        Assert.Equal("", r.Out);
        Assert.False(Directory.Exists(outDir), "an output folder was made for a notebook that was refused");
    }

    // 2. Reading and writing errors were .NET's messages.
    [Fact]
    public void InvalidJsonSaysWhereAndAnEmptyFileSaysSo()
    {
        string bad = Notebook("bad.ipynb", "{\n  nope}");
        AssertOneLineError(CliTests.Invoke("notebook", bad, "--out", Path.Combine(_dir, "out")), $"{bad} is not valid JSON (line 2, column 3)");
        string empty = Notebook("empty.ipynb", "");
        AssertOneLineError(CliTests.Invoke("notebook", empty, "--out", Path.Combine(_dir, "out")), $"{empty} is not valid JSON (the file is empty)");
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
    }

    [Fact]
    public void AFolderIsNotANotebook()
    {
        string folder = Path.Combine(_dir, "folder.ipynb");
        Directory.CreateDirectory(folder);
        AssertOneLineError(CliTests.Invoke("notebook", folder), $"{folder} is a folder, not a notebook");
    }

    [Fact]
    public void AnOutputFolderThatCannotBeMadeIsNamedWithTheReason()
    {
        string nb = Notebook("empty-cells.ipynb", """{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}""");
        string file = Path.Combine(_dir, "afile");
        File.WriteAllText(file, "");
        AssertOneLineError(CliTests.Invoke("notebook", nb, "--out", file), $"cannot create the output folder {file}: a file of that name is in the way");
        AssertOneLineError(CliTests.Invoke("notebook", nb, "--out", Path.Combine(file, "sub")), $"cannot create the output folder {Path.Combine(file, "sub")}: {file} is a file, not a folder");
        if (OperatingSystem.IsLinux())
            AssertOneLineError(CliTests.Invoke("notebook", nb, "--out", "/proc/gosched-nope"), "cannot create the output folder /proc/gosched-nope: no such file or directory");
    }

    // `--out .` in the notebook's own folder wrote the executed notebook over the notebook.
    [Fact]
    public void AnOutputFolderThatIsTheNotebooksOwnIsRefusedBeforeAnythingRuns()
    {
        const string Contents = """
            {"cells":[{"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"System.IO.File.WriteAllText(\"ran\", \"\")"}],
             "metadata":{},"nbformat":4,"nbformat_minor":5}
            """;
        string nb = Notebook("m2.ipynb", Contents);
        // Another spelling of the same folder: the paths are compared in full.
        string same = Path.Combine(_dir, "sub", "..");
        Directory.CreateDirectory(Path.Combine(_dir, "sub"));
        var r = CliTests.Invoke("notebook", nb, "--out", same);
        AssertOneLineError(r, $"{nb}: the output folder {Path.GetFullPath(same)} is the notebook's own folder, so the executed notebook would be written over it; choose another folder with --out");
        Assert.Equal("", r.Out);
        Assert.Equal(Contents, File.ReadAllText(nb));
        Assert.False(File.Exists(Path.Combine(_dir, "ran")), "a cell ran");
        Assert.False(File.Exists(Path.Combine(_dir, "m2.html")), "the page was written");
    }

    // The same folder through a symbolic link was not seen: `l2/x.ipynb --out s2` with l2 -> s2, and
    // `x.ipynb --out link` with link -> the notebook's folder, wrote the executed notebook over it.
    [Fact]
    public void AnOutputFolderThatIsTheNotebooksOwnThroughASymlinkIsRefused()
    {
        if (!OperatingSystem.IsLinux()) return;
        const string Contents = """
            {"cells":[{"cell_type":"code","metadata":{},"outputs":[],"execution_count":null,"source":"System.IO.File.WriteAllText(\"ran\", \"\")"}],
             "metadata":{},"nbformat":4,"nbformat_minor":5}
            """;
        string s2 = Path.Combine(_dir, "s2"), l2 = Path.Combine(_dir, "l2"), elsewhere = Path.Combine(_dir, "elsewhere");
        Directory.CreateDirectory(s2);
        Directory.CreateDirectory(elsewhere);
        string nb = Path.Combine(s2, "x.ipynb");
        File.WriteAllText(nb, Contents);
        Directory.CreateSymbolicLink(l2, "s2");
        // The notebook itself a link to the one in s2, from another folder.
        string linked = Path.Combine(elsewhere, "x.ipynb");
        File.CreateSymbolicLink(linked, nb);
        foreach (var (notebook, output) in new[] { (Path.Combine(l2, "x.ipynb"), s2), (nb, l2), (Path.Combine(l2, "x.ipynb"), Path.Combine(_dir, "l2", ".")), (linked, s2) })
        {
            var r = CliTests.Invoke("notebook", notebook, "--out", output);
            AssertOneLineError(r, $"{notebook}: the output folder {Path.GetFullPath(output)} is the notebook's own folder, so the executed notebook would be written over it; choose another folder with --out");
            Assert.Equal("", r.Out);
            Assert.Equal(Contents, File.ReadAllText(nb));
            Assert.Equal(["x.ipynb"], Directory.GetFileSystemEntries(s2).Select(Path.GetFileName)); // no cell ran, no page, no probe left
        }
    }

    // 3. Numbers the parser could not read and unknown options printed the whole help and a .NET type name.
    [Theory]
    [InlineData(new[] { "run", "fanout", "--gomaxprocs", "abc" }, "gosched run: --gomaxprocs abc: not an integer")]
    [InlineData(new[] { "run", "fanout", "--steal-tries", "1.5" }, "gosched run: --steal-tries 1.5: not an integer")]
    [InlineData(new[] { "run", "fanout", "--runq-size", "99999999999" }, "gosched run: --runq-size 99999999999: out of range")]
    [InlineData(new[] { "run", "fanout", "--gomaxprocs" }, "gosched run: --gomaxprocs needs a value")]
    [InlineData(new[] { "run", "ring", "--arg", "hops=99999999999999999999" }, "gosched run: hops=99999999999999999999: must be between 1 and 2000000000")]
    [InlineData(new[] { "run", "ring", "--godebug", "gomaxprocs=99999999999999" }, "gosched run: gomaxprocs=99999999999999: out of range")]
    // resize can change GOMAXPROCS only with another value to change to: maxprocs=1 made 0 or 1 changes and echoed changes=20.
    [InlineData(new[] { "run", "resize", "--arg", "maxprocs=1" }, "gosched run: maxprocs=1: must be between 2 and 256")]
    [InlineData(new[] { "run", "ring", "--runq-size", "1048576", "--gomaxprocs", "256" }, "gosched run: runqsize=1048576: must be a power of two between 4 and 65536")]
    [InlineData(new[] { "bench", "fanout", "--gomaxprocs", "abc" }, "gosched bench: --gomaxprocs abc: not an integer")]
    [InlineData(new[] { "bench", "fanout", "--reps", "many" }, "gosched bench: --reps many: not an integer")]
    [InlineData(new[] { "run", "fanout", "--nosuch" }, "gosched run: unknown option '--nosuch' (see gosched run --help)")]
    [InlineData(new[] { "bench", "fanout", "--nosuch" }, "gosched bench: unknown option '--nosuch' (see gosched bench --help)")]
    [InlineData(new[] { "notebook", "x.ipynb", "--nosuch" }, "gosched notebook: unknown option '--nosuch' (see gosched notebook --help)")]
    [InlineData(new[] { "workloads", "--nosuch" }, "gosched workloads: unknown option '--nosuch' (see gosched workloads --help)")]
    [InlineData(new[] { "run", "fanout", "extra" }, "gosched run: unexpected argument 'extra' (see gosched run --help)")]
    [InlineData(new[] { "run" }, "gosched run: missing the workload (see gosched run --help)")]
    public void BadOptionsGetOneLineAndNoHelp(string[] args, string expected) => AssertOneLineError(CliTests.Invoke(args), expected);

    // 4. bench ran at --gomaxprocs's default 2 although --godebug said gomaxprocs=1.
    [Fact]
    public void BenchRefusesGomaxprocsInGodebug()
    {
        AssertOneLineError(CliTests.Invoke("bench", "fanout", "--quick", "--godebug", "gomaxprocs=1"), "use --gomaxprocs, not gomaxprocs= in --godebug");
        AssertOneLineError(CliTests.Invoke("bench", "fanout", "--quick", "--godebug", "stealtries=0,GOMAXPROCS=3", "--gomaxprocs", "3"), "use --gomaxprocs, not gomaxprocs= in --godebug");
        // run keeps its documented rule: the knob applies, and the option wins when both are given.
        var (code, stdout, stderr) = CliTests.Invoke("run", "pingpong", "--godebug", "gomaxprocs=1", "--arg", "rounds=100", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(1, JsonDocument.Parse(stdout).RootElement.GetProperty("gomaxprocs").GetInt32());
        (code, stdout, stderr) = CliTests.Invoke("run", "pingpong", "--godebug", "gomaxprocs=1", "--gomaxprocs", "2", "--arg", "rounds=100", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal(2, JsonDocument.Parse(stdout).RootElement.GetProperty("gomaxprocs").GetInt32());
    }

    // 4b. --quick --reps 5 ran one repetition without a word.
    [Fact]
    public void BenchRefusesRepsAboveOneWithQuick()
    {
        AssertOneLineError(CliTests.Invoke("bench", "pingpong", "--quick", "--reps", "5"),
            "gosched bench: --reps 5 with --quick: a quick run makes one repetition at small sizes, to check that the benchmark runs; leave out --quick to measure with --reps");
        var (code, _, stderr) = CliTests.Invoke("bench", "pingpong", "--quick", "--reps", "1", "--json");
        Assert.True(code == 0, stderr); // what --quick does anyway
    }

    // 4c. --godebug stealtries=0 appeared nowhere in the report: the run read as one with the defaults.
    [Fact]
    public void BenchReportsTheKnobsGoschedRanWith()
    {
        var (code, stdout, stderr) = CliTests.Invoke("bench", "pingpong", "--quick", "--godebug", "stealtries=0", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal("gomaxprocs=2,stealtries=0,sampleperiodus=0", doc.RootElement.GetProperty("settings").GetString());
        (code, stdout, stderr) = CliTests.Invoke("bench", "pingpong", "--quick", "--gomaxprocs", "1", "--godebug", "runnext=0");
        Assert.True(code == 0, stderr);
        Assert.Contains("\n  gosched settings: gomaxprocs=1,runnext=0,sampleperiodus=0\n", stdout.ReplaceLineEndings("\n"));
    }

    // 5. The Go reference ran 7 + 7 times whatever --reps said.
    [Fact]
    public void GoRepetitionsFollowReps()
    {
        var (code, stdout, stderr) = CliTests.Invoke("bench", "pingpong", "--reps", "1", "--json");
        Assert.True(code == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.Single(root.GetProperty("gosched").GetProperty("runs").EnumerateArray());
        var notes = BenchQuick.Notes(root).ToList();
        if (root.GetProperty("go").ValueKind == JsonValueKind.Null)
        {
            // No Go here: nothing to count, but the report must say why.
            Assert.Contains(notes, n => n.StartsWith("Go reference skipped", StringComparison.Ordinal) || n.StartsWith("Go reference failed", StringComparison.Ordinal));
            return;
        }
        // One before and one after the in-process repetition (the Go program reads GOSCHED_BENCH_REPS).
        Assert.Equal(2, root.GetProperty("go").GetProperty("runs").GetArrayLength());
    }

    // 6. A max below min was a goroutine panic with a stack trace (exit code 2).
    [Theory]
    [InlineData("timers", "min=50ms", "max=1ms", "max=1ms is below min=50ms")]
    [InlineData("timers-under-load", "min=50ms", "max=1ms", "max=1ms is below min=50ms")]
    [InlineData("stw", "period=10ms", "pause=20ms", "pause=20ms must be shorter than period=10ms")]
    public void ArgumentsThatContradictEachOtherAreRefusedBeforeTheRun(string workload, string a, string b, string expected) =>
        AssertOneLineError(CliTests.Invoke("run", workload, "--arg", a, "--arg", b, "--arg", workload == "stw" ? "duration=1ms" : "goroutines=1"), $"gosched run: {expected}");

    // 7. --timeout 0 started the run and timed it out at once.
    [Theory]
    [InlineData("0")]
    [InlineData("0s")]
    public void TimeoutMustBePositive(string timeout) =>
        AssertOneLineError(CliTests.Invoke("run", "pingpong", "--timeout", timeout), $"gosched run: --timeout {timeout}: expected a positive duration");

    // 7b. --timeout 100000h printed .NET's ArgumentOutOfRange message over two lines, and 50ns
    // (a TimeSpan of zero ticks) "the timeout must be positive (Parameter 'timeout')".
    [Theory]
    [InlineData("run", "100000h", "gosched run: --timeout 100000h: must be between 1ms and 24h0m0s")]
    [InlineData("run", "50ns", "gosched run: --timeout 50ns: must be between 1ms and 24h0m0s")]
    [InlineData("run", "25h", "gosched run: --timeout 25h: must be between 1ms and 24h0m0s")]
    [InlineData("run", "99999999999999999999ns", "gosched run: --timeout 99999999999999999999ns: must be between 1ms and 24h0m0s")] // said "expected a positive duration"
    [InlineData("notebook", "100000h", "gosched notebook: --cell-timeout 100000h: must be between 1ms and 24h0m0s")]
    public void TimeoutsOutOfRangeNameTheRange(string command, string timeout, string expected) =>
        AssertOneLineError(command == "run"
            ? CliTests.Invoke("run", "fanout", "--timeout", timeout, "--arg", "rounds=1")
            : CliTests.Invoke("notebook", Notebook("t.ipynb", """{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}"""), "--out", Path.Combine(_dir, "out"), "--cell-timeout", timeout),
            expected);

    // 7c. --timeout 10 said "expected a positive duration": 10 is positive; what it lacks is a unit.
    [Theory]
    [InlineData("run", "--timeout", "10", "gosched run: --timeout 10: a duration needs a unit, as in 10s or 10ms")]
    [InlineData("run", "--timeout", "1.5", "gosched run: --timeout 1.5: a duration needs a unit, as in 1.5s or 1.5ms")]
    [InlineData("notebook", "--cell-timeout", "30", "gosched notebook: --cell-timeout 30: a duration needs a unit, as in 30s or 30ms")]
    public void ATimeoutWithoutAUnitIsAskedForOne(string command, string option, string value, string expected) =>
        AssertOneLineError(command == "run"
            ? CliTests.Invoke("run", "pingpong", option, value)
            : CliTests.Invoke("notebook", Notebook("u.ipynb", """{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}"""), option, value),
            expected);

    // 8. Go's schedtrace period is whole milliseconds, and a bare number is milliseconds.
    [Fact]
    public void SchedtraceTakesWholeMillisecondsAsInGo()
    {
        var (code, stdout, stderr) = CliTests.Invoke("run", "fanout", "--gomaxprocs", "2", "--schedtrace", "5", "--arg", "rounds=2", "--arg", "unit=100us");
        Assert.True(code == 0, stderr);
        Assert.Contains(stderr.Split('\n'), l => l.StartsWith("SCHED ", StringComparison.Ordinal)); // stderr, as Go's
        Assert.Contains("schedtrace=5", stdout); // the settings line
        AssertOneLineError(CliTests.Invoke("run", "fanout", "--schedtrace", "500us"), "gosched run: --schedtrace 500us: schedtrace periods are whole milliseconds, as in Go");
        AssertOneLineError(CliTests.Invoke("run", "fanout", "--schedtrace", "1.5ms"), "gosched run: --schedtrace 1.5ms: schedtrace periods are whole milliseconds, as in Go");
        AssertOneLineError(CliTests.Invoke("run", "fanout", "--schedtrace", "99999999999999999999"), "gosched run: --schedtrace 99999999999999999999: must be at most 1h");
        // A duration in any unit is taken when it is whole milliseconds (2s is 2000), and the help
        // says so: it said "whole milliseconds, 10ms or 10", and 10s was taken as 10000 ms unannounced.
        (code, stdout, stderr) = CliTests.Invoke("run", "pingpong", "--schedtrace", "2s", "--arg", "rounds=10");
        Assert.True(code == 0, stderr);
        Assert.Contains("schedtrace=2000", stdout);
        (code, stdout, _) = CliTests.Invoke("run", "--help");
        Assert.Equal(0, code);
        string help = string.Join(" ", stdout.Split('\n').Select(l => l.Trim())); // the help wraps long descriptions
        Assert.Contains("a bare number is milliseconds, as in Go (10), or a duration (10ms, 2s)", help);
        Assert.Contains("a duration from 1ms to 24h", help);
    }

    // 8b. --scheddetail alone printed nothing more and exited 0: Go prints it only with schedtrace.
    [Theory]
    [InlineData("--scheddetail")]
    [InlineData("--scheddetail", "--schedtrace", "0")]
    public void ScheddetailWithoutSchedtraceIsRefused(params string[] options) =>
        AssertOneLineError(CliTests.Invoke(["run", "fanout", "--arg", "rounds=1", .. options]),
            "gosched run: --scheddetail needs --schedtrace <period> (as in Go, scheddetail prints with each schedtrace line)");

    // 9. An unknown command printed System.CommandLine's help dump with "Required command was not
    // provided" and "Unrecognized command or argument"; `gosched` alone shows the help (exit 1).
    [Fact]
    public void UnknownCommandIsOneLineNamingTheCommands()
    {
        AssertOneLineError(CliTests.Invoke("frobnicate"), "gosched: unknown command 'frobnicate' (commands: run, workloads, bench, notebook; see gosched --help)");
        AssertOneLineError(CliTests.Invoke("--bogus"), "gosched: unknown option '--bogus'");
        var (code, stdout, stderr) = CliTests.Invoke();
        Assert.Equal(1, code);
        Assert.Equal("", stderr);
        Assert.Contains("Commands:", stdout);
        Assert.Contains("notebook <notebook>", stdout);
    }

    // 10. --arg rounds=1,workers=2 said "rounds=1,workers=2: not an integer", where the notebook's
    // #!gosched run takes commas; and a name given twice took the last value without a word.
    [Fact]
    public void ArgTakesCommasAsTheNotebookDoesAndEachNameOnce()
    {
        var (code, stdout, stderr) = CliTests.Invoke("run", "fanout", "--gomaxprocs", "1", "--arg", "rounds=1,workers=2", "--arg", "unit=10us", "--json");
        Assert.True(code == 0, stderr);
        var arguments = JsonDocument.Parse(stdout).RootElement.GetProperty("arguments");
        Assert.Equal(1, arguments.GetProperty("rounds").GetInt64());
        Assert.Equal(2, arguments.GetProperty("workers").GetInt64());
        Assert.Equal(10_000, arguments.GetProperty("unit").GetInt64());
        const string twice = "gosched run: --arg rounds=2: rounds given twice (rounds=1 before it); give each parameter once";
        AssertOneLineError(CliTests.Invoke("run", "fanout", "--arg", "rounds=1", "--arg", "rounds=2"), twice);
        AssertOneLineError(CliTests.Invoke("run", "fanout", "--arg", "rounds=1,rounds=2"), twice);
        (code, stdout, _) = CliTests.Invoke("run", "--help");
        Assert.Equal(0, code);
        string help = string.Join(" ", stdout.Split('\n').Select(l => l.Trim())); // the help wraps long descriptions
        Assert.Contains("name=value; repeat it, or separate several with commas (rounds=1,workers=2); each name once", help);
    }

    // 11. A bare --arg after one with a value ran as if it were not there (exit 0), and empty items
    // (`--arg ,`, `--arg ""`, rounds=1,,workers=2, a trailing comma) were dropped without a word.
    [Theory]
    [InlineData(new[] { "--arg", "rounds=1", "--arg" }, "gosched run: --arg needs a value (see gosched run --help)")]
    [InlineData(new[] { "--arg" }, "gosched run: --arg needs a value (see gosched run --help)")]
    [InlineData(new[] { "--arg", "" }, "gosched run: --arg '': empty; expected name=value (pingpong parameters: rounds)")]
    [InlineData(new[] { "--arg", "rounds=1", "--arg", " " }, "gosched run: --arg ' ': empty; expected name=value (pingpong parameters: rounds)")]
    [InlineData(new[] { "--arg", "," }, "gosched run: --arg ,: item 1 of 2 is empty; separate name=value items with single commas")]
    [InlineData(new[] { "--arg", "rounds=1,,rounds=2" }, "gosched run: --arg rounds=1,,rounds=2: item 2 of 3 is empty; separate name=value items with single commas")]
    [InlineData(new[] { "--arg", "rounds=1," }, "gosched run: --arg rounds=1,: item 2 of 2 is empty; separate name=value items with single commas")]
    public void AnEmptyOrMissingArgIsRefused(string[] args, string expected) =>
        AssertOneLineError(CliTests.Invoke(["run", "pingpong", .. args]), expected);
}
