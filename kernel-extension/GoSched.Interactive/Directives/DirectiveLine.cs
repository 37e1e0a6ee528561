// DirectiveLine: one #!gosched line as the user wrote it, checked against the directive tree.
//
// Why the extension reads its own lines again: the host's parser binds only what it recognises and
// drops the rest without a word. Verified with Microsoft.DotNet.Interactive 1.0.0-beta.26120.1:
//   #!gosched frob               runs the root directive, "frob" is gone
//   #!gosched config --bogus 3   runs config, "--bogus 3" is gone
//   #!gosched run a b            runs run with no workload at all
//   #!gosched run x --arg a=1 --arg b=2   binds neither --arg (a parameter is bound only when it occurs once)
// A misspelt knob that silently keeps its default is the worst outcome for an experiment, so every
// line is checked strictly before anything in the cell runs (GoSchedCommand.GetValidationErrors):
// its words here, its values (knobs, workload and arguments, plot kind) by GoSchedSession.CheckLine.
// The repeated --arg values are taken from here.
using System.Text;
using Microsoft.DotNet.Interactive.Directives;

namespace GoSched.Interactive.Directives;

/// <summary>A tokenised and checked #!gosched line.</summary>
internal sealed class DirectiveLine
{
    private DirectiveLine(string text, string? subcommand, string? value, IReadOnlyList<(string Name, string? Value)> options)
    {
        Text = text;
        Subcommand = subcommand;
        Value = value;
        Options = options;
    }

    public string Text { get; }

    /// <summary>The subcommand, or null for a bare `#!gosched`.</summary>
    public string? Subcommand { get; }

    /// <summary>The subcommand's implicitly named value (run's workload, plot's kind), if given.</summary>
    public string? Value { get; }

    /// <summary>Options in the order written; flags have a null value.</summary>
    public IReadOnlyList<(string Name, string? Value)> Options { get; }

    /// <summary>Every value given for <paramref name="option"/>, in order.</summary>
    public IEnumerable<string> ValuesOf(string option) =>
        Options.Where(o => o.Name == option && o.Value is not null).Select(o => o.Value!);

    /// <summary>Whether <paramref name="text"/> (one line) is a #!gosched directive.</summary>
    public static bool IsGoSchedLine(string text)
    {
        var t = text.AsSpan().Trim();
        return t.StartsWith(GoSchedDirective.Name, StringComparison.Ordinal)
            && (t.Length == GoSchedDirective.Name.Length || char.IsWhiteSpace(t[GoSchedDirective.Name.Length]));
    }

    /// <summary>The first token after #!gosched, as the host would read it for a subcommand.</summary>
    public static string? FirstWord(string text)
    {
        var tokens = Tokenize(text, strict: false);
        return tokens.Count > 1 ? tokens[1] : null;
    }

    /// <summary>
    /// Parses <paramref name="text"/> against <paramref name="root"/>; throws
    /// <see cref="DirectiveException"/> with a message naming what is valid.
    /// </summary>
    public static DirectiveLine Parse(string text, KernelActionDirective root)
    {
        var tokens = Tokenize(text, strict: true);
        if (tokens.Count == 0 || tokens[0] != root.Name)
            throw new DirectiveException($"not a {root.Name} line: {text.Trim()}");
        if (tokens.Count == 1)
            return new DirectiveLine(text, null, null, []);

        string valid = string.Join(", ", root.Subcommands.Select(s => s.Name));
        string first = tokens[1];
        if (first.StartsWith('-'))
            throw new DirectiveException($"{root.Name}: options go after a subcommand ({root.Name} <subcommand> [options]); subcommands: {valid}");
        var sub = root.Subcommands.FirstOrDefault(s => s.Name == first)
            ?? throw new DirectiveException($"{root.Name}: unknown subcommand '{first}'; valid subcommands: {valid}");

        string where = $"{root.Name} {sub.Name}";
        var implicitParameter = sub.Parameters.FirstOrDefault(p => p.AllowImplicitName);
        string? value = null;
        var options = new List<(string, string?)>();
        for (int i = 2; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (!token.StartsWith("--", StringComparison.Ordinal))
            {
                if (implicitParameter is null)
                    throw new DirectiveException($"{where}: unexpected '{token}' ({where} takes {DescribeOptions(sub)})");
                if (value is not null)
                    throw new DirectiveException($"{where}: unexpected '{token}' after '{value}' ({where} takes one {implicitParameter.Name.TrimStart('-')})");
                value = token;
                continue;
            }

            var parameter = sub.Parameters.FirstOrDefault(p => p.Name == token)
                ?? throw new DirectiveException($"{where}: unknown option '{token}'; valid options: {DescribeOptions(sub)}{KnobHint(root, sub, token)}");
            string? optionValue = null;
            if (!parameter.Flag)
            {
                if (i + 1 >= tokens.Count || tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new DirectiveException($"{where}: option '{token}' needs a value");
                optionValue = tokens[++i];
            }
            if (options.Count(o => o.Item1 == token) >= parameter.MaxOccurrences)
                throw new DirectiveException($"{where}: option '{token}' is given more than once");
            if (parameter == implicitParameter)
            {
                if (value is not null)
                    throw new DirectiveException($"{where}: '{optionValue}' and '{value}' both given as the {token.TrimStart('-')}");
                value = optionValue;
                continue;
            }
            options.Add((token, optionValue));
        }
        return new DirectiveLine(text, sub.Name, value, options);
    }

    /// <summary>
    /// For a config option written on a run line (`run fanout --gomaxprocs 2`, as `gosched run`
    /// takes it): where it goes. The list of run's options alone did not say.
    /// </summary>
    private static string KnobHint(KernelActionDirective root, KernelActionDirective sub, string token)
    {
        if (sub.Name != GoSchedDirective.Run
            || root.Subcommands.FirstOrDefault(s => s.Name == GoSchedDirective.Config)?.Parameters.FirstOrDefault(p => p.Name == token) is not { } knob)
            return "";
        string value = knob.Flag ? "" : token == "--godebug" ? " \"name=value,...\"" : " N";
        return $". GOMAXPROCS and the other knobs are set before the run, with `{root.Name} {GoSchedDirective.Config} {token}{value}`";
    }

    private static string DescribeOptions(KernelActionDirective sub)
    {
        var names = sub.Parameters.Where(p => !p.AllowImplicitName).Select(p => p.Name).ToList();
        return names.Count == 0 ? "no options" : string.Join(", ", names);
    }

    /// <summary>
    /// Splits on white space; double quotes group words and are removed (as the host does). An
    /// unterminated quote is an error when <paramref name="strict"/>, and otherwise runs to the end.
    /// </summary>
    private static List<string> Tokenize(string text, bool strict)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        bool quoted = false, any = false;
        foreach (char c in text.Trim())
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (any) tokens.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
                any = true;
            }
        }
        if (quoted && strict)
            throw new DirectiveException($"unterminated quote in: {text.Trim()}");
        if (any) tokens.Add(current.ToString());
        return tokens;
    }
}

/// <summary>A #!gosched line or value the extension rejects; the message is shown as is.</summary>
internal sealed class DirectiveException(string message) : Exception(message);
