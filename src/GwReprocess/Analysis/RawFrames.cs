using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.IO;
using GwReprocess.Storage;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Analysis;

/// <summary>The input (raw) frames of a workflow's data source, per detector: simulated frames directory, LAL cache or bucket prefix.</summary>
public static class RawFrames
{
    /// <summary>
    /// A frame source over <paramref name="ifo"/>'s input frames that cover <paramref name="span"/>, or null with
    /// a note saying why there is none. Relative paths (a local bucket directory too) are relative to <paramref name="runDirectory"/>;
    /// bucket files are fetched into <paramref name="scratch"/>.
    /// </summary>
    public static async Task<(FrameSource? Source, string? Note)> OpenAsync(WorkflowConfig workflow, string runDirectory, string ifo, Segment span,
        string scratch, CancellationToken cancellationToken)
    {
        string Anchor(string p) => Location.Parse(p).Resolve(Path.GetFullPath(runDirectory)).ToString();
        bool Mine(string observatory) => observatory.Contains(ifo[0], StringComparison.Ordinal);
        switch (workflow.Data.Kind)
        {
            case DataSourceKind.Simulated:
            {
                string dir = Anchor(workflow.Data.Simulation!.Directory);
                if (!Directory.Exists(dir)) return (null, $"the simulated frames directory {dir} does not exist");
                var files = Directory.EnumerateFiles(dir, "*.gwf").Where(f => FrameFileName.TryParse(f) is { } n && Mine(n.Observatory)).ToList();
                if (files.Count == 0) return (null, $"{dir} holds no {ifo} frame files");
                return (new FrameSource(FrameCache.FromFiles(files)), null);
            }
            case DataSourceKind.Cache:
            {
                string path = Anchor(workflow.Data.Cache!);
                if (!File.Exists(path)) return (null, $"the frame cache {path} does not exist");
                var cache = new FrameCache(FrameCache.Read(path).Entries.Where(e => Mine(e.Observatory)));
                return (new FrameSource(cache), null);
            }
            default:
            {
                // A local "bucket" is a directory: relative to the run directory, as the client resolves it.
                var (bucket, prefix) = BucketFactory.Open(Anchor(workflow.Data.Bucket!));
                using (bucket)
                {
                    var set = (await BucketFrameSet.DiscoverAsync(bucket, BucketUri.AsPrefix(prefix), ifo[..1], cancellationToken: cancellationToken).ConfigureAwait(false)).Select(span);
                    if (set.Files.Count == 0) return (null, $"{workflow.Data.Bucket} holds no {ifo} frame files covering {span}");
                    var download = await set.DownloadAsync(scratch, cancellationToken: cancellationToken).ConfigureAwait(false);
                    return (new FrameSource(download.Cache), null);
                }
            }
        }
    }
}
