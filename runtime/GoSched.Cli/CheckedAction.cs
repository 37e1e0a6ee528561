// Command actions that report bad command lines themselves, in one line.
//
// System.CommandLine's own report of a parse error is its message (for a number it cannot read,
// "Cannot parse argument 'abc' for option '--gomaxprocs' as expected type 'System.Int32'") followed
// by the whole help. A command whose action clears parse errors (ClearsParseErrors) is invoked
// anyway, with the unmatched tokens and the remaining errors in its ParseResult: these actions
// report the first of them as "gosched run: <what to fix>" and return 1, and run the command only
// when there is none. Numbers are read by IntOption's parser, which says which option and value.
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;

namespace GoSched.Cli;

/// <summary>A synchronous command body behind the one-line parse error check.</summary>
/// <param name="unknownArgument">what to say of an unexpected argument (the root: an unknown command), if not the default.</param>
internal sealed class CheckedAction(TextWriter stderr, Func<ParseResult, int> body, Func<string, string>? unknownArgument = null) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult) =>
        CommandLineErrors.Report(parseResult, stderr, unknownArgument) ? 1 : body(parseResult);
}

/// <summary>An asynchronous command body behind the one-line parse error check.</summary>
internal sealed class CheckedAsyncAction(TextWriter stderr, Func<ParseResult, CancellationToken, Task<int>> body) : AsynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override Task<int> InvokeAsync(ParseResult parseResult, CancellationToken cancellationToken = default) =>
        CommandLineErrors.Report(parseResult, stderr) ? Task.FromResult(1) : body(parseResult, cancellationToken);
}

internal static class CommandLineErrors
{
    /// <summary>Writes the command line's first problem as one line; false when there is none.</summary>
    public static bool Report(ParseResult parse, TextWriter stderr, Func<string, string>? unknownArgument = null)
    {
        // The root command is named after the executable (testhost under a test): "gosched" whatever the host.
        var path = parse.CommandResult.RecurseWhileNotNull().Where(c => c.Parent is not null).Reverse().Select(c => c.Command.Name);
        string command = string.Join(" ", path.Prepend("gosched"));
        string help = $"(see {command} --help)";
        if (parse.UnmatchedTokens.Count > 0)
        {
            string token = parse.UnmatchedTokens[0];
            stderr.WriteLine(token.StartsWith('-') && token.Length > 1
                ? $"{command}: unknown option '{token}' {help}"
                : $"{command}: {unknownArgument?.Invoke(token) ?? $"unexpected argument '{token}' {help}"}");
            return true;
        }
        if (parse.Errors.Count == 0)
            return false;
        var error = parse.Errors[0];
        string message = error.SymbolResult switch
        {
            // IntOptions' parser already says which option and value, and what is wrong.
            ArgumentResult { Parent: OptionResult } when error.Message.StartsWith("--", StringComparison.Ordinal) => error.Message,
            ArgumentResult { Tokens.Count: 0, Parent: CommandResult } a => $"missing the {a.Argument.Name} {help}",
            OptionResult { Tokens.Count: 0 } o => $"{o.Option.Name} needs a value {help}",
            _ => $"{error.Message} {help}",
        };
        stderr.WriteLine($"{command}: {message}");
        return true;
    }

    private static IEnumerable<CommandResult> RecurseWhileNotNull(this CommandResult start)
    {
        for (CommandResult? c = start; c is not null; c = c.Parent as CommandResult) yield return c;
    }
}

/// <summary>Integer options whose bad values are reported as "--name value: not an integer".</summary>
internal static class IntOptions
{
    /// <summary>An int option with a default, which the help shows as "[default: N]" (leave it out of the description).</summary>
    public static Option<int> Create(string name, string description, int defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => Parse(r, name) ?? defaultValue,
    };

    /// <summary>An int option that is null when not given.</summary>
    public static Option<int?> Create(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r => Parse(r, name),
    };

    private static int? Parse(ArgumentResult r, string name)
    {
        if (r.Tokens.Count == 0) return null; // arity errors are the parser's
        string text = r.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)) return v;
        r.AddError(System.Numerics.BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? $"{name} {text}: out of range"
            : $"{name} {text}: not an integer");
        return null;
    }
}
