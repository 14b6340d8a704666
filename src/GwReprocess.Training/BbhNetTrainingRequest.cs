using GwReprocess.Models;
using GwReprocess.Time;

namespace GwReprocess.Training;

/// <summary>What <c>gwrepro-train bbhnet</c> is asked to do: train BBHnet on a span of injection-free background and add it to a repository as a version.</summary>
public sealed record BbhNetTrainingRequest
{
    /// <summary>The detectors in the repository's order, each with its strain (witnesses only matter to the cleaner read from the repository).</summary>
    public required IReadOnlyList<CleanerChannels> Detectors { get; init; }

    /// <summary>A <c>gwrepro simulate</c> output directory, a LAL cache or a frame file of injection-free background.</summary>
    public required string Fit { get; init; }

    /// <summary>GPS start of the span (training then validation); null: the start of the frames.</summary>
    public GpsTime? Start { get; init; }

    /// <summary>GPS end of the span; null: the end of the frames.</summary>
    public GpsTime? End { get; init; }

    /// <summary>Seconds at the end of the span held out for validation.</summary>
    public double ValidationSeconds { get; init; } = 256;

    /// <summary>The model repository: its postproc whitens, the base ensemble's cleaners clean, and the new version is added to it.</summary>
    public required string Repository { get; init; }

    /// <summary>The version written.</summary>
    public long Version { get; init; } = 1;

    /// <summary>Processing rate (Hz): strain is resampled to it, as the client does.</summary>
    public int SampleRate { get; init; } = 4096;

    /// <summary>The served model's batch B (the config's dims).</summary>
    public int Batch { get; init; } = 8;

    /// <summary>Windows the server scores per second of data (<c>[inference] rate</c>): turns the per-window false-alarm probability into a rate per hour.</summary>
    public double InferenceRate { get; init; } = 4;

    /// <summary>Windows scored per hour of data.</summary>
    public double WindowsPerHour => InferenceRate * 3600;

    /// <summary>Instances per model in the config.</summary>
    public int Instances { get; init; } = 1;

    /// <summary>The ensemble whose postproc input is reproduced, and whose detector step the new BBHnet replaces in <see cref="Ensemble"/>.</summary>
    public required string EnsembleFrom { get; init; }

    /// <summary>The ensemble written: <see cref="EnsembleFrom"/> with BBHnet at the new version answering <c>score</c>.</summary>
    public required string Ensemble { get; init; }

    /// <summary>Where the loss curve, history, export check and the comparison with the ensemble's own detector go.</summary>
    public required string ReportDirectory { get; init; }

    /// <summary>The workflow's name, recorded in the model.</summary>
    public string WorkflowName { get; init; } = "";

    /// <summary>The training recipe.</summary>
    public BbhNetTrainingOptions Options { get; init; } = new();
}
