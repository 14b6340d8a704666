using GwReprocess.Data;
using GwReprocess.Dsp;
using GwReprocess.Frames;
using GwReprocess.Jobs;
using GwReprocess.Models;
using GwReprocess.Tests.Cli;
using GwReprocess.Time;
using GwReprocess.Workflow;
using PureHDF;

namespace GwReprocess.Tests.Jobs;

/// <summary>Issue 9's acceptance: gwrepro client against gwrepro serve on loopback, gwe2e with fitted Wiener cleaners.</summary>
[Collection(ClientRunCollection.Name)]
public sealed class ClientEndToEndTests(ClientRunFixture run)
{
    [Fact]
    public async Task Cleans_the_mains_line_keeps_the_floor_and_matches_one_shot_application()
    {
        var (outDir, plan, r) = await run.ReferenceRunAsync();
        Assert.True(r.ExitCode == 0, r.StdErr);
        var job = plan.Jobs[0];
        // Core [T+648, T+728): the 32 s input files cut it into three output frames.
        Segment[] frames = [new(1_000_000_648, 1_000_000_672), new(1_000_000_672, 1_000_000_704), new(1_000_000_704, 1_000_000_728)];
        foreach (var f in frames)
        {
            foreach (var ifo in new[] { "H1", "L1" })
                Assert.True(File.Exists(Path.Combine(outDir, "cleaned", ifo, $"{ifo[0]}-{ifo}_CLEAN-{f.Start}-{f.Duration}.gwf")), $"{ifo} {f}");
            Assert.True(File.Exists(Path.Combine(outDir, "scores", $"H1L1-CLEAN_SCORES-{f.Start}-{f.Duration}.h5")));
            Assert.True(File.Exists(Path.Combine(outDir, "progress", job.Name, $"{f.Start}-{f.Duration}")));
        }
        Assert.True(File.Exists(Path.Combine(outDir, "done", job.Name)));
        Assert.Equal(3, r.StdErr.Split('\n').Count(l => l.Contains("committed frame", StringComparison.Ordinal)));
        var metrics = JobMetricsCsv.Read(Path.Combine(outDir, "metrics", job.Name + ".csv"));
        Assert.NotEmpty(metrics);
        Assert.Equal(80, metrics.Sum(m => m.DataSeconds), 6);
        Assert.Equal(metrics.Sum(m => m.RequestsSent), metrics.Sum(m => m.Responses));
        // Every request carries [1, 44, 2048] float32 (0.5 s of 44 channels); the stream covers the padded 96 s less the settling second.
        Assert.Equal(190, metrics.Sum(m => m.RequestsSent));
        Assert.InRange(metrics.Sum(m => m.BytesSent), 190L * 44 * 2048 * 4, 190L * 44 * 2048 * 4 * 101 / 100);
        Assert.True(metrics.Sum(m => m.BytesReceived) >= 190L * 2 * 8 * 4096 * 4);

        foreach (var ifo in new[] { "H1", "L1" })
        {
            var strain = new ChannelName($"{ifo}:GDS-CALIB_STRAIN");
            var cleanedSource = await FrameSource.FromFilesAsync(frames.Select(f => Path.Combine(outDir, "cleaned", ifo, $"{ifo[0]}-{ifo}_CLEAN-{f.Start}-{f.Duration}.gwf")));
            var cleaned = (await cleanedSource.ReadAsync([strain.Value + "_DEEPCLEAN"], job.Core)).Channels[0];
            Assert.Equal(4096, cleaned.SampleRate.Hertz);
            Assert.Equal(80 * 4096, cleaned.Length);

            // Independent one-shot reference: whole-span resampling, the fitted FIR over the whole span, one band-pass.
            var source = new FrameSource(FrameCache.Read(Path.Combine(run.Frames, $"{ifo}.lcf")));
            var cleaner = run.Cleaners[ifo];
            var data = await source.ReadAsync([strain.Value, .. cleaner.Witnesses.Select(w => w.Value)], job.Padded);
            var at4096 = TimeSeriesSignal.ResampleAll(data.Channels, SampleRate.Processing);
            var standardised = new List<ReadOnlyMemory<double>>();
            for (int c = 0; c < cleaner.Witnesses.Count; c++)
            {
                var s = cleaner.Scaling[c];
                standardised.Add(at4096[c + 1].Samples.ToArray().Select(x => (float)((x - s.Mean) / s.Scale) * 1.0).ToArray());
            }
            var noise = at4096[0].WithSamples(WienerFit.Predict(cleaner.Fir, standardised)).Bandpass(15, 500).Samples.Span;
            int pad = 8 * 4096, n = cleaned.Length;
            var raw = at4096[0].Samples.Span.Slice(pad, n);
            var streamedNoise = new double[n];
            double worst = 0, peak = 0;
            for (int i = 0; i < n; i++)
            {
                streamedNoise[i] = raw[i] - cleaned.Samples.Span[i];
                worst = Math.Max(worst, Math.Abs(streamedNoise[i] - noise[pad + i]));
                peak = Math.Max(peak, Math.Abs(noise[pad + i]));
            }
            Assert.True(worst <= 1e-4 * peak, $"{ifo}: streamed noise differs from one-shot by {worst:G3} (peak {peak:G3}, relative {worst / peak:G3})");

            // ASD ratio over the 80 s core, 4 s segments (0.25 Hz bins, as the report uses), 50 % overlap, median; the floor is
            // judged on 1 Hz bands (mean of the four bins) so it reads like the issue's per-Hz tolerance.
            var before = Welch.Asd(raw, 4096, 4 * 4096, 2 * 4096);
            var after = Welch.Asd(cleaned.Samples.Span, 4096, 4 * 4096, 2 * 4096);
            double Ratio(double f) => after.Values.Span[(int)Math.Round(4 * f)] / before.Values.Span[(int)Math.Round(4 * f)];
            double Band(int f)
            {
                double a = 0, b = 0;
                for (int k = 4 * f - 2; k < 4 * f + 2; k++) { a += after.Values.Span[k] * after.Values.Span[k]; b += before.Values.Span[k] * before.Values.Span[k]; }
                return Math.Sqrt(a / b);
            }
            Assert.True(Ratio(60) <= 0.05, $"{ifo} 60 Hz: ASD(cleaned)/ASD(raw) = {Ratio(60):F4}");
            bool NearLine(double f) => Enumerable.Range(1, 5).Any(k => Math.Abs(f - 60 * k) <= 1.5) || (f > 50 && f < 80);
            var outside = new List<string>();
            for (int f = 20; f <= 500; f++)
                if (!NearLine(f) && Math.Abs(Band(f) - 1) > 0.10) outside.Add($"{f} Hz: {Band(f):F3}");
            Assert.True(outside.Count == 0, $"{ifo}: 1 Hz bands outside ±10 % in 20–500 Hz away from the lines: {string.Join(", ", outside)}");
        }

        // Scores: one per window at r = 16 Hz, t0 = end of the first window in the frame, window_seconds = K/fs; every injection
        // in the core has the window ending just after its coalescence in the file covering it.
        foreach (var f in frames)
        {
            string path = Path.Combine(outDir, "scores", $"H1L1-CLEAN_SCORES-{f.Start}-{f.Duration}.h5");
            using var h5 = H5File.OpenRead(path);
            Assert.Equal(1.0, h5.Attribute("window_seconds").Read<double>());
            var ds = h5.Dataset("H1L1:BBH_SCORE");
            Assert.Equal((f.Start + GpsDuration.FromNanoseconds(62_500_000)).TotalSeconds, ds.Attribute("t0").Read<double>(), 9);
            Assert.Equal(16.0, ds.Attribute("sample_rate").Read<double>());
            var scores = ds.Read<double[]>();
            Assert.Equal((int)(f.Duration.TotalSeconds * 16), scores.Length);
            Assert.All(scores, s => Assert.True(double.IsFinite(s) && s >= 0 && s <= 1));
        }
        var injections = run.Simulated.Injections.Where(i => job.Core.Contains(i.GeocentTime)).ToList();
        Assert.NotEmpty(injections);
        foreach (var inj in injections)
        {
            var f = frames.Single(x => x.Contains(inj.GeocentTime));
            long index = (long)Math.Floor((inj.GeocentTime - f.Start).TotalSeconds * 16); // the window ending at t0 + index/16 ≥ t_c
            Assert.InRange(index, 0, (long)(f.Duration.TotalSeconds * 16) - 1);
        }
    }
}
