// NotebookRunner: run an .ipynb headless, in this process, with the GoSched extension loaded.
//
// What `gosched notebook <file>` and the notebook tests use. The kernel is the one a notebook gets
// in Jupyter, minus the process boundary: CompositeKernel { CSharpKernel } with #r "nuget:" and the
// kernel helpers, and the extension loaded the way the host loads it (IKernelExtension.OnLoadAsync).
// Each code cell is submitted in order; its events become the cell's outputs (display data, return
// values, stdout/stderr, errors) exactly as the Jupyter front end records them, and the executed
// notebook and a self-contained HTML page are written side by side.
//
// The #r line of the extension itself. In the real kernel a notebook starts with
//     #r "nuget: GoSched.Interactive, 0.1.0"
// and that line is what loads the extension. Here the extension is already loaded, from the very
// build this runner belongs to, so the runner takes that line out of the code it submits and
// shows a one-line note in its place (the .ipynb keeps the line as written). Restoring the package
// instead would need the local feed to hold a fresh pack of this build, and would load a second
// GoSched.Runtime beside the one the extension uses, whose types would not match it. Any other
// #r "nuget:" line (XPlot.Plotly, say) is restored as usual.
//
// A cell error is a failure: the run stops at the first one (as nbconvert does: later cells
// usually depend on it), the outputs so far are still written, and the result names the cell.
// With AllowErrors (nbconvert's --allow-errors), for a notebook that shows errors on purpose, the
// error stays in the cell's output, the run goes on, and the result lists it apart from failures.
// A cell that runs past CellTimeout fails in either case, even one that blocks its thread and
// never sees the cancellation (Thread.Sleep, a goroutine that never awaits): the runner stops
// waiting for it, writes what it has and leaves that kernel behind. Raw cells are not code: they
// are not run, and are written back equal as JSON to what was read (not byte for byte: see WriteNotebook).
//
// A notebook may end with a `#!gosched run ... --background` that nobody waited for. The runner
// stops that run once the last cell has run, or a cell timed out (its results would not be in the notebook anyway, and
// the process would cut it off unseen) and says so in the last cell's output (stderr) and in the
// result's Notes; it is not a failure. `#!gosched status --wait` at the end waits for it instead.
using System.Text.RegularExpressions;
using GoSched.Interactive;
using GoSched.Interactive.Workbench;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.DotNet.Interactive.PackageManagement;
using KernelInfo = Microsoft.DotNet.Interactive.Documents.KernelInfo;

namespace GoSched.Notebooks;

/// <summary>One failed cell: its number (1-based, counting every cell as Jupyter shows them) and what went wrong.</summary>
public sealed record CellFailure(int Cell, string Source, string Message)
{
    /// <summary>
    /// The error in one line, for a console: the first line of <see cref="Message"/>, which has the
    /// whole, as the cell's output does. For an exception the cell threw, Message is the exception's
    /// ToString(), whose first line is its type and the first line of its message; the rest is the
    /// message's other lines and the stack trace (the cell's frames, then Roslyn's scripting ones).
    /// For compiler errors it is the first of them. Blank lines are passed over: a message that
    /// starts with a line break made a first line of the type alone ("System.Exception: "), and the
    /// message's first line that is not blank follows it then (or the type alone, if the message
    /// has none before the stack trace).
    /// </summary>
    public string Summary
    {
        get
        {
            var lines = Message.Split(['\r', '\n']).Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
            if (lines.Count == 0) return "";
            string first = lines[0];
            if (!Regex.IsMatch(first, @"^\S+:$")) return first; // not a type with nothing after it
            string? next = lines.Skip(1).Select(l => l.Trim()).FirstOrDefault(l => !l.StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("--- End of", StringComparison.Ordinal));
            return next is null ? first[..^1] : $"{first} {next}";
        }
    }

    public override string ToString() => $"cell {Cell}: {Message}";
}

/// <summary>
/// A notebook that cannot be read (not a file of JSON, not nbformat 4) or whose outputs cannot be
/// written: the message names the file or folder and says what is wrong, in one line.
/// </summary>
public sealed class NotebookException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What a notebook run produced.</summary>
public sealed record NotebookResult(string Notebook, string ExecutedNotebook, string Html, int CellsRun, IReadOnlyList<CellFailure> Failures)
{
    /// <summary>Cell errors recorded in the outputs and run past (<see cref="NotebookRunner.AllowErrors"/>): not failures.</summary>
    public IReadOnlyList<CellFailure> AllowedErrors { get; init; } = [];

