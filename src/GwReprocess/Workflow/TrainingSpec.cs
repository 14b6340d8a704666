using GwReprocess.Time;

namespace GwReprocess.Workflow;

/// <summary>
/// Per-chunk training before cleaning (<c>[training]</c>), with deepclean-prod's rules: segments shorter than
/// <see cref="Minimum"/> are skipped; a segment is cleaned in chunks of at most <see cref="Chunk"/> seconds, each by a model
/// trained on the <see cref="Span"/> seconds before it (the first chunk of a segment: the segment's own first
/// min(<see cref="Span"/>, length / 2) seconds).
/// </summary>
/// <param name="Span">Seconds a model trains on (<c>span</c>, default 600).</param>
/// <param name="Validation">Seconds of the training span held out for validation (<c>validation</c>); null: a quarter of each span, whole seconds.</param>
/// <param name="Chunk">Most seconds of cleaned data per trained model (<c>chunk</c>, default 16384).</param>
/// <param name="Minimum">Segments shorter than this are neither trained on nor cleaned (<c>minimum</c>, default 300).</param>
/// <param name="Program">The training program (<c>program</c>), relative to the workflow file unless absolute; null: <c>gwrepro-train</c> next to the gwrepro executable.</param>
/// <param name="Root">A chroot directory the training program runs in (<c>root</c>, passed as <c>--root</c>), or null.</param>
/// <param name="Epochs">Passed as <c>--epochs</c> when set.</param>
/// <param name="Seed">Passed as <c>--seed</c> when set.</param>
/// <param name="VersionBase">Chunk k (1-based, in time order) trains version <c>VersionBase + k</c> (<c>version_base</c>, default 100).</param>
/// <param name="PollSeconds">Seconds between the server nodes' repository polls, so they pick up each chunk's model (<c>poll</c>, default 10).</param>
public sealed record TrainingSpec(
    GpsDuration Span, GpsDuration? Validation, GpsDuration Chunk, GpsDuration Minimum, string? Program, string? Root,
    int? Epochs, long? Seed, long VersionBase, int PollSeconds)
{
    /// <summary>The training program's file name, looked for next to the gwrepro executable when <c>program</c> is not given.</summary>
    public const string DefaultProgram = "gwrepro-train";

    /// <summary>CPUs a training node asks for (<c>cpus</c>, default 4).</summary>
    public int Cpus { get; init; } = 4;

    /// <summary>Memory a training node asks for (<c>memory</c>, default 8GB).</summary>
    public string Memory { get; init; } = "8GB";

    /// <summary>
    /// Options passed to the training program after the node's own (<c>arguments</c>, e.g. <c>["--stride", "1", "--threads", "2"]</c>):
    /// the recipe of a campaign (window, stride, learning rate, loss weights, threads), which every chunk's node shares.
    /// </summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The options each node sets from the plan, which <c>arguments</c> may not repeat.</summary>
    public static readonly IReadOnlyList<string> NodeOptions = ["--workflow", "--fit", "--start", "--end", "--validation", "--out", "--version", "--root", "--seed", "--epochs"];

    /// <summary>Reads <c>[training]</c>; null when the table is absent or says <c>enabled = false</c>. Errors name the key and line.</summary>
    public static TrainingSpec? Read(ConfigTable t)
    {
        bool present = t.LineOf("training") > 0;
        bool enabled = t.Boolean("training.enabled", present);
        var span = t.OptionalDuration("training.span") ?? GpsDuration.FromSeconds(600);
        var validation = t.OptionalDuration("training.validation");
        var chunk = t.OptionalDuration("training.chunk") ?? GpsDuration.FromSeconds(16384);
        var minimum = t.OptionalDuration("training.minimum") ?? GpsDuration.FromSeconds(300);
        string? program = t.OptionalString("training.program");
        string? root = t.OptionalString("training.root");
        long? epochs = t.OptionalInteger("training.epochs");
        long? seed = t.OptionalInteger("training.seed");
        long versionBase = t.Integer("training.version_base", 100);
        long poll = t.Integer("training.poll", 10);
        long cpus = t.Integer("training.cpus", 4);
        string memory = t.String("training.memory", "8GB");
        var arguments = t.OptionalStringList("training.arguments") ?? [];
        if (!enabled) return null;

        if (span <= GpsDuration.Zero) throw t.Error("training.span", "must be a positive number of seconds");
        if (validation is { } v && v >= span) throw t.Error("training.validation", $"{v} s must be shorter than the training span {span} s");
        if (chunk <= GpsDuration.Zero) throw t.Error("training.chunk", "must be a positive number of seconds");
        if (minimum > chunk) throw t.Error("training.minimum", $"{minimum} s is longer than training.chunk {chunk} s");
        if (program is "") throw t.Error("training.program", "must name the training program");
        if (root is "") throw t.Error("training.root", "must name a directory");
        if (epochs is <= 0) throw t.Error("training.epochs", "must be positive");
        if (versionBase < 0) throw t.Error("training.version_base", "must not be negative");
        if (poll is <= 0 or > 3600) throw t.Error("training.poll", $"{poll} must be 1 to 3600 seconds");
        if (cpus <= 0) throw t.Error("training.cpus", "must be positive");
        foreach (var a in arguments)
        {
            string option = a.Split('=')[0];
            if (NodeOptions.Contains(option))
                throw t.Error("training.arguments", $"'{a}' is set by each node from the plan and the other [training] keys; leave it out");
        }
        return new TrainingSpec(span, validation, chunk, minimum, program, root, (int?)epochs, seed, versionBase, (int)poll)
        {
            Cpus = (int)cpus,
            Memory = memory,
            Arguments = arguments,
        };
    }
}
