using GwReprocess.Frames.Gwf;
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
        string frames = Path.Combine(run.Root, "frames-gap-fill");
        Directory.CreateDirectory(frames);
        foreach (var f in Directory.EnumerateFiles(run.Frames))
        {
            string target = Path.Combine(frames, Path.GetFileName(f));
            if (f.EndsWith(".lcf", StringComparison.Ordinal)) File.WriteAllText(target, File.ReadAllText(f).Replace(run.Frames, frames, StringComparison.Ordinal));
            else File.Copy(f, target);
        }
        const string bad = "H1:ASC-PRC2_P_INMON";
        string victim = Path.Combine(frames, "H-H1_SIM-1000000672-32.gwf");
        GwfFrameData rewritten;
        await using (var file = await GwfFile.OpenAsync(victim))
        {
            var channels = new List<GwfChannelData>();
            foreach (var name in file.ChannelNames)
            {
                var s = await file.ReadAsync(name);
                var samples = s.Samples.ToArray();
                if (name == bad) samples.AsSpan(samples.Length / 2).Fill(double.NaN);
                channels.Add(GwfChannelData.FromSeries(s.WithSamples(samples), file.KindOf(name)));
            }
            rewritten = new GwfFrameData(file.Span.Start, file.Span.Duration, channels);
        }
        await GwfWriter.WriteFileAsync(victim, [rewritten]);

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