    /// <summary>What the runner did besides running cells (a background run it stopped at the end), one line each.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// Whether the caller's cancellation (the CLI's SIGINT or SIGTERM) stopped the run: the cells
    /// after it did not run, and the outputs so far were written.
    /// </summary>
    public bool Interrupted { get; init; }

    /// <summary>The cell the interrupt cut short (1-based; its output says so), or null if it came between cells.</summary>
    public int? InterruptedCell { get; init; }

    public bool Succeeded => Failures.Count == 0;

    /// <summary>0 when no cell failed (errors run past with AllowErrors do not count), 1 otherwise: the CLI's exit code.</summary>
    public int ExitCode => Succeeded ? 0 : 1;
}

/// <summary>Executes .ipynb notebooks in-process with GoSched.Interactive loaded.</summary>
public sealed class NotebookRunner
{
    private const string CSharp = "csharp";
    private const string Markdown = "markdown";

    // #r "nuget: GoSched.Interactive" or #r "nuget:GoSched.Interactive, 0.1.0", on a line of its own.
    private static readonly Regex s_extensionReference = new(
        @"^[ \t]*#r[ \t]+""nuget:[ \t]*GoSched\.Interactive[ \t]*(,[^""]*)?""[ \t]*\r?$",
        RegexOptions.Multiline | RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>Per-cell time limit; a cell still running then is cancelled and fails.</summary>
    public TimeSpan CellTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Record a cell's error in its output and go on with the next cell (nbconvert's
    /// --allow-errors); a cell that runs past <see cref="CellTimeout"/> still stops the run.
    /// </summary>
    public bool AllowErrors { get; init; }

    /// <summary>How long an interrupted cell that does not respond to the cancellation is waited for before it is abandoned.</summary>
    private static readonly TimeSpan s_interruptWait = TimeSpan.FromSeconds(2);

    /// <summary>The error output of the cell an interrupt cut short.</summary>
    internal const string InterruptedMessage = "interrupted: the run was stopped during this cell (SIGINT or SIGTERM); the cells after it did not run";

    /// <summary>How long the runner waits for a background run it stops at the end of the notebook.</summary>
    private static readonly TimeSpan s_backgroundStopWait = TimeSpan.FromSeconds(30);

    /// <summary>Reports progress ("cell 3/12"), e.g. to the console; null for none.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>
    /// Runs <paramref name="notebookPath"/> and writes &lt;name&gt;.ipynb and &lt;name&gt;.html into
    /// <paramref name="outputDirectory"/> (created if missing). Relative paths in the notebook start
    /// at the notebook's folder, as in Jupyter: the process's current directory is that folder while
    /// the cells run.
    /// </summary>
    /// <param name="cancellationToken">an interrupt: the running cell is cancelled (and abandoned if it does not respond
    /// within 2 s), no further cell runs, and the notebook is written with the outputs so far (<see cref="NotebookResult.Interrupted"/>).</param>
    /// <exception cref="NotebookException">The notebook cannot be read or is not a Jupyter notebook (nbformat 4), or the executed notebook would be written over it, before anything is written; or the output folder or files cannot be written.</exception>
    public async Task<NotebookResult> RunAsync(string notebookPath, string outputDirectory, CancellationToken cancellationToken = default)
    {
        string shown = notebookPath; // as the caller named it, in messages
        notebookPath = Path.GetFullPath(notebookPath);
        var kernelInfos = new KernelInfoCollection
        {
            new KernelInfo(CSharp, "C#", ["c#", "C#", "cs"]),
            new KernelInfo(Markdown, "Markdown", ["md"]),
        };
        kernelInfos.DefaultKernelName = CSharp;
        byte[] bytes = ReadNotebookFile(notebookPath, shown);
        var raw = CheckNotebook(bytes, shown);
        InteractiveDocument document;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            document = Notebook.Read(stream, kernelInfos);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException or InvalidCastException or KeyNotFoundException or ArgumentException)
        {
            // What CheckNotebook lets through and the document reader still refuses. Its messages name
            // .NET types; the JSON path of the value it could not read is what to fix.
            string where = e is System.Text.Json.JsonException { Path: { Length: > 0 } jsonPath } ? $": the value at {jsonPath} has an unexpected type" : "";
            throw new NotebookException($"{shown}: not a Jupyter notebook the kernel can read (nbformat 4 expected{where})", e);
        }
        if (document.Elements.Count != raw.Cells) // cells that do not line up: nothing to skip or put back
        {
            raw.Json.Clear();
            raw.Attachments.Clear();
        }
        string name = Path.GetFileNameWithoutExtension(notebookPath);
        string ipynb = Path.Combine(outputDirectory, name + ".ipynb");
        // `--out .` beside the notebook wrote the executed notebook over it. Full paths first, so that
        // dir/sub/.. and a relative name of the same folder are refused before the folder is made;
        // then the folder itself, once made, for the spellings no path comparison sees through.
        string sameFolder = $"{shown}: the output folder {outputDirectory} is the notebook's own folder, so the executed notebook would be written over it; choose another folder with --out";
        if (string.Equals(Path.GetFullPath(ipynb), notebookPath, s_pathComparison))
            throw new NotebookException(sameFolder);
        CreateOutputDirectory(outputDirectory); // a folder that cannot be made fails before any cell runs
        if (IsNotebookFolder(outputDirectory, notebookPath))
            throw new NotebookException(sameFolder);

        var failures = new List<CellFailure>();
        var allowed = new List<CellFailure>();
        var notes = new List<string>();
        int run = 0;
        bool abandoned = false;
        bool interrupted = false;
        int? interruptedCell = null;
        InteractiveDocumentElement? lastRun = null;
        string previousDirectory = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Path.GetDirectoryName(notebookPath)!;
        CompositeKernel? kernel = null;
        try
        {
            kernel = await CreateKernelAsync();
            for (int i = 0; i < document.Elements.Count && failures.Count == 0 && !interrupted; i++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    interrupted = true;
                    break;
                }
                var cell = document.Elements[i];
                if (cell.KernelName == Markdown || raw.Json.ContainsKey(i))
                    continue;
                cell.Outputs.Clear();
                cell.ExecutionOrder = ++run;
                Log?.WriteLine($"cell {i + 1}/{document.Elements.Count}");
                lastRun = cell;
                var (error, finished, timedOut, cut) = await RunCellAsync(kernel, cell, cancellationToken);
                abandoned = !finished;
                interrupted = cancellationToken.IsCancellationRequested;
                if (cut) interruptedCell = i + 1;
                else if (error is not null)
                    (AllowErrors && !timedOut ? allowed : failures).Add(new CellFailure(i + 1, cell.Contents, error));
            }
            // Also after a cell that timed out (its kernel is left behind): the background run is
            // told to stop all the same, and the note says so. StopBackgroundAsync takes no lock the
            // stuck cell could hold.
            if (GoSchedSession.For(kernel) is { } session && await session.StopBackgroundAsync(s_backgroundStopWait) is { } stopped)
            {
                lastRun?.Outputs.Add(new TextElement(stopped + "\n", "stderr"));
                notes.Add(stopped); // the caller prints the notes (gosched notebook: to stderr)
            }
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
            // A kernel whose cell is still running is left as it is: disposing it would wait for that cell.
            if (!abandoned) kernel?.Dispose();
            Formatter.ResetToDefault(); // the extension's and the notebook's formatters end with its kernel
        }

