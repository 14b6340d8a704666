using System.Diagnostics;
using GwReprocess.Cleaning;
using GwReprocess.Time;

namespace GwReprocess.Jobs;

/// <summary>What every stream attempt of one job shares: its settings, the server's layout, the sample arithmetic, its outputs and its bookkeeping.</summary>
/// <param name="Settings">The job's settings.</param>
/// <param name="Reporter">Where lines and committed frames are reported.</param>
/// <param name="Layout">The ensemble's layout, learned from the server.</param>
/// <param name="Geometry">K, stride, update and margins in samples.</param>
/// <param name="Frames">The output frames, in time order.</param>
/// <param name="Checkpoint">Committed frames and the done marker.</param>
/// <param name="Metrics">The job's metrics rows.</param>
/// <param name="Gate">The start barrier the sender waits for.</param>
/// <param name="Processed">Data counted as processed, across attempts.</param>
/// <param name="Cleaner">Band-pass and subtraction.</param>
/// <param name="FrameWriter">Cleaned GWF output.</param>
/// <param name="Provenance">What cleans each detector (in detector order), for the frames' history and comment.</param>
/// <param name="Prefix">The run's output prefix, ending in '/' (or empty).</param>
/// <param name="Wall">Wall clock since the job started (for the rate reported per frame).</param>
internal sealed record StreamContext(ClientJobSettings Settings, IClientJobReporter Reporter, StreamLayout Layout, StreamGeometry Geometry,
    IReadOnlyList<Segment> Frames, JobCheckpoint Checkpoint, JobMetricsRecorder Metrics, StartGate Gate, ProcessedData Processed,
    StrainCleaner Cleaner, CleanedFrameWriter FrameWriter, IReadOnlyList<CleaningProvenance> Provenance, string Prefix, Stopwatch Wall);
