using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.IO;
using GwReprocess.Inference;
using GwReprocess.Jobs;
using GwReprocess.Simulation;
using GwReprocess.Storage;

namespace GwReprocess.Workflow;

/// <summary>What a workflow makes of one client job (<c>gwrepro client</c>): its detectors' frame sources, its start barrier, its settings.</summary>
public static class WorkflowClientJob
{
    /// <summary>
    /// The job's settings: frame type, channel suffix, ensemble and cleaning from the workflow's [outputs], [inference] and
    /// [cleaning]; inputs, outputs, endpoint, the server as logged and the barrier (null: start at once) as the caller resolved them.
    /// <paramref name="ensemble"/>, when given, replaces <c>[inference] ensemble</c>: the pinned ensemble of the job's trained chunk
    /// (<c>gwrepro client --ensemble</c>, which the DAG of a workflow with <c>[training]</c> passes).
    /// </summary>
    public static ClientJobSettings Settings(WorkflowConfig workflow, JobSpec job, IReadOnlyList<DetectorInput> detectors, IBucket output, string outputPrefix,
        InferenceEndpoint endpoint, string server, BarrierPolicy? barrier, string? ensemble = null)
    {
        var c = workflow.Cleaning;
        return new ClientJobSettings(job, detectors, output, outputPrefix, workflow.Outputs.FrameType, workflow.Outputs.ChannelSuffix,
            endpoint, server, ensemble ?? workflow.Inference.Ensemble, new CleaningSettings(c.BandLow, c.BandHigh, c.Edge, c.CausalLatency, c.Margin) { WitnessHighpass = c.WitnessHighpass },
            barrier, c.MaxInFlight, c.Retries) { Workflow = workflow.Name };
    }

    /// <summary>The workflow's barrier with the default expected count: the clients that can run at once (MAXJOBS), not all jobs.</summary>
    public static BarrierPolicy Barrier(WorkflowConfig workflow, string jobsCsv)
    {
        var b = workflow.Barrier;
        int jobs = Math.Max(1, File.ReadLines(jobsCsv).Skip(1).Count(l => !string.IsNullOrWhiteSpace(l)));
        int atOnce = Math.Max(1, workflow.Inference.ServerCount) * workflow.Inference.ClientsPerServer;
        int expected = b.Expected ?? Math.Min(jobs, atOnce);
        return new BarrierPolicy(b.Mode, expected, TimeSpan.FromSeconds(b.Timeout.TotalSeconds), TimeSpan.FromSeconds(1), b.QuorumFraction);
    }

    /// <summary>The job's detectors in stream order, each reading its own frames from the workflow's data (simulated caches, a cache, or a bucket); relative paths are relative to <paramref name="baseDir"/>.</summary>
    /// <remarks>Frames in a bucket (an s3:// or gs:// <c>[data] bucket</c> prefix, or such URLs in a cache) are fetched file by file as the job reads them, one file ahead, not staged beforehand. GWF options <c>gwf</c> (strictness, the warning callback) default to <c>[data] strict_checksums</c>.</remarks>
    public static async Task<IReadOnlyList<DetectorInput>> DetectorInputsAsync(WorkflowConfig workflow, string baseDir, JobSpec job, BucketFrameOpener opener, CancellationToken ct,
        GwfReadOptions? gwf = null)
    {
        FrameCache all;
        switch (workflow.Data.Kind)
        {
            case DataSourceKind.Simulated:
            {
                string dir = Path.Combine(baseDir, workflow.Data.Simulation!.Directory);
                var entries = new List<FrameCacheEntry>();
                foreach (var d in workflow.Detectors)
                {
                    string cache = Path.Combine(dir, SimulationRun.CacheName(d.Ifo));
                    if (!File.Exists(cache)) throw new BadInputException($"{cache}: no frame cache for {d.Ifo} (run gwrepro simulate --workflow first)");
                    entries.AddRange(FrameCache.Read(cache).Entries);
                }
                all = new FrameCache(entries);
                break;
            }
            case DataSourceKind.Cache:
                all = FrameCache.Read(Path.Combine(baseDir, workflow.Data.Cache!));
                break;
            default:
            {
                string location = workflow.Data.Bucket!;
                location = Location.Parse(location).Resolve(baseDir).ToString();
                var (bucket, prefix) = BucketFactory.Open(location);
                using (bucket)
                {
                    var set = (await BucketFrameSet.DiscoverAsync(bucket, prefix, cancellationToken: ct).ConfigureAwait(false)).Select(job.Padded);
                    if (set.Files.Count == 0) throw new BadInputException($"{bucket.UriOf(prefix)}: no frame files (*.gwf named OBS-TYPE-GPSSTART-DURATION) for the job's padded span {job.Padded}");
                    all = set.ToCache();
                }
                break;
            }
        }
        var options = opener.SourceOptions(prefetch: 1) with { Gwf = gwf ?? new GwfReadOptions { Strict = workflow.Data.StrictChecksums }, Gaps = workflow.Data.Gaps };
        return workflow.Detectors.Select(d => new DetectorInput(d.Ifo, d.Strain, d.Witnesses,
            new FrameSource(new FrameCache(all.Entries.Where(e => e.Observatory.Contains(d.Ifo[0], StringComparison.Ordinal))), options), d.Ensemble)).ToList();
    }
}
