using Inference;

namespace GwReprocess.Models;

/// <summary>Which noise regressor sits in the cleaner slots of the ensembles.</summary>
public enum CleanerKind
{
    /// <summary>DeepClean, paper architecture, untrained (throughput studies).</summary>
    DeepClean,
    /// <summary>Multi-input FIR Wiener filter fitted on data (<c>--fit</c>).</summary>
    Wiener,
}

/// <summary>Which detector sits at the end of gwe2e.</summary>
public enum DetectorKind
{
    /// <summary>Paper-era BBHnet, untrained (throughput studies).</summary>
    BbhNet,
    /// <summary>Whitened template-bank correlator (designed and calibrated on the <c>--fit</c> span).</summary>
    Templates,
}

/// <summary>Everything <c>gwrepro models build</c> needs: sizes of the stream and networks, which models fill the slots, instance counts.</summary>
public sealed record ModelRepositoryOptions
{
    /// <summary>Processing sample rate, Hz.</summary>
    public int SampleRate { get; init; } = 4096;

    /// <summary>Window (kernel) length in seconds; K = SampleRate·KernelSeconds samples.</summary>
    public double KernelSeconds { get; init; } = 1;

    /// <summary>Hop between windows in samples (stride = fs / inference rate).</summary>
    public int Stride { get; init; } = 8;

    /// <summary>Windows per request (B); an update carries B·stride samples per channel.</summary>
    public int Batch { get; init; } = 64;

    /// <summary>Witness channels per detector.</summary>
    public int Witnesses { get; init; } = 21;

    /// <summary>Detectors of gwe2e, in stream order (their witnesses first, then their strains).</summary>
    public IReadOnlyList<string> Detectors { get; init; } = ["H1", "L1"];

    public CleanerKind Cleaner { get; init; } = CleanerKind.DeepClean;

    public DetectorKind Detector { get; init; } = DetectorKind.BbhNet;

    /// <summary>Seed of the untrained networks' weights.</summary>
    public int Seed { get; init; } = 20210826;

    /// <summary>Instances per non-snapshotter model.</summary>
    public int Instances { get; init; } = 1;

    /// <summary>Snapshotter instances = concurrent streams (one sequence slot each, max_batch_size 0).</summary>
    public int SnapshotterInstances { get; init; } = 1;

    public ModelInstanceGroup.Types.Kind InstanceKind { get; init; } = ModelInstanceGroup.Types.Kind.Auto;

    /// <summary>Precision of the neural networks (DeepClean, BBHnet); fp16 is for GPU instances only.</summary>
    public ModelPrecision Precision { get; init; } = ModelPrecision.Fp32;

    /// <summary>Fixed: the gwe2e repository (cleaners, postproc's build-time FIR). Stream: the strain-only detection repository (snapshotter, whitener, detector, <c>search</c>).</summary>
    public WhiteningMode Whitening { get; init; } = WhiteningMode.Fixed;

    /// <summary>The whitener's design, used when <see cref="Whitening"/> is Stream.</summary>
    public StreamWhiteningOptions StreamWhitening { get; init; } = new();

    /// <summary>Per-detector whitening FIR taps for postproc; null = identity (one tap of 1), until the ASD-based design is available.</summary>
    public IReadOnlyList<float[]>? WhiteningTaps { get; init; }

    /// <summary>Says where <see cref="WhiteningTaps"/> came from (written into the postproc description).</summary>
    public string WhiteningDescription { get; init; } = "identity (no reference ASD given)";

    /// <summary>Fitted Wiener coefficients per detector (keys as in <see cref="Detectors"/>), required when <see cref="Cleaner"/> is Wiener.</summary>
    public IReadOnlyDictionary<string, MultiChannelFir>? WienerFilters { get; init; }

    /// <summary>The whitened template bank, required when <see cref="Detector"/> is Templates.</summary>
    public TemplateBank? Templates { get; init; }

    /// <summary>K in samples, checked to be a whole number.</summary>
    public int Kernel
    {
        get
        {
            double k = SampleRate * KernelSeconds;
            if (k < 1 || Math.Abs(k - Math.Round(k)) > 1e-9) throw new BadInputException($"--kernel {KernelSeconds} s at {SampleRate} Hz is not a whole number of samples");
            return (int)Math.Round(k);
        }
    }
}
