namespace GwReprocess.Jobs;

/// <summary>What one client job did in one reporting interval: the row of its metrics CSV.</summary>
/// <remarks>Wall-clock times are Unix seconds (UTC) so that intervals of many jobs on many machines line up; GPS times say which data.</remarks>
public sealed record JobMetricsInterval(
    string Job, string Server, int Attempt,
    double WallStart, double WallEnd, double GpsStart, double GpsEnd, double DataSeconds,
    long RequestsSent, long Responses, double LatencyP50Ms, double LatencyP95Ms, double LatencyP99Ms,
    long BytesSent, long BytesReceived, int Retries, double BarrierWaitSeconds)
{
    public double WallSeconds => WallEnd - WallStart;
}
