using GoSched.Interactive.Charts;
using GoSched.Interactive.Workbench;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace GoSched.Interactive.Tests;

/// <summary>
/// A kernel as dotnet/interactive's own extension tests build one, CompositeKernel { CSharpKernel },
/// with the extension loaded on a fake runtime and the real renderer (through its load context).
/// Formatters are reset when the test ends.
/// </summary>
public abstract class KernelTestBase : IAsyncLifetime, IDisposable
{
    internal const string Html = "text/html";
    internal const string Markdown = "text/markdown";

    internal CompositeKernel Kernel { get; } = new() { new CSharpKernel() };

    internal FakeBackend Backend { get; } = new();

    public async Task InitializeAsync()
    {
        Kernel.DefaultKernelName = "csharp";
        await GoSchedKernelExtension.LoadAsync(Kernel, UseBackend(), () => ChartHost.Renderer);
    }

    /// <summary>The backend the extension is loaded on: the fake, unless a test class needs the real runtime.</summary>
    private protected virtual IGoSchedBackend UseBackend() => Backend;

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        Kernel.Dispose();
        Formatter.ResetToDefault();
    }

    internal Task<KernelCommandResult> SubmitAsync(string code) => Kernel.SendAsync(new SubmitCode(code));

    internal async Task<KernelCommandResult> SucceedsAsync(string code)
    {
        var result = await SubmitAsync(code);
        var failed = result.Events.OfType<CommandFailed>().FirstOrDefault();
        Assert.True(failed is null, $"'{code}' failed: {failed?.Message}");
        return result;
    }

    /// <summary>Submits code that must fail, and returns the failure's message.</summary>
    internal async Task<string> FailsAsync(string code)
    {
        var result = await SubmitAsync(code);
        var failed = result.Events.OfType<CommandFailed>().FirstOrDefault();
        Assert.True(failed is not null, $"'{code}' succeeded");
        return failed!.Message;
    }

    /// <summary>Everything displayed with <paramref name="mimeType"/>, in order.</summary>
    internal static string[] Displayed(KernelCommandResult result, string mimeType) =>
        result.Events.OfType<DisplayEvent>()
            .SelectMany(e => e.FormattedValues)
            .Where(v => v.MimeType == mimeType)
            .Select(v => v.Value)
            .ToArray();

    /// <summary>The Plotly charts displayed, in order.</summary>
    internal static string[] Charts(KernelCommandResult result) =>
        Displayed(result, Html).Where(h => h.Contains("Plotly.newPlot(", StringComparison.Ordinal)).ToArray();

    /// <summary>Legend entries of a chart: one per run or per group of series.</summary>
    internal static int LegendEntries(string chart) => System.Text.RegularExpressions.Regex.Matches(chart, "\"showlegend\":true").Count;

    internal async Task<T> ValueAsync<T>(string variable)
    {
        var csharp = Kernel.ChildKernels.OfType<CSharpKernel>().Single();
        Assert.True(csharp.TryGetValue<T>(variable, out var value), $"no C# variable {variable}");
        return await Task.FromResult(value);
    }
}

/// <summary>
/// Tests that must run with no other test at once: those that count the process's gosched threads
/// (no other test may run a runtime meanwhile) and those that rely on the formatters the extension
/// registers (every other kernel test resets the process-wide formatters when it ends).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "runs alone";
}

