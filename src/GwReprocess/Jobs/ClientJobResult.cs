namespace GwReprocess.Jobs;

/// <summary>How a client job ended.</summary>
/// <param name="FramesWritten">Output frames this run committed.</param>
/// <param name="FramesSkipped">Frames an earlier run had committed.</param>
/// <param name="Retries">Reconnects after transient stream errors.</param>
/// <param name="AlreadyDone">True when the done marker existed and nothing was run.</param>
/// <param name="WallSeconds">Wall time of this run.</param>
/// <param name="DataSeconds">Seconds of the job's segment streamed for the first time in this run.</param>
public sealed record ClientJobResult(int FramesWritten, int FramesSkipped, int Retries, bool AlreadyDone, double WallSeconds, double DataSeconds);
