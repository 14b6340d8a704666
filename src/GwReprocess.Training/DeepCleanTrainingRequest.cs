using GwReprocess.Models;
using GwReprocess.Time;

namespace GwReprocess.Training;

/// <summary>What <c>gwrepro-train deepclean</c> is asked to do: train one cleaner per detector on a span and add it to a repository as a version.</summary>
public sealed record DeepCleanTrainingRequest
{
    /// <summary>The detectors, each with its strain and witnesses in model order.</summary>
    public required IReadOnlyList<CleanerChannels> Detectors { get; init; }

    /// <summary>The file that named the detectors (the workflow), for errors.</summary>
    public required string ChannelSource { get; init; }

    /// <summary>A <c>gwrepro simulate</c> output directory, a LAL cache or a frame file.</summary>
    public required string Fit { get; init; }

    /// <summary>GPS start of the span (training then validation); null: the start of the frames.</summary>
    public GpsTime? Start { get; init; }

    /// <summary>GPS end of the span; null: the end of the frames.</summary>
    public GpsTime? End { get; init; }

    /// <summary>Seconds at the end of the span held out for validation.</summary>
    public double ValidationSeconds { get; init; } = 64;

    /// <summary>The model repository the versions are added to: a directory, or a bucket prefix (s3://, gs://).</summary>
    public required string Repository { get; init; }

    /// <summary>The version written for every detector's cleaner.</summary>
    public long Version { get; init; } = 1;

    /// <summary>Bands (Hz) the cleaner is trained to remove noise in; the loss averages over their Welch bins.</summary>
    public required IReadOnlyList<(double Low, double High)> Bands { get; init; }

    /// <summary>Processing rate (Hz): every channel is resampled to it, as the client does.</summary>
    public int SampleRate { get; init; } = 4096;

    /// <summary>The served model's window K, seconds (the snapshotter's kernel).</summary>
    public double KernelSeconds { get; init; } = 1;

    /// <summary>The served model's batch B (the config's dims).</summary>
    public int Batch { get; init; } = 8;

    /// <summary>Instances per model in the config.</summary>
    public int Instances { get; init; } = 1;

    /// <summary>Where the loss curves, histories and export checks go.</summary>
    public required string ReportDirectory { get; init; }

    /// <summary>The workflow's ensemble (<c>[inference] ensemble</c>): a copy pinned to the new version is written when it runs these cleaners.</summary>
    public string Ensemble { get; init; } = "";

    /// <summary>
    /// An ensemble built around other cleaners (a Wiener <c>gwe2e</c>): <see cref="Ensemble"/> is then written as its copy with each
    /// <c>wiener-&lt;ifo&gt;</c> step running the trained <c>deepclean-&lt;ifo&gt;</c> at the new version.
    /// </summary>
    public string? EnsembleFrom { get; init; }

    /// <summary>Train on what the Wiener cleaners leave of the strain, and make the ensemble's noise their estimate plus DeepClean's (needs <see cref="EnsembleFrom"/>).</summary>
    public bool AfterLinear { get; init; }

    /// <summary>The high-pass the witnesses go through after resampling, before standardisation (the workflow's <c>[cleaning] witness_highpass</c>), or null for none.</summary>
    public Dsp.WitnessHighpass? WitnessHighpass { get; init; }

    /// <summary>The workflow's name, recorded in the models.</summary>
    public string WorkflowName { get; init; } = "";

    /// <summary>The training recipe.</summary>
    public DeepCleanTrainingOptions Options { get; init; } = new();
}
