// NotebookHtml: an executed notebook as one self-contained HTML page.
//
// Self-contained means it renders offline: nothing is fetched. Markdown (cells and text/markdown
// outputs) is rendered by Markdig; text/html outputs go in as they are, which is also how plotly.js
// arrives: the extension put its guarded script tag in the first chart's output of the session, so
// the page carries it once, before the first chart. Other outputs are escaped text.
using System.Net;
using System.Text;
using Markdig;
using Microsoft.DotNet.Interactive.Documents;

namespace GoSched.Notebooks;

internal static class NotebookHtml
{
    private static readonly MarkdownPipeline s_markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    private const string Style = """
        body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
        .cell { margin: 1.2em 0; }
        .input { background: #f6f8fa; border-left: 3px solid #8aa4c8; padding: .5em .8em; overflow-x: auto; }
        .input .count { color: #8aa4c8; font-size: .8em; }
        .output { margin: .4em 0 .4em 1em; overflow-x: auto; }
        .stderr, .error { color: #b00020; }
        pre { margin: 0; white-space: pre-wrap; }
        table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 2px 6px; }
        """;

    public static string Render(InteractiveDocument document, string title)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>").Append(Escape(title)).Append("</title>\n<style>")
            .Append(Style).Append("</style></head>\n<body>\n");
        foreach (var cell in document.Elements)
        {
            html.Append("<div class=\"cell\">\n");
            if (cell.KernelName == "markdown")
            {
                html.Append(Markdown.ToHtml(cell.Contents, s_markdown));
            }
            else
            {
                html.Append("<div class=\"input\"><span class=\"count\">[").Append(cell.ExecutionOrder > 0 ? cell.ExecutionOrder.ToString() : " ")
                    .Append("]</span><pre>").Append(Escape(cell.Contents)).Append("</pre></div>\n");
                foreach (var output in cell.Outputs)
                    AppendOutput(html, output);
            }
            html.Append("</div>\n");
        }
        return html.Append("</body></html>\n").ToString();
    }

    private static void AppendOutput(StringBuilder html, InteractiveDocumentOutputElement output)
    {
        switch (output)
        {
            case DisplayElement display:
                html.Append("<div class=\"output\">").Append(BestOf(display.Data)).Append("</div>\n");
                break;
            case ReturnValueElement value:
                html.Append("<div class=\"output\">").Append(BestOf(value.Data)).Append("</div>\n");
                break;
            case TextElement text:
                html.Append("<div class=\"output ").Append(text.Name == "stderr" ? "stderr" : "stdout").Append("\"><pre>")
                    .Append(Escape(text.Text)).Append("</pre></div>\n");
                break;
            case ErrorElement error:
                html.Append("<div class=\"output error\"><pre>").Append(Escape($"{error.ErrorName}: {error.ErrorValue}"));
                foreach (var line in error.StackTrace)
                    html.Append('\n').Append(Escape(line));
                html.Append("</pre></div>\n");
                break;
        }
    }

    /// <summary>The richest representation, as a front end would choose it.</summary>
    private static string BestOf(IDictionary<string, object> data)
    {
        if (data.TryGetValue("text/html", out var h))
            return Text(h);
        if (data.TryGetValue("image/svg+xml", out var svg))
            return Text(svg);
        if (data.TryGetValue("image/png", out var png))
            return $"<img src=\"data:image/png;base64,{Text(png)}\">";
        if (data.TryGetValue("text/markdown", out var md))
            return Markdown.ToHtml(Text(md), s_markdown);
        if (data.TryGetValue("text/plain", out var plain))
            return $"<pre>{Escape(Text(plain))}</pre>";
        return data.Count == 0 ? "" : $"<pre>{Escape(Text(data.First().Value))}</pre>";
    }

    /// <summary>Outputs read back from .ipynb may hold a value as a list of lines.</summary>
    private static string Text(object value) => value switch
    {
        string s => s,
        IEnumerable<object> lines => string.Concat(lines.Select(l => l?.ToString())),
        _ => value?.ToString() ?? "",
    };

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
