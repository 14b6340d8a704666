using GwReprocess.IO;
using GwReprocess.Tests.Cli;
using GwReprocess.Tests.IO;
using Xunit.Abstractions;

namespace GwReprocess.Tests.Jobs;

/// <summary>gwrepro client writing to a filesystem that fills mid-run: one line, no partial output, and a rerun after space is freed completes identically.</summary>
[Collection(ClientRunCollection.Name)]
public sealed class ClientDiskFullTests(ClientRunFixture run, ITestOutputHelper output)
{
    private static SortedDictionary<string, byte[]> Outputs(string outDir) => ClientRunDirectory.Files(outDir, "cleaned", "scores");

    [Fact]
    public async Task A_full_output_filesystem_stops_the_job_with_one_line_and_a_rerun_after_freeing_space_writes_identical_bytes()
    {
        var reference = await run.ReferenceRunAsync();
        Assert.True(reference.Result.ExitCode == 0, reference.Result.StdErr);
        var expected = Outputs(reference.Out);
        Assert.Equal(9, expected.Count);
        // Room for the first frame's outputs and part of the second's: the second frame's first cleaned file cannot fit.
        var frames = expected.Keys.Select(k => k.Split('-')[^2]).Distinct().Order(StringComparer.Ordinal).ToList();
        long first = expected.Where(e => e.Key.Contains(frames[0], StringComparison.Ordinal)).Sum(e => (long)e.Value.Length);
        long secondSmallest = expected.Where(e => e.Key.Contains(frames[1], StringComparison.Ordinal) && e.Key.EndsWith(".gwf", StringComparison.Ordinal)).Min(e => (long)e.Value.Length);
        Assert.True(secondSmallest > 256 * 1024, $"a cleaned frame is only {secondSmallest} bytes; the filesystem size below needs larger frames");
        long sizeKiB = (first + 128 * 1024) / 1024;

        var (workflow, jobs, plan) = await run.RunDirectoryAsync("disk-full");
        string outDir = Path.Combine(Path.GetDirectoryName(workflow)!, "out");
        await using var mount = await TmpfsMount.MountAsync(outDir, sizeKiB);
        var full = await GwreproProcess.RunAsync(run.ClientArguments(workflow, jobs, plan), timeout: TimeSpan.FromMinutes(4));
        Assert.True(full.ExitCode == 1, $"exit {full.ExitCode}: {full.StdErr}");
        var errors = full.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("gwrepro client:", StringComparison.Ordinal)).ToList();
        var message = Assert.Single(errors);
        output.WriteLine(message);
        Assert.Matches(@"^gwrepro client: writing /\S+/out/\S+: No space left on device$", message);
        Assert.DoesNotContain("   at ", full.StdErr);
        Assert.DoesNotContain("--verbose", full.StdErr);

        // Only whole outputs under final names, each identical to the undisturbed run's; no temporaries; the first frame committed, no done marker.
        var written = Outputs(outDir);
        Assert.NotEmpty(written);
        foreach (var (key, bytes) in written) Assert.True(bytes.AsSpan().SequenceEqual(expected[key]), $"{key} is not the undisturbed run's file");
        Assert.DoesNotContain(Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories), f => AtomicFile.IsTemporaryName(Path.GetFileName(f)));
        string progress = Path.Combine(outDir, "progress", plan.Jobs[0].Name);
        var committed = Directory.EnumerateFiles(progress).Select(Path.GetFileName).ToList();
        Assert.Equal([$"{frames[0]}-24"], committed);
        Assert.False(File.Exists(Path.Combine(outDir, "done", plan.Jobs[0].Name)));
        var stamp = File.ReadAllText(Path.Combine(progress, committed[0]!));
        var firstFiles = written.Keys.Where(k => k.Contains(frames[0], StringComparison.Ordinal)).ToDictionary(k => k, k => File.GetLastWriteTimeUtc(Path.Combine(outDir, k)));

        // Space freed: the rerun resumes after the committed frame and ends with the undisturbed run's bytes.
        await mount.ResizeAsync(64 * 1024);
        await Task.Delay(50); // so that a rewritten file would show a later modification time
        var r = await GwreproProcess.RunAsync(run.ClientArguments(workflow, jobs, plan), timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("1 of 3 frame(s) already committed; resuming", r.StdErr);
        Assert.Equal(stamp, File.ReadAllText(Path.Combine(progress, committed[0]!)));
        foreach (var (key, time) in firstFiles) Assert.Equal(time, File.GetLastWriteTimeUtc(Path.Combine(outDir, key)));
        var actual = Outputs(outDir);
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{key} differs from the undisturbed run");
        Assert.True(File.Exists(Path.Combine(outDir, "done", plan.Jobs[0].Name)));
    }
}
