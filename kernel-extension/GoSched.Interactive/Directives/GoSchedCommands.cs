// The #!gosched command classes: plain data bound by the host from --kebab-case options
// ("--steal-tries 0" arrives as StealTries = "0"). Knob values stay text here on purpose: GoConfig
// parses and checks them and says what is wrong in the knob's own terms ("gomaxprocs=0: must be
// between 1 and 256"), where an int property would fail in the host's JSON binder with a message
// about System.Nullable`1[System.Int32].
using System.Runtime.CompilerServices;
using System.Text.Json.Serialization;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;

namespace GoSched.Interactive.Directives;

/// <summary>Base of the #!gosched commands: checks the line as written before anything in the cell runs.</summary>
public abstract class GoSchedCommand : KernelDirectiveCommand
{
    // The subcommand lines of one submission, and how far the host's parser has got through them.
    private static readonly ConditionalWeakTable<KernelCommand, SubmissionLines> s_submissions = new();

    /// <summary>The subcommand this class binds; null for the bare directive.</summary>
    [JsonIgnore]
    internal abstract string? SubcommandName { get; }

    /// <summary>The line as the user wrote it, checked; null when the host gave no source (then only bound values are used).</summary>
    [JsonIgnore]
    internal DirectiveLine? Line { get; private set; }

    /// <summary>
    /// Called by the host's parser right after it binds this command, before any command of the
    /// submission runs; an error fails the whole submission with this message. The host passes no
    /// source text, so the line is found in the submission being parsed (the invocation context's
    /// root command): the n-th #!gosched line of this subcommand is the n-th command of this class.
    /// </summary>
    public override IEnumerable<string> GetValidationErrors(CompositeKernel kernel)
    {
        if (FindLine() is not { } text)
            return [];
        try
        {
            Line = DirectiveLine.Parse(text, GoSchedDirective.Grammar);
            ApplyLine(Line);
            // The values too (knobs, workload, arguments, plot kind), by the session's own rules.
            Workbench.GoSchedSession.For(kernel)?.CheckLine(this);
            return [];
        }
        catch (Exception e) when (e is DirectiveException or ConfigException)
        {
            return [e.Message];
        }
        catch (Exception e)
        {
            // Whatever happens here fails the submission, never the kernel.
            return [$"{GoSchedDirective.Name}: internal error while checking the line: {e.GetType().Name}: {e.Message}"];
        }
    }

    /// <summary>
    /// Sets the bound properties from the checked line, so the line as written is what runs. The
    /// host's binding is not enough: after a line that ends with a flag ("#!gosched config --reset"),
    /// it drops the next line's implicit value ("#!gosched plot runq" binds no kind). Seen with
    /// Microsoft.DotNet.Interactive 1.0.0-beta.26120.1.
    /// </summary>
    private protected virtual void ApplyLine(DirectiveLine line) { }

    /// <summary>The last value of an option on the line, or null.</summary>
    private protected static string? Last(DirectiveLine line, string option) => line.ValuesOf(option).LastOrDefault();

    /// <summary>Whether a flag is on the line.</summary>
    private protected static bool Has(DirectiveLine line, string flag) => line.Options.Any(o => o.Name == flag);

    private string? FindLine()
    {
        var root = KernelInvocationContext.Current?.Command;
        string? code = root switch
        {
            SubmitCode s => s.Code,
            RequestDiagnostics d => d.Code,
            _ => null,
        };
        if (root is null || code is null)
            return null;
        return s_submissions.GetValue(root, _ => new SubmissionLines(code)).Next(SubcommandName);
    }

    private sealed class SubmissionLines(string code)
    {
        private readonly string[] _lines = code.Split('\n').Where(DirectiveLine.IsGoSchedLine).ToArray();
        private readonly HashSet<string> _subcommands = GoSchedDirective.Grammar.Subcommands.Select(s => s.Name).ToHashSet();
        private int _next;

        public string? Next(string? subcommand)
        {
            lock (this)
            {
                for (int i = _next; i < _lines.Length; i++)
                {
                    string? word = DirectiveLine.FirstWord(_lines[i]);
                    // The host binds the root class for a bare line and for one whose first word is no subcommand.
                    bool match = subcommand is null ? word is null || !_subcommands.Contains(word) : word == subcommand;
                    if (match)
                    {
                        _next = i + 1;
                        return _lines[i];
                    }
                }
                return null;
            }
        }
    }
}

/// <summary>`#!gosched` alone (shows the help), or with a word that is no subcommand (rejected).</summary>
public sealed class GoSchedRoot : GoSchedCommand
{
    internal override string? SubcommandName => null;
}

