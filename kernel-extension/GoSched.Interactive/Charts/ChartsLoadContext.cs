// ChartsLoadContext: the renderer in a load context of its own.
//
// Plotly.NET 6 needs FSharp.Core 10.1; the dotnet-interactive host (1.0.712001) has already loaded
// FSharp.Core 10.0 into its default load context, and the default context never loads a second
// version of an assembly, so inside the real kernel a Plotly.NET chart throws FileNotFoundException.
// In-process tests cannot see this: their default context has no FSharp.Core at all (the notebook
// tests in real Jupyter, tests/GoSched.Notebook.Tests/RealJupyterTests.cs, do).
//
// So the renderer and everything it needs sit in charts/ beside this assembly and are loaded here,
// where FSharp.Core 10.1 is the only FSharp.Core. Three kinds of names are resolved:
//   1. GoSched.Charts.Contract: the default context's own copy, always. The renderer implements
//      IChartRenderer from that very assembly, which is what makes the cast in ChartHost work; a
//      second copy loaded here would be a different type with the same name.
//   2. Anything with a dll in charts/: loaded from there (Plotly.NET, FSharp.Core, Newtonsoft.Json...).
//   3. Everything else, .NET's own assemblies above all: null, which defers to the default context.
using System.Reflection;
using System.Runtime.Loader;
using GoSched.Charts;

namespace GoSched.Interactive.Charts;

internal sealed class ChartsLoadContext : AssemblyLoadContext
{
    private static readonly Assembly s_contract = typeof(IChartRenderer).Assembly;
    private readonly string _directory;

    public ChartsLoadContext(string directory) : base("GoSched.Charts", isCollectible: false)
    {
        _directory = directory;
    }

    public string Directory => _directory;

    protected override Assembly? Load(AssemblyName name)
    {
        if (AssemblyName.ReferenceMatchesDefinition(name, s_contract.GetName()))
            return s_contract;
        string candidate = Path.Combine(_directory, name.Name + ".dll");
        return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
    }
}

/// <summary>Loads the renderer once per process and hands it out through the contract.</summary>
internal static class ChartHost
{
    public const string ChartsFolder = "charts";
    private const string RendererAssembly = "GoSched.Charts";
    private const string RendererType = "GoSched.Charts.PlotlyChartRenderer";

    private static readonly Lazy<IChartRenderer> s_renderer = new(() => Load(DefaultDirectory()));

    /// <summary>The renderer, loaded on first use from charts/ beside GoSched.Interactive.dll.</summary>
    public static IChartRenderer Renderer => s_renderer.Value;

    public static string DefaultDirectory() =>
        Path.Combine(Path.GetDirectoryName(typeof(ChartHost).Assembly.Location)!, ChartsFolder);

    /// <summary>Loads the renderer from <paramref name="directory"/> into a new <see cref="ChartsLoadContext"/>.</summary>
    public static IChartRenderer Load(string directory)
    {
        string path = Path.Combine(directory, RendererAssembly + ".dll");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"GoSched: the chart renderer is missing: {path}. The package (or build output) must carry the {ChartsFolder}/ folder beside GoSched.Interactive.dll.", path);
        var context = new ChartsLoadContext(directory);
        var assembly = context.LoadFromAssemblyPath(path);
        var type = assembly.GetType(RendererType, throwOnError: true)!;
        return (IChartRenderer)Activator.CreateInstance(type)!;
    }
}
