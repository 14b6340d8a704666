namespace GwReprocess.Jobs;

/// <summary>What one stream attempt committed before it ended, and why it ended early (null when it streamed to the end).</summary>
internal sealed record StreamAttemptOutcome(int FramesWritten, double DataSeconds, Exception? Failure);
