using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Models;

namespace GwReprocess.Training;

/// <summary>A linear cleaner read back from a model repository: what the serving ensemble subtracts before postproc whitens.</summary>
/// <param name="Name">Model name and version, e.g. <c>wiener-h1 v1</c>.</param>
/// <param name="Witnesses">Its witnesses, in model order.</param>
/// <param name="Scaling">The client's standardisation of each witness.</param>
/// <param name="Fir">Its taps.</param>
/// <param name="Highpass">The high-pass its witnesses go through before standardisation, or null.</param>
internal sealed record RepositoryCleaner(string Name, IReadOnlyList<ChannelName> Witnesses, IReadOnlyList<ChannelScaling> Scaling, MultiChannelFir Fir, WitnessHighpass? Highpass)
{
    public override string ToString() => Name;
}
