using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Frames;

namespace GwReprocess.Tests.Jobs;

/// <summary>gwrepro client reading a frame whose dictionary checksum fails: one warning and identical outputs, or exit 2 when strict.</summary>
[Collection(ClientRunCollection.Name)]
public sealed class ClientChecksumWarningTests(ClientRunFixture run)
{
    [Fact]
    public async Task A_bad_dictionary_checksum_is_one_warning_line_and_strict_checksums_or_strict_make_it_exit_2()
    {
        // A copy of the frames in which one H1 input file has a damaged FrSE (a field name of the dictionary).
        string frames = Path.Combine(run.Root, "frames-bad-dictionary");
        Directory.CreateDirectory(frames);
        foreach (var f in Directory.EnumerateFiles(run.Frames))
        {
            string target = Path.Combine(frames, Path.GetFileName(f));
            if (f.EndsWith(".lcf", StringComparison.Ordinal)) File.WriteAllText(target, File.ReadAllText(f).Replace(run.Frames, frames, StringComparison.Ordinal));
            else File.Copy(f, target);
        }
        string victim = Path.Combine(frames, "H-H1_SIM-1000000672-32.gwf");
        long offset = await GwfChecksumWarningTests.DamageFirstAsync(victim, "FrSE");

        var reference = await run.ReferenceRunAsync();
        Assert.True(reference.Result.ExitCode == 0, reference.Result.StdErr);
        var (outDir, _, r) = await run.RunClientAsync("bad-dictionary", frames: frames);
        Assert.True(r.ExitCode == 0, r.StdErr);
        var warning = Assert.Single(r.StdErr.Split('\n'), l => l.StartsWith("gwrepro client:", StringComparison.Ordinal));
        Assert.StartsWith($"gwrepro client: warning: {victim}: FrSE at byte {offset}: checksum mismatch (stored 0x", warning);
        Assert.EndsWith("; the data does not depend on it and was read", warning);
        var expected = ClientRunDirectory.Files(reference.Out, "cleaned", "scores");
        var actual = ClientRunDirectory.Files(outDir, "cleaned", "scores");
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (key, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[key]), $"{key} differs from the undisturbed run");

        // [data] strict_checksums = true, and --strict, turn the warning into exit 2 with one line naming file, structure and offset.
        var (workflow, jobs, plan) = await run.RunDirectoryAsync("bad-dictionary-strict", frames: frames);
        File.WriteAllText(workflow, File.ReadAllText(workflow).Replace("[data]\n", "[data]\nstrict_checksums = true\n", StringComparison.Ordinal));
        var (plainWorkflow, plainJobs, plainPlan) = await run.RunDirectoryAsync("bad-dictionary-flag", frames: frames);
        foreach (var args in new[] { run.ClientArguments(workflow, jobs, plan), [.. run.ClientArguments(plainWorkflow, plainJobs, plainPlan), "--strict"] })
        {
            var strict = await GwreproProcess.RunAsync(args, timeout: TimeSpan.FromMinutes(4));
            Assert.True(strict.ExitCode == 2, $"exit {strict.ExitCode}: {strict.StdErr}");
            var error = Assert.Single(strict.StdErr.Split('\n'), l => l.StartsWith("gwrepro client:", StringComparison.Ordinal));
            Assert.StartsWith($"gwrepro client: {victim}: FrSE at byte {offset}: checksum mismatch (stored 0x", error);
            Assert.EndsWith("; the file is corrupt", error);
            Assert.DoesNotContain("   at ", strict.StdErr);
        }
    }
}
