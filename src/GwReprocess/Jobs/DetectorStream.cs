using GwReprocess.Data;
using GwReprocess.Dsp;

namespace GwReprocess.Jobs;

/// <summary>One detector as the stream carries it: its witnesses (model order, with the model's scaling), its strain, and its noise output.</summary>
/// <param name="Ifo">Detector prefix.</param>
/// <param name="Strain">The strain channel (kept on the client, subtracted from).</param>
/// <param name="Witnesses">Witness channels in model order.</param>
/// <param name="WitnessScaling">The model's scaling per witness (identity when the model standardises inside, as hermes's does).</param>
/// <param name="NoiseOutput">The output holding the detector's noise; empty under <see cref="StreamContract.Detection"/>, which cleans nothing.</param>
/// <param name="Hermes">Under the hermes contract, the detector's own ensemble and sequence; null under the native contract.</param>
public sealed record DetectorStream(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, IReadOnlyList<ChannelScaling> WitnessScaling, string NoiseOutput,
    HermesStream? Hermes = null);