        await WriteOutputAsync(ipynb, async () =>
        {
            await using var output = File.Create(ipynb);
            WriteNotebook(document, kernelInfos, raw, output);
        });
        string html = Path.Combine(outputDirectory, name + ".html");
        // Not the caller's token: an interrupted run is written all the same.
        await WriteOutputAsync(html, () => File.WriteAllTextAsync(html, NotebookHtml.Render(document, name), CancellationToken.None));
        return new NotebookResult(notebookPath, ipynb, html, run, failures)
        {
            AllowedErrors = allowed, Notes = notes, Interrupted = interrupted, InterruptedCell = interruptedCell,
        };
    }

    private static byte[] ReadNotebookFile(string path, string shown)
    {
        if (Directory.Exists(path)) throw new NotebookException($"{shown} is a folder, not a notebook");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookException($"cannot read {shown}: {Reason(e, path)}", e);
        }
    }

    /// <summary>
    /// The raw cells of a notebook (the JSON of each, by index), the attachments of its markdown
    /// cells (the JSON of each cell's "attachments", by index) and how many cells it has in all.
    /// </summary>
    private sealed record RawCells(Dictionary<int, string> Json, Dictionary<int, string> Attachments, int Cells);

    /// <summary>
    /// Checks that the file is a Jupyter notebook this runner can run: JSON, an object with
    /// nbformat 4 and a list of cells, each an object with a cell_type nbformat 4 knows and a
    /// source (a string or a list of strings). Returns the raw cells (nbformat's cell_type "raw") as they are in the file:
    /// the document reader turns them into code cells of the default kernel; and the markdown cells'
    /// attachments (pasted images), which the document model has no place for.
    /// </summary>
    private static RawCells CheckNotebook(byte[] bytes, string shown)
    {
        const string Expected = "nbformat 4 with a cells list expected";
        string text = System.Text.Encoding.UTF8.GetString(bytes);
        if (string.IsNullOrWhiteSpace(text.TrimStart('\uFEFF')))
            throw new NotebookException($"{shown} is not valid JSON (the file is empty)");
        System.Text.Json.JsonDocument json;
        try
        {
            json = System.Text.Json.JsonDocument.Parse(bytes.AsMemory(bytes is [0xEF, 0xBB, 0xBF, ..] ? 3 : 0));
        }
        catch (System.Text.Json.JsonException e)
        {
            string where = e.LineNumber is { } line ? $"line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "";
            // The reader's own words after the position would name .NET types; the position is what to fix.
            throw new NotebookException($"{shown} is not valid JSON ({(where.Length > 0 ? where : "unreadable")})", e);
        }
        using (json)
        {
            var root = json.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw new NotebookException($"{shown}: not a Jupyter notebook ({Expected}; the file holds a JSON {Kind(root.ValueKind)})");
            if (!root.TryGetProperty("nbformat", out var format) || format.ValueKind != System.Text.Json.JsonValueKind.Number)
                throw new NotebookException($"{shown}: not a Jupyter notebook ({Expected}; it has no nbformat)");
            if (!format.TryGetInt32(out int version) || version != 4)
                throw new NotebookException($"{shown}: not a Jupyter notebook ({Expected}; it is nbformat {format.GetRawText()}: open and save it in Jupyter to convert it)");
            if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw new NotebookException($"{shown}: not a Jupyter notebook (its metadata is a JSON {Kind(metadata.ValueKind)}, not an object)");
            if (!root.TryGetProperty("cells", out var cells) || cells.ValueKind != System.Text.Json.JsonValueKind.Array)
                throw new NotebookException($"{shown}: not a Jupyter notebook ({Expected}; {(cells.ValueKind == System.Text.Json.JsonValueKind.Undefined ? "it has no cells" : $"its cells are a JSON {Kind(cells.ValueKind)}, not a list")})");
            var raw = new Dictionary<int, string>();
            var attachments = new Dictionary<int, string>();
            int i = 0;
            foreach (var c in cells.EnumerateArray())
            {
                i++;
                string? problem = CellProblem(c);
                if (problem is not null)
                    throw new NotebookException($"{shown}: not a Jupyter notebook (cell {i} {problem})");
                string? type = c.GetProperty("cell_type").GetString();
                if (type == "raw") raw[i - 1] = c.GetRawText();
                else if (type == "markdown" && c.TryGetProperty("attachments", out var attached)) attachments[i - 1] = attached.GetRawText();
            }
            return new RawCells(raw, attachments, i);
        }
    }

    /// <summary>What makes a cell unreadable, or null.</summary>
    private static string? CellProblem(System.Text.Json.JsonElement cell)
    {
        if (cell.ValueKind != System.Text.Json.JsonValueKind.Object) return $"is a JSON {Kind(cell.ValueKind)}, not a cell";
        if (!cell.TryGetProperty("cell_type", out var type) || type.ValueKind != System.Text.Json.JsonValueKind.String) return "has no cell_type";
        // The document reader takes any other type for code: a "weird" cell was run as C# and written back as code.
        if (type.GetString() is not ("code" or "markdown" or "raw"))
            return $"has cell_type {type.GetRawText()}; nbformat 4 knows code, markdown and raw";
        if (!cell.TryGetProperty("source", out var source)) return "has no source";
        bool text = source.ValueKind == System.Text.Json.JsonValueKind.String
            || source.ValueKind == System.Text.Json.JsonValueKind.Array && source.EnumerateArray().All(l => l.ValueKind == System.Text.Json.JsonValueKind.String);
        if (!text) return "has a source that is neither a string nor a list of strings";
        if (cell.TryGetProperty("metadata", out var metadata) && metadata.ValueKind != System.Text.Json.JsonValueKind.Object)
            return $"has metadata that is a JSON {Kind(metadata.ValueKind)}, not an object";
        if (cell.TryGetProperty("outputs", out var outputs)
            && (outputs.ValueKind != System.Text.Json.JsonValueKind.Array || outputs.EnumerateArray().Any(o => o.ValueKind != System.Text.Json.JsonValueKind.Object)))
            return "has outputs that are not a list of objects";
        return null;
    }

    private static string Kind(System.Text.Json.JsonValueKind kind) => kind switch
    {
        System.Text.Json.JsonValueKind.Array => "list",
        System.Text.Json.JsonValueKind.String => "string",
        System.Text.Json.JsonValueKind.Number => "number",
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "boolean",
        System.Text.Json.JsonValueKind.Null => "null",
        _ => "object",
    };

    /// <summary>
    /// Writes the executed notebook, with its raw cells and its markdown cells' attachments equal as
    /// JSON to what was read. The document model has no raw cell (the writer would write each one as
    /// a code cell, with outputs and kernel metadata added) and no attachments (the writer would
    /// drop them). So a notebook with either is written to memory first and those put back, in the
    /// writer's layout (one-space indents, no escaping of HTML or non-ASCII characters); one without
    /// is written as the writer writes it. Equal as JSON, not byte for byte: the layout is the
    /// writer's, and a string's escapes are written anew (\u00e9 as é, \ud83d\ude00 as \uD83D\uDE00).
    /// </summary>
    private static void WriteNotebook(InteractiveDocument document, KernelInfoCollection kernelInfos, RawCells raw, Stream output)
    {
        if (raw.Json.Count == 0 && raw.Attachments.Count == 0)
        {
            Notebook.Write(document, output, kernelInfos);
            return;
        }
        using var written = new MemoryStream();
        Notebook.Write(document, written, kernelInfos);
        var root = System.Text.Json.Nodes.JsonNode.Parse(written.ToArray())!;
        var cells = root["cells"]!.AsArray();
        foreach (var (index, json) in raw.Json)
            cells[index] = System.Text.Json.Nodes.JsonNode.Parse(json);
        foreach (var (index, json) in raw.Attachments)
            cells[index]!["attachments"] = System.Text.Json.Nodes.JsonNode.Parse(json);
        using var writer = new System.Text.Json.Utf8JsonWriter(output, new System.Text.Json.JsonWriterOptions
        {
            Indented = true,
            IndentSize = 1,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        root.WriteTo(writer);
    }

    /// <summary>
    /// Whether <paramref name="directory"/> is the folder <paramref name="notebookPath"/> is in (or,
    /// for a notebook that is a symbolic link, the folder of the file it links to), however either
    /// is reached: through symbolic links anywhere in either path, or a bind mount. A uniquely
    /// named empty file is made in the folder and looked for beside the notebook, then deleted.
    /// A folder the probe cannot be made in (a notebook file may be writable in a folder that is
    /// not) is compared by real path: every component's link followed to its final target.
    /// </summary>
    private static bool IsNotebookFolder(string directory, string notebookPath)
    {
        var notebookFolders = new List<string> { Path.GetDirectoryName(notebookPath)! };
        if (RealPath(notebookPath) is var real && Path.GetDirectoryName(real) is { } realFolder)
            notebookFolders.Add(realFolder);
        string probe = Path.Combine(directory, $".gosched-notebook-probe-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
                return notebookFolders.Any(f => File.Exists(Path.Combine(f, Path.GetFileName(probe))));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string realDirectory = RealPath(directory);
            return notebookFolders.Any(f => string.Equals(RealPath(f), realDirectory, s_pathComparison));
        }
    }

    /// <summary>How paths compare: exactly on Linux, without regard to case where file systems usually ignore it.</summary>
    private static readonly StringComparison s_pathComparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;

    /// <summary>The full path with each component that is a symbolic link replaced by its final target, as realpath(3) makes it; a component that cannot be resolved is kept as it is.</summary>
    private static string RealPath(string path, int depth = 0)
    {
        path = Path.GetFullPath(path);
        string root = Path.GetPathRoot(path) ?? "";
        string current = root;
        foreach (string part in path[root.Length..].Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            try
            {
                // A target is a full path whose own components may be links: resolved in turn (40 deep at the most, as Linux does).
                if (depth < 40 && new FileInfo(current).ResolveLinkTarget(returnFinalTarget: true) is { } target)
                    current = RealPath(target.FullName, depth + 1);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // a link loop, or a component that cannot be read: kept as written
            }
        }
        return current;
    }

    private static void CreateOutputDirectory(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new NotebookException($"cannot create the output folder {directory}: {Reason(e, directory)}", e);
        }
    }

    private static async Task WriteOutputAsync(string file, Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookException($"cannot write {file}: {(Directory.Exists(file) ? "a folder of that name is in the way" : Reason(e, file))}", e);
        }
    }

    /// <summary>Why a file or folder could not be read, made or written, in the words of mkdir and friends.</summary>
    private static string Reason(Exception e, string path)
    {
        for (string? p = Path.GetFullPath(path); !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
            if (File.Exists(p))
                return p == Path.GetFullPath(path) ? "a file of that name is in the way" : $"{p} is a file, not a folder";
        return e switch
        {
            UnauthorizedAccessException => "permission denied",
            FileNotFoundException or DirectoryNotFoundException => "no such file or directory",
            PathTooLongException => "the path is too long",
            _ => e.Message,
        };
    }

    private static async Task<CompositeKernel> CreateKernelAsync()
    {
        var csharp = new CSharpKernel()
            .UseKernelHelpers()
            .UseValueSharing()
            .UseNugetDirective((k, packages) =>
            {
                k.AddAssemblyReferences(packages.SelectMany(p => p.AssemblyPaths));
                return Task.CompletedTask;
            });
        var kernel = new CompositeKernel { csharp };
        kernel.DefaultKernelName = CSharp;
        await new GoSchedKernelExtension().OnLoadAsync(kernel);
        return kernel;
    }

    /// <summary>
    /// Submits one cell and records its outputs; returns the error message if it failed, whether the
    /// cell finished, whether it ran past the time limit, and whether the interrupt
    /// (<paramref name="cancellationToken"/>) cut it short (its output then ends with an error saying so).
    /// </summary>
    private async Task<(string? Error, bool Finished, bool TimedOut, bool Interrupted)> RunCellAsync(CompositeKernel kernel, InteractiveDocumentElement cell, CancellationToken cancellationToken)
    {
        string kernelName = cell.KernelName ?? CSharp;
        if (kernel.FindKernelByName(kernelName) is null)
        {
            string message = $"the {kernelName} kernel is not available in-process (only {CSharp})";
            cell.Outputs.Add(new ErrorElement(message, "KernelNotFound"));
            return (message, true, false, false);
        }

        string code = s_extensionReference.Replace(cell.Contents, "");
        if (!ReferenceEquals(code, cell.Contents) && code != cell.Contents)
            cell.Outputs.Add(new DisplayElement(new Dictionary<string, object>
            {
                // No local path: the executed notebook is shared, and says only what happened.
                ["text/plain"] = $"GoSched.Interactive {typeof(GoSchedKernelExtension).Assembly.GetName().Version?.ToString(3)} was loaded by `gosched notebook`, " +
                                 "which runs notebooks in-process; in Jupyter, this #r line loads it from the local package feed.",
            }));
        if (string.IsNullOrWhiteSpace(code))
            return (null, true, false, false);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CellTimeout);
        var send = kernel.SendAsync(new SubmitCode(code, kernelName), timeout.Token);
        // The kernel honours the cancellation only between statements; a cell blocked in one (a
        // sleep, a loop that never awaits) is given a little more time, then abandoned.
        var grace = Task.Delay(CellTimeout + TimeSpan.FromSeconds(5), CancellationToken.None);
        // In Go's form, as --cell-timeout takes it (1.5s; it said "1.5 s").
        string timedOut = $"the cell did not finish within {GoSched.Workloads.WorkloadParam.FormatDuration(CellTimeout.Ticks * 100)} (the --cell-timeout); the run stops here";
        // An interrupt gives a cell that does not respond to it a shorter grace than a timeout does.
        var interrupt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onInterrupt = cancellationToken.Register(() => interrupt.TrySetResult());
        var interruptGrace = interrupt.Task.ContinueWith(_ => Task.Delay(s_interruptWait), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        if (await Task.WhenAny(send, grace, interruptGrace) != send)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                string stuck = InterruptedMessage + "; the cell did not respond to the cancellation (code that blocks its thread: a sleep, or a goroutine that never awaits) and was left running";
                cell.Outputs.Add(new ErrorElement(stuck, "Interrupted"));
                return (stuck, false, false, true);
            }
            string message = timedOut + "; the cell does not respond to cancellation (code that blocks its thread: a sleep, or a goroutine that never awaits)";
            cell.Outputs.Add(new ErrorElement(message, "CellTimeout"));
            return (message, false, true, false);
        }
        KernelCommandResult result;
        try
        {
            result = await send;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The kernel gave up on the command; the cell's code may still be running on its thread.
            cell.Outputs.Add(new ErrorElement(timedOut, "CellTimeout"));
            return (timedOut, false, true, false);
        }
        catch (OperationCanceledException)
        {
            // Interrupted: as above, the kernel gave up on the command.
            cell.Outputs.Add(new ErrorElement(InterruptedMessage, "Interrupted"));
            return (InterruptedMessage, false, false, true);
        }

        foreach (var e in result.Events)
        {
            switch (e)
            {
                case ReturnValueProduced value:
                    var returned = new ReturnValueElement { ExecutionOrder = cell.ExecutionOrder };
                    foreach (var f in value.FormattedValues)
                        returned.Data[f.MimeType] = f.Value;
                    cell.Outputs.Add(returned);
                    break;
                case StandardOutputValueProduced stdout:
                    cell.Outputs.Add(new TextElement(Plain(stdout), "stdout"));
                    break;
                case StandardErrorValueProduced stderr:
                    cell.Outputs.Add(new TextElement(Plain(stderr), "stderr"));
                    break;
                case ErrorProduced error:
                    cell.Outputs.Add(new ErrorElement(error.Message, "Error"));
                    break;
                case DisplayEvent display:
                    cell.Outputs.Add(new DisplayElement(display.FormattedValues.ToDictionary(f => f.MimeType, f => (object)f.Value)));
                    break;
            }
        }

        // The submission's own failure if there is one, else the first of its parts'.
        var failed = result.Events.OfType<CommandFailed>().OrderBy(f => f.Command == result.Command ? 0 : 1).FirstOrDefault();
        string? failure = failed?.Message;
        if (failed is not null)
            cell.Outputs.Add(new ErrorElement(failed.Message, failed.Exception?.GetType().Name ?? "Error", failed.Exception?.StackTrace?.Split('\n') ?? []));
        if (cancellationToken.IsCancellationRequested && failure is not null)
        {
            // The cell failed as the interrupt cancelled it: that is what its output says last.
            cell.Outputs.Add(new ErrorElement(InterruptedMessage, "Interrupted"));
            return (InterruptedMessage, true, false, true);
        }
        bool pastLimit = timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested;
        if (pastLimit && failure is null)
            failure = $"cancelled after {CellTimeout.TotalSeconds:0} s";
        return (failure, true, pastLimit, false);
    }

    private static string Plain(DisplayEvent e) =>
        e.FormattedValues.FirstOrDefault(f => f.MimeType == PlainTextFormatter.MimeType)?.Value ?? e.FormattedValues.FirstOrDefault()?.Value ?? "";
}
