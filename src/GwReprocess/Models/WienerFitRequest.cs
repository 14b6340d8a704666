using GwReprocess.Simulation;
using GwReprocess.Time;

namespace GwReprocess.Models;

/// <summary>Which frames, span and channels the Wiener cleaners (and the template bank's calibration) are fitted on.</summary>
public sealed record WienerFitRequest
{
    /// <summary>A LAL cache or a frame file holding every detector's strain and witnesses, or a <c>gwrepro simulate</c> output directory (its &lt;IFO&gt;.lcf caches).</summary>
    public required string Frames { get; init; }

    /// <summary>GPS start of the fitting span; null: the start of the frames.</summary>
    public GpsTime? Start { get; init; }

    /// <summary>GPS end of the fitting span; null: the end of the frames.</summary>
    public GpsTime? End { get; init; }

    /// <summary>The detectors in model order, each with its channels in model order.</summary>
    public required IReadOnlyList<CleanerChannels> Detectors { get; init; }

    /// <summary>The file that named <see cref="Detectors"/> (the workflow), which errors about the channels name.</summary>
    public required string ChannelSource { get; init; }

    /// <summary>Wiener taps per witness, in samples at the processing rate.</summary>
    public int Taps { get; init; } = 32;

    /// <summary>Future witness samples each tap set may use (0 = causal).</summary>
    public int Advance { get; init; }

    /// <summary>Band in Hz of the strain the cleaner is fitted to.</summary>
    public (double Low, double High) Band { get; init; } = (15, 500);

    /// <summary>Length (odd) of postproc's whitening FIR, designed from each detector's strain ASD over the span; 0 keeps postproc unwhitened.</summary>
    public int WhitenTaps { get; init; } = 1025;

    /// <summary>
    /// How the frames were simulated, when they were: the template bank is then calibrated on the simulator's own
    /// injection-free rendering of the span, since the frames themselves carry injections.
    /// </summary>
    public SimulationOptions? Simulation { get; init; }

    /// <summary>The high-pass the witnesses go through before standardisation (the workflow's <c>[cleaning] witness_highpass</c>), or null for none.</summary>
    public Dsp.WitnessHighpass? WitnessHighpass { get; init; }
}
