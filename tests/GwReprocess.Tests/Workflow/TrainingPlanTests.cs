using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>[training] (issue 18): deepclean-prod's rules per segment, the chunk versions and pinned ensembles, and the config's checks.</summary>
public class TrainingPlanTests
{
    private const long T0 = 1_000_000_000;

    private static Segment S(long a, long b) => new(T0 + a, T0 + b);

    internal static string Workflow(string training = "[training]\nprogram = \"/opt/train/gwrepro-train\"\n", string extra = "") => $"""
        [run]
        name = "train-test"

        [data]
        start = {T0}
        end = {T0 + 100_000}

        [detectors.H1]
        strain = "H1:GDS-CALIB_STRAIN"
        witnesses = ["H1:PEM-A", "H1:PEM-B"]

        [detectors.L1]
        strain = "L1:GDS-CALIB_STRAIN"
        witnesses = ["L1:PEM-A", "L1:PEM-B"]

        [jobs]
        length = 4096
        minimum = 16
        padding = 8

        [outputs]
        uri = "out"

        {extra}
        {training}
        """;

    /// <summary>Segments of 200 s (skipped), 1000 s (one chunk) and 40 000 s (three chunks), as both detectors' science time.</summary>
    internal static JobPlan Plan(WorkflowConfig w)
    {
        var science = new SegmentList([S(0, 200), S(1000, 2000), S(10_000, 50_000)]);
        return JobPlanner.Plan(w, new Dictionary<string, SegmentList> { ["H1"] = science, ["L1"] = science });
    }

    [Fact]
    public void Defaults_are_deepclean_prods_and_enabled_false_turns_training_off()
    {
        var t = WorkflowConfig.Parse(Workflow(), "w.toml").Training!;
        Assert.Equal(GpsDuration.FromSeconds(600), t.Span);
        Assert.Null(t.Validation);
        Assert.Equal(GpsDuration.FromSeconds(16384), t.Chunk);
        Assert.Equal(GpsDuration.FromSeconds(300), t.Minimum);
        Assert.Equal(100, t.VersionBase);
        Assert.Equal(10, t.PollSeconds);
        Assert.Null(WorkflowConfig.Parse(Workflow("[training]\nenabled = false\nspan = 300\n"), "w.toml").Training);
        Assert.Null(WorkflowConfig.Parse(Workflow(""), "w.toml").Training);
    }

    [Theory]
    [InlineData("[training]\nspan = 100\nvalidation = 100\n", "", "training.validation: 100 s must be shorter than the training span 100 s")]
    [InlineData("[training]\nchunk = 2048\n", "", "jobs.length: 4096 s is longer than training.chunk 2048 s")]
    [InlineData("[training]\npoll = 0\n", "", "training.poll: 0 must be 1 to 3600 seconds")]
    [InlineData("[training]\nepochs = 0\n", "", "training.epochs: must be positive")]
    [InlineData("[training]\nspna = 600\n", "", "unknown key 'training.spna'")]
    [InlineData("[training]\narguments = [\"--stride\", \"1\", \"--version=3\"]\n", "", "training.arguments: '--version=3' is set by each node from the plan and the other [training] keys; leave it out")]
    [InlineData("[training]\narguments = \"--stride 1\"\n", "", "training.arguments: expected a list of strings")]
    [InlineData("[training]\n", "[site]\nprofile = \"hepcloud\"\n", "inference.model_repository: 'model-repository' is transferred to the server nodes")]
    public void Bad_training_settings_fail_naming_the_key(string training, string extra, string message)
    {
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(Workflow(training, extra), "w.toml"));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_detectors_own_ensemble_cannot_be_trained_per_chunk()
    {
        string text = Workflow().Replace("witnesses = [\"H1:PEM-A\", \"H1:PEM-B\"]", "witnesses = [\"H1:PEM-A\", \"H1:PEM-B\"]\nensemble = \"deepclean-stream\"", StringComparison.Ordinal);
        var e = Assert.Throws<BadInputException>(() => WorkflowConfig.Parse(text, "w.toml"));
        Assert.Contains("detectors.H1.ensemble: a detector's own ensemble cannot be combined with [training]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Short_segments_are_skipped_medium_ones_train_on_their_first_half_at_most_600_s_long_ones_in_16384_s_chunks()
    {
        var w = WorkflowConfig.Parse(Workflow(), "w.toml");
        var plan = Plan(w);
        // The 200 s segment is under the 300 s minimum: no job, although jobs.minimum (16 s) would have made one.
        Assert.DoesNotContain(plan.Jobs, j => j.Core.Start < GpsTime.FromSeconds(T0 + 1000));
        Assert.Equal("[[1000001000, 1000002000), [1000010000, 1000050000)]", plan.Analyzable.ToString());

        var training = TrainingPlan.Create(plan);
        Assert.Equal([101L, 102, 103, 104], training.Spans.Select(s => s.Version));
        Assert.Equal(["gwe2e-v101", "gwe2e-v102", "gwe2e-v103", "gwe2e-v104"], training.Spans.Select(s => s.Ensemble));

        // 1000 s segment: trains on its first min(600, 500) s, cleans all of its jobs (the training span too).
        var medium = training.Spans[0];
        Assert.Equal(S(1000, 1500), medium.Train);
        Assert.Equal(GpsDuration.FromSeconds(125), medium.Validation);
        Assert.Equal(S(1008, 1992), medium.Clean);

        // 40 000 s segment: ten 4096 s jobs (the last 3120 s) from 10 008; chunks of whole jobs within 16 384 s.
        var (a, b, c) = (training.Spans[1], training.Spans[2], training.Spans[3]);
        Assert.Equal(S(10_008, 10_008 + 16_384), a.Clean);
        Assert.Equal(4, a.Jobs.Count);
        Assert.Equal(S(10_000, 10_600), a.Train); // the first chunk: the segment's own first 600 s
        Assert.Equal(S(26_392, 26_392 + 16_384), b.Clean);
        Assert.Equal(S(26_392 - 600, 26_392), b.Train); // later chunks: the 600 s before them
        Assert.Equal(S(42_776, 49_992), c.Clean);
        Assert.Equal(2, c.Jobs.Count);
        Assert.Equal(S(42_176, 42_776), c.Train);
        Assert.All(training.Spans.Skip(1), s => Assert.Equal(GpsDuration.FromSeconds(150), s.Validation));

        // Every job is in exactly one chunk.
        Assert.Equal(plan.Jobs.Select(j => j.Name).Order(), training.Spans.SelectMany(s => s.Jobs).Select(j => j.Name).Order());
        Assert.Equal("train_H1L1_1000010000_600", a.NodeName(w.IfoTag));
    }

    [Fact]
    public void Validation_span_and_version_base_are_taken_from_the_table()
    {
        var w = WorkflowConfig.Parse(Workflow("[training]\nspan = 400\nvalidation = 50\nversion_base = 2000\nchunk = 8192\n"), "w.toml");
        var training = TrainingPlan.Create(Plan(w));
        Assert.Equal(2001, training.Spans[0].Version);
        Assert.Equal(S(1000, 1400), training.Spans[0].Train);
        Assert.All(training.Spans, s => Assert.Equal(GpsDuration.FromSeconds(50), s.Validation));
        // 40 000 s in 8192 s chunks of two jobs: five chunks, 2001 + 1 + 5 = 2006 the last.
        Assert.Equal(2006, training.Spans[^1].Version);
        Assert.Equal(S(10_008 + 8192 - 400, 10_008 + 8192), training.Spans[2].Train);
    }
}
