// PlotlyJs: the offline copy of plotly.js that Plotly.NET embeds, as one guarded script tag.
//
// Plotly.NET's own HTML points at a CDN, which leaves every chart blank offline. The library embeds
// the plotly.js it was built against as a resource ("Plotly.NET.plotly-<version>.min.js"), so the
// page can carry it instead: once, before the first chart.
//
// The guard: plotly.min.js is a UMD bundle. Where require.js is on the page (classic
// Jupyter, nbconvert's HTML) it sees a global `define` with `.amd`, registers itself as an anonymous
// AMD module and never sets window.Plotly, so the charts, which call Plotly.newPlot, stay blank. The
// bundle therefore runs inside a function whose parameters `define`, `exports` and `module` are
// undefined, which hides the globals of those names from it while it runs without touching them
// for anyone else; it then falls through to `self.Plotly = ...`. And it runs only when
// window.Plotly is not there yet, so a page that carries the tag twice (an exported notebook whose
// first chart cell was re-run) loads plotly.js once.
using System.Reflection;
using System.Text;

namespace GoSched.Charts;

internal static class PlotlyJs
{
    private const string ResourcePrefix = "Plotly.NET.plotly-";
    private const string ResourceSuffix = ".min.js";

    private static readonly Lazy<(string Version, string Tag)> s_script = new(Load);

    /// <summary>The embedded plotly.js version, e.g. "2.28.0".</summary>
    public static string Version => s_script.Value.Version;

    /// <summary>The guarded script tag (about 3.6 MB).</summary>
    public static string ScriptTag => s_script.Value.Tag;

    private static (string, string) Load()
    {
        Assembly plotly = typeof(Plotly.NET.GenericChart).Assembly;
        string name = plotly.GetManifestResourceNames()
            .SingleOrDefault(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(ResourceSuffix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"PlotlyJs: {plotly.GetName().Name} embeds no {ResourcePrefix}*{ResourceSuffix} resource");
        string version = name[ResourcePrefix.Length..^ResourceSuffix.Length];

        using var stream = plotly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        // "</script" inside the bundle would end the tag early; "<\/" means the same in JS strings,
        // regular expressions and comments, the only places it can occur.
        string js = reader.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);

        var tag = new StringBuilder(js.Length + 512);
        tag.Append("<script type=\"text/javascript\" data-gosched-plotly=\"").Append(version).Append("\">\n");
        tag.Append("if (typeof window.Plotly === 'undefined') {\n");
        tag.Append("(function (define, exports, module) {\n");
        tag.Append(js);
        tag.Append("\n}).call(window);\n");
        tag.Append("}\n</script>");
        return (version, tag.ToString());
    }
}
