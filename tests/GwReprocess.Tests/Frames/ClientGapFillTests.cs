using GwReprocess.Tests.Cli;
using GwReprocess.Tests.Jobs;

namespace GwReprocess.Tests.Frames;

/// <summary><c>gwrepro client</c> with <c>[data] gaps = "zero"</c>: a witness gone NaN is filled, the job completes, and one line names the filled seconds.</summary>
[Collection(ClientRunCollection.Name)]
public sealed class ClientGapFillTests(ClientRunFixture run)
{
    [Fact]
    public async Task A_zero_filled_gap_is_logged_once_per_file_and_the_job_completes()
    {
        // A copy of the simulated frames in which one H1 witness is NaN over the second half of one 32 s file.
        const string bad = "H1:ASC-PRC2_P_INMON";
        var (frames, victim) = await run.FramesWithNanHalfAsync("frames-gap-fill", bad, "H-H1_SIM-1000000672-32.gwf");

        var (workflow, jobs, plan) = await run.RunDirectoryAsync("gap-fill", frames: frames);
        string text = await File.ReadAllTextAsync(workflow);
        Assert.Contains("[data]\n", text);
        await File.WriteAllTextAsync(workflow, text.Replace("[data]\n", "[data]\ngaps = \"zero\"\n", StringComparison.Ordinal));
        var r = await GwreproProcess.RunAsync(run.ClientArguments(workflow, jobs, plan), timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.StdErr);
        var lines = r.StdErr.Split('\n').Where(l => l.Contains("gaps filled with zeros", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.EndsWith($"{victim}: gaps filled with zeros ([data] gaps = \"zero\"): {bad} 16 s in 1 span(s) [1000000688, 1000000704)", line.TrimEnd());
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(workflow)!, "out", "done", plan.Jobs[0].Name)));
    }
}
