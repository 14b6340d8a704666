using System.Text.Json;
using GwReprocess.Data;
using GwReprocess.Frames;
using GwReprocess.Frames.Gwf;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;
using GwReprocess.Workflow;

namespace GwReprocess.Tests.Workflow;

/// <summary>
/// <c>gwrepro run</c> on a tiny simulated workflow, for real: simulate, fit and write the models, write the DAG, run the
/// server (SERVICE node), the client jobs and the FINAL analysis as processes, stop the server, report; then a rerun
/// finds everything committed and runs no client again.
/// </summary>
public sealed class RunEndToEndTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gwrepro-run-e2e-");

    public void Dispose() => _dir.Delete(true);

    internal const string Workflow = """
        [run]
        name = "tiny"

        [data]
        source = "simulated"
        start = 1000000000
        end = 1000000064

        [data.simulate]
        seed = 3
        witnesses = 2
        injection_rate = 0
        frame_length = 32
        directory = "frames"

        [detectors.H1]
        strain = "H1:GDS-CALIB_STRAIN"
        witnesses = ["H1:PEM-CS_MAINSMON_EBAY_1_DQ", "H1:ASC-INP1_P_INMON"]

        [detectors.L1]
        strain = "L1:GDS-CALIB_STRAIN"
        witnesses = ["L1:PEM-CS_MAINSMON_EBAY_1_DQ", "L1:ASC-INP1_P_INMON"]

        [jobs]
        length = 24
        minimum = 16
        padding = 8

        [inference]
        model_repository = "models"
        ensemble = "gwe2e"
        rate = 16
        batch = 8
        servers = 1
        clients_per_server = 2

        [outputs]
        uri = "out"

        [condor]
        retries = 1

        """;

    [Fact]
    public async Task A_tiny_workflow_runs_end_to_end_and_a_rerun_resumes_with_every_job_done()
    {
        string workflow = Path.Combine(_dir.FullName, "tiny.toml");
        File.WriteAllText(workflow, Workflow);
        string run = Path.Combine(_dir.FullName, "run");
        var r = await GwreproProcess.RunAsync(["run", workflow, "--out", run, "--stop-grace", "10"], _dir.FullName, timeout: TimeSpan.FromMinutes(8));
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("run: 2 of 2 client job(s) complete (2 run, 0 done before), 0 failed, 0 not run; final node analyze succeeded", r.StdOut);
        Assert.Contains("report: " + Path.Combine(run, "report", "report.html"), r.StdOut);
        Assert.Contains($"run: DAGMan's records: {Path.Combine(run, "reprocess.status")}, {Path.Combine(run, "reprocess.jobstate.log")}", r.StdOut);

        // Jobs [8, 32) and [32, 56): one piece each, cut at the 32 s frame boundary.
        foreach (var (start, dur) in new[] { (1000000008, 24), (1000000032, 24) })
        {
            Assert.True(File.Exists(Path.Combine(run, "out", "cleaned", "H1", $"H-H1_CLEAN-{start}-{dur}.gwf")));
            Assert.True(File.Exists(Path.Combine(run, "out", "cleaned", "L1", $"L-L1_CLEAN-{start}-{dur}.gwf")));
            Assert.True(File.Exists(Path.Combine(run, "out", "scores", $"H1L1-CLEAN_SCORES-{start}-{dur}.h5")));
            Assert.True(File.Exists(Path.Combine(run, "out", "done", $"clean_H1L1_{start}_{dur}")));
        }
        Assert.True(File.Exists(Path.Combine(run, "models", "gwe2e", "config.pbtxt")));
        Assert.True(File.Exists(Path.Combine(run, "out", "rendezvous", "stop")));
        Assert.Contains("stopped", File.ReadAllText(Path.Combine(run, "logs", "server_0.0.err")));

        // DAGMan's records, as a pool run leaves them: every node DONE in the node status file (the SERVICE node is not
        // listed), and the jobstate log from DAGMAN_STARTED to DAGMAN_FINISHED 0, the server ending by itself after analyze.
        string[] nodes = ["clean_H1L1_1000000008_24", "clean_H1L1_1000000032_24", "analyze"];
        var status = NodeStatusFile.ParseNodes(File.ReadAllText(Path.Combine(run, "reprocess.status")));
        Assert.Equal(nodes, status.Select(n => n.Node));
        Assert.All(status, n => Assert.Equal((DagNodeStatus.Done, ""), (n.Status, n.Details)));
        var log = JobstateLog.Read(Path.Combine(run, "reprocess.jobstate.log"));
        Assert.Equal("DAGMAN_STARTED", log[0].Event);
        Assert.Equal(("DAGMAN_FINISHED", "0"), (log[^1].Event, log[^1].Id));
        Assert.Equal(["SUBMIT", "EXECUTE", "JOB_TERMINATED", "JOB_SUCCESS"], log.Where(e => e.Node == "server_0").Select(e => e.Event));
        Assert.All(nodes, n => Assert.Contains(log, e => e.Node == n && e.Event == "JOB_SUCCESS"));

        var index = await AssertOutputsReadAsASearchWouldAsync(run);

        // Regenerated, the DAG marks both jobs DONE: only the FINAL node and the server run.
        r = await GwreproProcess.RunAsync(["run", workflow, "--out", run, "--stop-grace", "10"], _dir.FullName, timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdOut + r.StdErr);
        Assert.Contains("run: 2 of 2 client job(s) complete (0 run, 2 done before)", r.StdOut);
        Assert.Contains("rendezvous: removed", r.StdErr); // the first run's stop marker would have stopped the new server at once
        Assert.Contains("JOB clean_H1L1_1000000008_24 client.sub DONE", File.ReadAllText(Path.Combine(run, "reprocess.dag")));
        status = NodeStatusFile.ParseNodes(File.ReadAllText(Path.Combine(run, "reprocess.status")));
        Assert.Equal(["User defined as DONE", "User defined as DONE", ""], status.Select(n => n.Details));
        Assert.Equal(2, JobstateLog.Read(Path.Combine(run, "reprocess.jobstate.log")).Count(e => e.Event == "DAGMAN_FINISHED"));
        // The rerun's FINAL node wrote the caches and segment files again from the same outputs: the same bytes.
        foreach (var (name, bytes) in index) Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(run, "out", name))), $"{name} changed on the rerun");
    }

    /// <summary>
    /// The outputs as a search finds them: cleaned frames on the raw frames' grid (shorter only at the segment's edges, and then
    /// saying why in FrHistory), the cleaned cache read in one call giving exactly the cleaned samples, the segment file's
    /// total equal to the report's. Returns the run-level index files' bytes.
    /// </summary>
    private static async Task<List<(string Name, byte[] Bytes)>> AssertOutputsReadAsASearchWouldAsync(string run)
    {
        var raw = Directory.GetFiles(Path.Combine(run, "frames"), "H-*.gwf").Select(f => FrameFileName.TryParse(f)!.Span).Order().ToList();
        Assert.Equal([new Segment(1000000000, 1000000032), new Segment(1000000032, 1000000064)], raw);
        var science = new Segment(1000000000, 1000000064);
        var cleanedFiles = Directory.GetFiles(Path.Combine(run, "out", "cleaned", "H1"), "*.gwf").Order().ToList();
        foreach (var f in cleanedFiles)
        {
            var span = FrameFileName.TryParse(f)!.Span;
            var input = Assert.Single(raw, r => r.Contains(span));
            await using var gwf = await GwfFile.OpenAsync(f);
            var history = (await gwf.GetFrameDetailsAsync(0)).History;
            // The first record is always the provenance (CleanedFrameProvenanceTests); a second says why a frame is short.
            Assert.StartsWith("workflow ", history[0].Comment, StringComparison.Ordinal);
            history = history.Skip(1).ToList();
            if (span == input) { Assert.Empty(history); continue; }
            // Here both files touch an edge of the one science segment: 8 s of padding there are read, not cleaned.
            var lost = span.Start > input.Start ? new Segment(input.Start, span.Start) : new Segment(span.End, input.End);
            Assert.True(lost.Start == science.Start || lost.End == science.End, $"{f}: shorter than its input file {input} away from a segment edge");
            var h = Assert.Single(history);
            Assert.Equal($"samples [{lost.Start}, {lost.End}) not cleaned: within 8 s of the science segment's edge", h.Comment[..h.Comment.IndexOf(" (", StringComparison.Ordinal)]);
        }

        string cachePath = Path.Combine(run, "out", "cleaned", "H1.lcf");
        var cache = FrameCache.Read(cachePath);
        Assert.Equal(cleanedFiles.Select(f => FrameFileName.TryParse(f)!.Span), cache.Entries.Select(e => e.Span));
        var segments = SegmentFile.Read(Path.Combine(run, "out", "cleaned", "H1-cleaned-segments.txt"));
        Assert.Equal("[[1000000008, 1000000056)]", segments.ToString());
        const string channel = "H1:GDS-CALIB_STRAIN_DEEPCLEAN";
        var all = new List<double>();
        foreach (var s in segments)
        {
            var data = await new FrameSource(cache).ReadAsync([channel], s);
            Assert.Empty(data.Gaps);
            all.AddRange(data[channel].Samples.ToArray());
        }
        var perFile = new List<double>();
        foreach (var e in cache.Entries) perFile.AddRange((await new FrameSource(new FrameCache([e])).ReadAsync([channel], e.Span))[channel].Samples.ToArray());
        Assert.Equal(4096 * 48, all.Count);
        Assert.Equal(perFile, all);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "report", "summary.json")));
        var h1 = summary.RootElement.GetProperty("runs")[0].GetProperty("coverage").EnumerateArray().First(c => c.GetProperty("ifo").GetString() == "H1");
        Assert.Equal(segments.TotalDuration.TotalSeconds, h1.GetProperty("cleaned_seconds").GetDouble());
        Assert.Equal(64, h1.GetProperty("analyzable_seconds").GetDouble());
        Assert.Equal(16, h1.GetProperty("segment_edge_seconds").GetDouble());
        Assert.Equal(0, h1.GetProperty("failed_job_seconds").GetDouble());
        Assert.Contains("| tiny | H1 | 64 | 48 | 16 | 0 | 2 | cleaned/H1.lcf | cleaned/H1-cleaned-segments.txt |", File.ReadAllText(Path.Combine(run, "report", "report.md")));

        string[] names = ["cleaned/H1.lcf", "cleaned/L1.lcf", "cleaned/H1-cleaned-segments.txt", "cleaned/L1-cleaned-segments.txt", "scores/index.lcf"];
        Assert.Equal(2, FrameCache.Read(Path.Combine(run, "out", "scores", "index.lcf")).Entries.Count);
        return names.Select(n => (n, File.ReadAllBytes(Path.Combine(run, "out", n)))).ToList();
    }
}
