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
// A cell that runs past CellTimeout fails too, even one that blocks its thread and never sees the
// cancellation (Thread.Sleep, a goroutine that never awaits): the runner stops waiting for it,
// writes what it has and leaves that kernel behind. Raw cells are not code and are not run.
using System.Text.RegularExpressions;
using GoSched.Interactive;
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
    public override string ToString() => $"cell {Cell}: {Message}";
}

/// <summary>What a notebook run produced.</summary>
public sealed record NotebookResult(string Notebook, string ExecutedNotebook, string Html, int CellsRun, IReadOnlyList<CellFailure> Failures)
{
    public bool Succeeded => Failures.Count == 0;

    /// <summary>0 when every cell ran without error, 1 otherwise: the CLI's exit code.</summary>
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

    /// <summary>Reports progress ("cell 3/12"), e.g. to the console; null for none.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>
    /// Runs <paramref name="notebookPath"/> and writes &lt;name&gt;.ipynb and &lt;name&gt;.html into
    /// <paramref name="outputDirectory"/> (created if missing). Relative paths in the notebook start
    /// at the notebook's folder, as in Jupyter: the process's current directory is that folder while
    /// the cells run.
    /// </summary>
    public async Task<NotebookResult> RunAsync(string notebookPath, string outputDirectory, CancellationToken cancellationToken = default)
    {
        notebookPath = Path.GetFullPath(notebookPath);
        var kernelInfos = new KernelInfoCollection
        {
            new KernelInfo(CSharp, "C#", ["c#", "C#", "cs"]),
            new KernelInfo(Markdown, "Markdown", ["md"]),
        };
        kernelInfos.DefaultKernelName = CSharp;
        InteractiveDocument document;
        await using (var stream = File.OpenRead(notebookPath))
            document = Notebook.Read(stream, kernelInfos);
        var raw = RawCells(notebookPath, document.Elements.Count);
        Directory.CreateDirectory(outputDirectory); // a folder that cannot be made fails before any cell runs

        var failures = new List<CellFailure>();
        int run = 0;
        bool abandoned = false;
        string previousDirectory = Environment.CurrentDirectory;
        Environment.CurrentDirectory = Path.GetDirectoryName(notebookPath)!;
        CompositeKernel? kernel = null;
        try
        {
            kernel = await CreateKernelAsync();
            for (int i = 0; i < document.Elements.Count && failures.Count == 0; i++)
            {
                var cell = document.Elements[i];
                if (cell.KernelName == Markdown || raw.Contains(i))
                    continue;
                cell.Outputs.Clear();
                cell.ExecutionOrder = ++run;
                Log?.WriteLine($"cell {i + 1}/{document.Elements.Count}");
                var (error, finished) = await RunCellAsync(kernel, cell, cancellationToken);
                abandoned = !finished;
                if (error is not null)
                    failures.Add(new CellFailure(i + 1, cell.Contents, error));
            }
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
            // A kernel whose cell is still running is left as it is: disposing it would wait for that cell.
            if (!abandoned) kernel?.Dispose();
            Formatter.ResetToDefault(); // the extension's and the notebook's formatters end with its kernel
        }

        string name = Path.GetFileNameWithoutExtension(notebookPath);
        string ipynb = Path.Combine(outputDirectory, name + ".ipynb");
        await using (var output = File.Create(ipynb))
            Notebook.Write(document, output, kernelInfos);
        string html = Path.Combine(outputDirectory, name + ".html");
        await File.WriteAllTextAsync(html, NotebookHtml.Render(document, name), cancellationToken);
        return new NotebookResult(notebookPath, ipynb, html, run, failures);
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
    /// The indexes of the raw cells (nbformat's cell_type "raw"), which the document reader turns
    /// into code cells of the default kernel. Read from the file itself; none if its cells do not
    /// line up with the document's elements.
    /// </summary>
    private static HashSet<int> RawCells(string notebookPath, int elements)
    {
        var raw = new HashSet<int>();
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(notebookPath));
            if (!json.RootElement.TryGetProperty("cells", out var cells) || cells.ValueKind != System.Text.Json.JsonValueKind.Array || cells.GetArrayLength() != elements)
                return raw;
            int i = 0;
            foreach (var c in cells.EnumerateArray())
            {
                if (c.ValueKind == System.Text.Json.JsonValueKind.Object && c.TryGetProperty("cell_type", out var t) && t.ValueKind == System.Text.Json.JsonValueKind.String && t.GetString() == "raw")
                    raw.Add(i);
                i++;
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Notebook.Read accepted it; without a cell list there is nothing to skip.
        }
        return raw;
    }

    /// <summary>Submits one cell and records its outputs; returns the error message if it failed, and whether the cell finished.</summary>
    private async Task<(string? Error, bool Finished)> RunCellAsync(CompositeKernel kernel, InteractiveDocumentElement cell, CancellationToken cancellationToken)
    {
        string kernelName = cell.KernelName ?? CSharp;
        if (kernel.FindKernelByName(kernelName) is null)
        {
            string message = $"the {kernelName} kernel is not available in-process (only {CSharp})";
            cell.Outputs.Add(new ErrorElement(message, "KernelNotFound"));
            return (message, true);
        }

        string code = s_extensionReference.Replace(cell.Contents, "");
        if (!ReferenceEquals(code, cell.Contents) && code != cell.Contents)
            cell.Outputs.Add(new DisplayElement(new Dictionary<string, object>
            {
                ["text/plain"] = $"GoSched.Interactive is loaded in-process from {Path.GetDirectoryName(typeof(GoSchedKernelExtension).Assembly.Location)}; " +
                                 "the #r line is what the real kernel runs.",
            }));
        if (string.IsNullOrWhiteSpace(code))
            return (null, true);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CellTimeout);
        var send = kernel.SendAsync(new SubmitCode(code, kernelName), timeout.Token);
        // The kernel honours the cancellation only between statements; a cell blocked in one (a
        // sleep, a loop that never awaits) is given a little more time, then abandoned.
        var grace = Task.Delay(CellTimeout + TimeSpan.FromSeconds(5), CancellationToken.None);
        string timedOut = $"the cell did not finish within {CellTimeout.TotalSeconds:0.###} s (the --cell-timeout); the run stops here";
        if (await Task.WhenAny(send, grace) != send)
        {
            string message = timedOut + "; the cell does not respond to cancellation (code that blocks its thread: a sleep, or a goroutine that never awaits)";
            cell.Outputs.Add(new ErrorElement(message, "CellTimeout"));
            return (message, false);
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
            return (timedOut, false);
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
        if (timeout.IsCancellationRequested && failure is null)
            failure = $"cancelled after {CellTimeout.TotalSeconds:0} s";
        return (failure, true);
    }

    private static string Plain(DisplayEvent e) =>
        e.FormattedValues.FirstOrDefault(f => f.MimeType == PlainTextFormatter.MimeType)?.Value ?? e.FormattedValues.FirstOrDefault()?.Value ?? "";
}
