using GwReprocess.Data;

namespace GwReprocess.Models;

/// <summary>One detector's channels as its cleaner takes them: the strain, and the witnesses in model order (never sorted).</summary>
public sealed record CleanerChannels(string Ifo, ChannelName Strain, IReadOnlyList<ChannelName> Witnesses);
