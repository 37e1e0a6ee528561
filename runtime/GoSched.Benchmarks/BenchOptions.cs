namespace GoSched.Benchmarks;

/// <summary>How <see cref="BenchRunner.Run"/> measures a workload.</summary>
public sealed record BenchOptions
{
    /// <summary>Ps of the gosched runtime, and GOMAXPROCS of the Go reference. Default 2 (the issue's targets).</summary>
    public int Gomaxprocs { get; init; } = 2;

    /// <summary>Timed repetitions of each system after the untimed warm-ups (the Go programs' bench.Reps is 7).</summary>
    public int Repetitions { get; init; } = 7;

    /// <summary>
    /// Small sizes and one repetition (after the warm-up), and no Go reference: every workload in a
    /// few seconds, to check that the benchmarks run, not to measure.
    /// </summary>
    public bool Quick { get; init; }

    /// <summary>Run the Go 1.19 reference (go/run.sh) when `go` is on PATH. Never in Quick mode.</summary>
    public bool RunGo { get; init; } = true;

    /// <summary>The folder holding run.sh; default: found by walking up from the binaries and the current directory.</summary>
    public string? GoBenchDir { get; init; }

    /// <summary>
    /// Further knobs for the gosched runtime in GODEBUG form ("stealtries=0"). Not gomaxprocs (that is
    /// <see cref="Gomaxprocs"/>, which sets Go's GOMAXPROCS too), nor the sampler or schedtrace, which
    /// are off while measuring: <see cref="Validate"/> refuses them rather than ignore them.
    /// </summary>
    public string? Godebug { get; init; }

    /// <summary>Where progress lines go (one a repetition); null: nowhere.</summary>
    public TextWriter? Progress { get; init; }

    internal int Reps => Quick ? 1 : Math.Max(1, Repetitions);

    /// <summary>
    /// Untimed repetitions first. Go needs one; .NET's tiered JIT needs longer: a method is
    /// recompiled (instrumented, then optimised) only after 30 calls and a quiet 100 ms, so the
    /// code of a short first repetition is often still unoptimised in the second.
    /// </summary>
    internal int WarmUps => Quick ? 1 : 2;

    internal BenchOptions Validate()
    {
        if (Gomaxprocs < 1 || Gomaxprocs > 256) throw new ArgumentOutOfRangeException(nameof(Gomaxprocs), Gomaxprocs, "must be between 1 and 256");
        if (Repetitions < 1) throw new ArgumentOutOfRangeException(nameof(Repetitions), Repetitions, "must be at least 1");
        if (!string.IsNullOrWhiteSpace(Godebug))
        {
            RuntimeConfig(); // the knobs' own errors first
            foreach (var knob in Godebug.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string name = knob[..knob.IndexOf('=')].Trim().ToLowerInvariant();
                string? refused = name switch
                {
                    "gomaxprocs" => "use --gomaxprocs, not gomaxprocs= in --godebug (it sets GOMAXPROCS for gosched and Go alike)",
                    "schedtrace" or "scheddetail" or "sampleperiodus" => $"bench turns {(name == "sampleperiodus" ? "the sampler" : "schedtrace")} off while measuring; leave {name} out of --godebug",
                    _ => null,
                };
                if (refused != null) throw new ArgumentException($"--godebug {knob}: {refused}", nameof(Godebug));
            }
        }
        return this;
    }

    internal GoConfig RuntimeConfig()
    {
        var baseConfig = string.IsNullOrWhiteSpace(Godebug) ? new GoConfig() : GoConfig.Parse(Godebug);
        // The sampler is a thread of its own that allocates its samples: off while measuring.
        return (baseConfig with { Gomaxprocs = Gomaxprocs, SamplePeriodNs = 0, SchedTraceNs = 0 }).Validate();
    }
}
