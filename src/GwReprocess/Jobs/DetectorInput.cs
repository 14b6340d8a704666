using GwReprocess.Data;
using GwReprocess.Frames;

namespace GwReprocess.Jobs;

/// <summary>One detector's input: channels (witnesses in model order) and where its frames are.</summary>
/// <param name="Ifo">Detector prefix (H1, L1, ...).</param>
/// <param name="Strain">The strain channel.</param>
/// <param name="Witnesses">Witness channels in model order.</param>
/// <param name="Frames">Where its frames are.</param>
/// <param name="Ensemble">The detector's own ensemble (<c>[detectors.XX] ensemble</c>, hermes contract), or null for the job's.</param>
public sealed record DetectorInput(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses, FrameSource Frames, string? Ensemble = null);
