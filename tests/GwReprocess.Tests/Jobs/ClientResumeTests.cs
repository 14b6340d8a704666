using GwReprocess.Data;
using GwReprocess.IO;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;

namespace GwReprocess.Tests.Jobs;

/// <summary>gwrepro client killed and rerun, and stopped by bad input: outputs are complete, identical and never half-written.</summary>
[Collection(ClientRunCollection.Name)]
public sealed class ClientResumeTests(ClientRunFixture run)
{
    private static readonly string[] Ifos = ["H1", "L1"];

    /// <summary>Every output file (cleaned frames and scores) under a run's output directory, by relative path.</summary>
    private static SortedDictionary<string, byte[]> Outputs(string outDir)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var sub in new[] { "cleaned", "scores" })
        {
            string dir = Path.Combine(outDir, sub);
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                files[Path.GetRelativePath(outDir, f)] = File.ReadAllBytes(f);
        }
        return files;
    }

    [Fact]
    public async Task A_killed_client_resumes_without_recomputing_committed_frames_and_writes_identical_bytes()
    {
        var reference = await run.ReferenceRunAsync();
        Assert.True(reference.Result.ExitCode == 0, reference.Result.StdErr);
        var expected = Outputs(reference.Out);
        Assert.Equal(9, expected.Count);

        var (workflow, jobs, plan) = await run.RunDirectoryAsync("killed");
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        string progress = Path.Combine(outDir, "progress", plan.Jobs[0].Name);
        // Killed (SIGKILL, as a preempted job dies) right after its first committed frame, while the stream is in full flow.
        var killed = await GwreproProcess.RunAsync(run.ClientArguments(workflow, jobs, plan), null,
            new Dictionary<string, string?> { ["GWREPRO_CLIENT_KILL_AFTER_FRAMES"] = "1" }, TimeSpan.FromMinutes(4));
        Assert.True(killed.ExitCode != 0, killed.StdErr);
        var committed = Directory.EnumerateFiles(progress).Select(Path.GetFileName).ToList();
        Assert.Single(committed);
        Assert.False(File.Exists(Path.Combine(outDir, "done", plan.Jobs[0].Name)));
        // The killed process never leaves a file that looks complete but is not: only whole outputs, or temporaries.
        Assert.All(Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories), f => Assert.True(
            AtomicFile.IsTemporaryName(Path.GetFileName(f)) || !f.EndsWith(".gwf", StringComparison.Ordinal) || expected.ContainsKey(Path.GetRelativePath(outDir, f)), f));
        var stamps = committed.ToDictionary(c => c!, c => File.ReadAllText(Path.Combine(progress, c!)));
        var before = Outputs(outDir).Keys.ToDictionary(k => k, k => File.GetLastWriteTimeUtc(Path.Combine(outDir, k)));

        await Task.Delay(50); // so that a rewritten file would show a later modification time
        var r = await GwreproProcess.RunAsync(run.ClientArguments(workflow, jobs, plan), timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains($"{committed.Count} of 3 frame(s) already committed; resuming", r.StdErr);
        Assert.Equal(3 - committed.Count, r.StdErr.Split('\n').Count(l => l.Contains("committed frame", StringComparison.Ordinal)));

        // Committed frames were not recomputed: same markers, same files untouched.
        foreach (var (name, stamp) in stamps) Assert.Equal(stamp, File.ReadAllText(Path.Combine(progress, name)));
        foreach (var c in committed)
        {
            string span = c!; // "<start>-<duration>"
            foreach (var (key, time) in before.Where(b => b.Key.Contains(span, StringComparison.Ordinal)))
                Assert.Equal(time, File.GetLastWriteTimeUtc(Path.Combine(outDir, key)));
        }
        var actual = Outputs(outDir);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{key} differs from the undisturbed run");
        Assert.True(File.Exists(Path.Combine(outDir, "done", plan.Jobs[0].Name)));

        // A third run finds the job done and does nothing.
        var again = await GwreproProcess.RunAsync(run.ClientArguments(workflow, jobs, plan), timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("already done", again.StdErr);
    }

    [Fact]
    public async Task A_bad_channel_in_the_second_frame_stops_with_exit_2_naming_it_after_committing_only_whole_frames()
    {
        // A copy of the frames in which one H1 witness turns to NaN inside the second output frame's file.
        const string bad = "H1:ASC-PRC2_P_INMON";
        var (frames, _) = await run.FramesWithNanHalfAsync("frames-bad", bad, "H-H1_SIM-1000000672-32.gwf");

        var (outDir, plan, r) = await run.RunClientAsync("bad-channel", h1Witnesses: null, extra: null, frames: frames);
        Assert.True(r.ExitCode == 2, r.StdErr);
        var lines = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("gwrepro client:", StringComparison.Ordinal)).ToList();
        var message = Assert.Single(lines);
        Assert.Contains(bad, message);
        Assert.Contains("non-finite", message);

        // Only the first frame is there, whole and committed; nothing of the second; no done marker, no temporaries.
        var reference = Outputs((await run.ReferenceRunAsync()).Out);
        var written = Outputs(outDir);
        Assert.Equal(3, written.Count);
        foreach (var (key, bytes) in written)
        {
            Assert.Contains("-1000000648-24", key);
            Assert.True(bytes.AsSpan().SequenceEqual(reference[key]), key);
        }
        Assert.Equal(["1000000648-24"], Directory.EnumerateFiles(Path.Combine(outDir, "progress", plan.Jobs[0].Name)).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(outDir, "done")));
        Assert.DoesNotContain(Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories), f => AtomicFile.IsTemporaryName(Path.GetFileName(f)));
    }

    [Fact]
    public async Task A_workflow_listing_witnesses_in_another_order_than_the_model_is_refused_with_exit_2()
    {
        var witnesses = ClientRunFixture.WitnessNames.Select(n => "H1:" + n).ToList();
        (witnesses[1], witnesses[2]) = (witnesses[2], witnesses[1]);
        var (outDir, _, r) = await run.RunClientAsync("swapped", h1Witnesses: witnesses);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"witness 1 is H1:{ClientRunFixture.WitnessNames[1]}, the workflow lists {witnesses[1]}", r.StdErr);
        Assert.False(Directory.Exists(Path.Combine(outDir, "cleaned")));
    }

    [Fact]
    public async Task Padding_shorter_than_the_window_is_refused_with_exit_2()
    {
        var (workflow, _, _) = await run.RunDirectoryAsync("short-padding");
        var r = await GwreproProcess.RunAsync(["client", "--workflow", workflow, "--start", "1000000648", "--end", "1000000672", "--padding", "0.5",
            "--server", run.ServerAddress], timeout: TimeSpan.FromMinutes(1));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("padding 0.5 s is shorter than the model's window K/fs = 1 s", r.StdErr);
    }
}