/// <summary>`#!gosched help`.</summary>
public sealed class GoSchedHelp : GoSchedCommand
{
    internal override string? SubcommandName => GoSchedDirective.Help;
}

/// <summary>`#!gosched config [--knob value]... [--godebug "k=v,..."] [--reset]`.</summary>
public sealed class GoSchedConfig : GoSchedCommand
{
    internal override string? SubcommandName => GoSchedDirective.Config;

    public string? Gomaxprocs { get; set; }
    public string? StealTries { get; set; }
    public string? RunqSize { get; set; }
    public string? GlobalRunqCheck { get; set; }
    public string? Runnext { get; set; }
    public string? Randomize { get; set; }
    public string? Seed { get; set; }
    public string? SamplePeriodUs { get; set; }
    public string? TimerClear { get; set; }
    public string? TimerClearRatio { get; set; }
    public string? Godebug { get; set; }
    public bool Reset { get; set; }

    private protected override void ApplyLine(DirectiveLine line)
    {
        string? Knob(int i) => Last(line, GoSchedDirective.Knobs[i].Option);
        (Gomaxprocs, StealTries, RunqSize, GlobalRunqCheck, Runnext) = (Knob(0), Knob(1), Knob(2), Knob(3), Knob(4));
        (Randomize, Seed, SamplePeriodUs, TimerClear, TimerClearRatio) = (Knob(5), Knob(6), Knob(7), Knob(8), Knob(9));
        Godebug = Last(line, "--godebug");
        Reset = Has(line, "--reset");
    }

    /// <summary>The knob options given, as (GODEBUG knob, value), in the order of <see cref="GoSchedDirective.Knobs"/>.</summary>
    internal IEnumerable<(string Knob, string Value)> KnobValues()
    {
        string?[] values = [Gomaxprocs, StealTries, RunqSize, GlobalRunqCheck, Runnext, Randomize, Seed, SamplePeriodUs, TimerClear, TimerClearRatio];
        for (int i = 0; i < values.Length; i++)
            if (values[i] is { } v)
                yield return (GoSchedDirective.Knobs[i].Knob, v);
    }
}

/// <summary>`#!gosched run &lt;workload&gt; [--arg name=value]... [--name variable] [--background]`.</summary>
public sealed class GoSchedRun : GoSchedCommand
{
    internal override string? SubcommandName => GoSchedDirective.Run;

    public string? Workload { get; set; }

    /// <summary>Bound by the host only when --arg occurs once; all occurrences come from <see cref="GoSchedCommand.Line"/>.</summary>
    public string? Arg { get; set; }

    public string? Name { get; set; }

    /// <summary>Start the run and return at once (the cell does not wait for it).</summary>
    public bool Background { get; set; }

    private protected override void ApplyLine(DirectiveLine line)
    {
        Workload = line.Value ?? Last(line, "--workload");
        Arg = Last(line, "--arg");
        Name = Last(line, "--name");
        Background = Has(line, "--background");
    }

    /// <summary>Every --arg value as written.</summary>
    internal IEnumerable<string> ArgValues() =>
        Line?.ValuesOf("--arg") ?? (Arg is null ? [] : [Arg]);
}

/// <summary>`#!gosched status [--wait]`.</summary>
public sealed class GoSchedStatus : GoSchedCommand
{
    internal override string? SubcommandName => GoSchedDirective.Status;

    /// <summary>Wait for the background run to end first.</summary>
    public bool Wait { get; set; }

    private protected override void ApplyLine(DirectiveLine line) => Wait = Has(line, "--wait");
}

/// <summary>`#!gosched plot runq|counters|timers [--runs a,b] [--schedtrace file,...] [--overlay]`.</summary>
public sealed class GoSchedPlot : GoSchedCommand
{
    internal override string? SubcommandName => GoSchedDirective.Plot;

    public string? Kind { get; set; }
    public string? Runs { get; set; }
    public string? Schedtrace { get; set; }
    public bool Overlay { get; set; }

    private protected override void ApplyLine(DirectiveLine line)
    {
        Kind = line.Value ?? Last(line, "--kind");
        Runs = Last(line, "--runs");
        Schedtrace = Last(line, "--schedtrace");
        Overlay = Has(line, "--overlay");
    }
}

/// <summary>
/// Not a directive: the command an interrupted #!gosched handler queues to set its run's C#
/// variables in the kernel's own order of commands (GoSchedSession.QueuePublish).
/// </summary>
public sealed class GoSchedPublish : KernelCommand
{
}
