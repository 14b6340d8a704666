using GwReprocess.Data;
using GwReprocess.Dsp;

namespace GwReprocess.Jobs;

/// <summary>One detector as the stream carries it: its witnesses (model order, with the model's scaling), its strain, and its noise output.</summary>
public sealed record DetectorStream(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, IReadOnlyList<ChannelScaling> WitnessScaling, string NoiseOutput);
